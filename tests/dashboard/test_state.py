"""Page state from the query string: defaults, bad values named, nothing offered without values."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest

from carekpi import warehouse as wh
from dashboard import queries
from dashboard.state import (
    Choices,
    PageState,
    choices_from,
    from_query,
    kpi_label,
    kpi_options,
    to_query,
)
from kpi.catalogue import get_kpi, load_catalogue

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def _coverage(*entries: tuple[str, str, int]) -> pd.DataFrame:
    """kpi_id, form, n_values for every month of 2025."""
    return pd.DataFrame([{"kpi_id": k, "form": f, "period": p, "n_values": n}
                         for k, f, n in entries for p in MONTHS])


ORGS = pd.DataFrame({"org_code": ["E09000099", "U12345", "F84003", "F84004"],
                     "level": ["place", "network", "practice", "practice"],
                     "org_name": ["Hartwell", "North PCN", "Oak Surgery", None]})


@pytest.fixture
def choices() -> Choices:
    cover = _coverage(("ea_rate", "month", 40), ("dtoc_rate", "month", 9),
                      ("cp_diabetes_smoking_status", "month", 40),
                      ("reablement_home_91", "month", 0),  # rows, but every value null
                      ("care_home_admissions_65_12m", "month", 5),  # the wrong form
                      ("not_in_catalogue", "month", 3))
    return choices_from(cover, ORGS, areas=["E09000099"])


def test_choices_offer_only_what_has_values(choices):
    assert choices.kpis == ("cp_diabetes_smoking_status", "ea_rate", "dtoc_rate")
    assert choices.months == tuple(MONTHS) and choices.latest_month == "2025-12"
    assert set(choices.orgs) == {"E09000099", "U12345", "F84003", "F84004"}
    assert choices.orgs["F84004"].label == "F84004"
    assert choices.orgs["F84003"].label == "Oak Surgery (F84003)"


def test_the_rolling_kpi_is_offered_when_its_rolling_form_has_values():
    cover = _coverage(("care_home_admissions_65", "month", 9),
                      ("care_home_admissions_65_12m", "rolling12", 9))
    choices = choices_from(cover, ORGS)
    assert "care_home_admissions_65_12m" in choices.kpis
    state = from_query(choices, kpi="care_home_admissions_65_12m")
    assert state.form == "rolling12" and state.messages == ()
    assert from_query(choices, kpi="care_home_admissions_65").form == "month"


def test_defaults_are_the_headline_kpi_the_area_and_the_latest_month(choices):
    state = from_query(choices)
    assert state == PageState(kpi="ea_rate", org="E09000099", month="2025-12", peer="network")
    assert state.messages == ()


@pytest.mark.parametrize(("params", "message"), [
    ({"kpi": "nope"}, "KPI 'nope' is not a KPI of this dashboard: showing Emergency admissions."),
    ({"kpi": "reablement_home_91"}, "KPI 'reablement_home_91' (At home 91 days after reablement) "
     "has no values in this warehouse: showing Emergency admissions."),
    ({"org": "Q99999"}, "Organisation 'Q99999' has no values in this warehouse: showing "
     "Hartwell (E09000099)."),
    ({"compare": "Q1"}, "Comparison 'Q1' has no values in this warehouse."),
    ({"month": "2031-01"}, "Month '2031-01' has no data: the data run from Jan 2025 to Dec 2025. "
     "Showing Dec 2025, the latest month."),
    ({"month": "March"}, "Month 'March' is not a month in the form YYYY-MM (for example 2026-10). "
     "Showing Dec 2025, the latest month."),
    ({"month": "2025-13"}, "Month '2025-13' is not a month in the form YYYY-MM (for example "
     "2026-10). Showing Dec 2025, the latest month."),
    ({"peer": "club"}, "Peer group 'club' is not one of network, area, size: showing 'network' "
     "(Practices in the same network)."),
])
def test_a_bad_value_is_named_never_silently_replaced(choices, params, message):
    state = from_query(choices, **params)
    assert state.messages == (message,)
    assert (state.kpi, state.org, state.month, state.peer) == (
        "ea_rate", "E09000099", "2025-12", "network")


def test_good_values_are_kept_and_a_lower_case_code_is_read_as_the_code(choices):
    state = from_query(choices, kpi="dtoc_rate", org="f84003", month="2025-03", peer="size",
                       compare="U12345", tab="ignored")
    assert state == PageState(kpi="dtoc_rate", org="F84003", month="2025-03", peer="size",
                              compare="U12345")
    assert state.messages == ()


def test_blank_values_mean_the_default_without_a_message(choices):
    state = from_query(choices, kpi="", org="  ", month=None)
    assert (state.kpi, state.org, state.messages) == ("ea_rate", "E09000099", ())


def test_to_query_round_trips_and_leaves_out_defaults(choices):
    state = from_query(choices, kpi="dtoc_rate", org="U12345", month="2025-04", peer="area")
    query = to_query(state)
    assert query == "?kpi=dtoc_rate&org=U12345&month=2025-04&peer=area"
    assert from_query(choices, **dict(parse_qsl(urlsplit(query).query))) == state
    assert to_query(state, ("org", "month"), org="F84003") == "?org=F84003&month=2025-04"
    assert to_query(from_query(choices), ("org", "peer")) == "?org=E09000099"
    assert to_query(PageState(kpi=None, org=None, month=None)) == ""


def test_labels_are_unique_and_element_kpis_name_their_package():
    labels = [kpi_label(k) for k in load_catalogue()]
    assert len(labels) == len(set(labels))
    assert kpi_label(get_kpi("cp_diabetes_smoking_status")) == "Diabetes: smoking status"
    assert kpi_label(get_kpi("cp_copd_smoking_status")) == "COPD: smoking status"
    assert kpi_label(get_kpi("cp_diabetes_hba1c")) == "Diabetes: HbA1c"
    assert kpi_label(get_kpi("cp_childhood_imms_mmr1_24m")) == (
        "Childhood immunisations: MMR dose 1 by 24 months")
    assert kpi_label(get_kpi("ea_rate")) == "Emergency admissions"


def test_kpi_options_list_only_offered_kpis(choices):
    assert kpi_options(choices) == [
        {"label": "Diabetes: smoking status", "value": "cp_diabetes_smoking_status"},
        {"label": "Emergency admissions", "value": "ea_rate"},
        {"label": "Delayed transfers of care", "value": "dtoc_rate"}]


def test_coverage_queries_count_only_values(warehouse):
    """The warehouse side of the choices, on SQLite and PostgreSQL."""
    orgs = pd.DataFrame({"org_code": ["P1", "P2", "N1"], "level": ["practice", "practice",
                                                                   "network"],
                         "org_name": ["One", "Two", "Net"]})
    mart = pd.DataFrame({"kpi_id": ["ea_rate", "ea_rate", "ea_rate", "dtoc_rate"],
                         "org_code": ["P1", "P2", "P1", "N1"],
                         "period": ["2025-01", "2025-01", "2025-02", "2025-01"],
                         "form": "month", "level": ["practice", "practice", "practice",
                                                    "network"],
                         "value": [1.5, None, 2.0, None], "provisional": False,
                         "carried_forward": False, "suppressed": False})
    with warehouse.begin() as conn:
        wh.bulk_insert(conn, wh.organisation, orgs)
        wh.bulk_insert(conn, wh.kpi_mart, mart)
    queries.configure(warehouse)
    cover = queries.kpi_coverage().sort_values(["kpi_id", "period"]).reset_index(drop=True)
    assert cover.to_dict("records") == [
        {"kpi_id": "dtoc_rate", "form": "month", "period": "2025-01", "n_values": 0},
        {"kpi_id": "ea_rate", "form": "month", "period": "2025-01", "n_values": 1},
        {"kpi_id": "ea_rate", "form": "month", "period": "2025-02", "n_values": 1}]
    assert queries.organisations_with_values()["org_code"].tolist() == ["P1"]
    choices = choices_from(cover, queries.organisations_with_values())
    assert choices.kpis == ("ea_rate",) and list(choices.orgs) == ["P1"]
