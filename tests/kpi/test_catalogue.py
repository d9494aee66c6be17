"""The KPI catalogue: every KPI of kpis.md is there, well formed, and docs/kpis.md is current."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kpi.catalogue import (
    CatalogueError,
    get_kpi,
    kpis_by_family,
    load_catalogue,
    read_catalogue,
    render_markdown,
)

REPO = Path(__file__).resolve().parents[2]

# The ids of kpis.md's table, written out here independently of the TOML file.
HEADLINE_IDS = {
    "cp_diabetes_complete", "cp_cvd_complete", "cp_copd_complete", "cp_childhood_imms_complete",
    "cp_diabetes_targets_all3", "ea_rate", "ea_rate_65", "ea_acsc_rate", "dtoc_rate",
    "dtoc_social_care_share", "los_mean_emergency", "los_21plus_share_65", "ea_bed_days_65",
    "los_long_stay_bed_share_65", "reablement_home_91", "reablement_no_further_support",
    "care_home_admissions_65", "care_home_admissions_65_12m",
}
DIABETES_ELEMENTS = [
    "hba1c", "blood_pressure", "cholesterol", "serum_creatinine", "urine_albumin",
    "foot_surveillance", "bmi", "smoking_status", "retinal_screening", "care_plan",
    "structured_education",
]


def test_every_kpi_of_the_spec_is_in_the_catalogue():
    ids = {k.id for k in load_catalogue()}
    assert HEADLINE_IDS <= ids
    assert {f"cp_diabetes_{e}" for e in DIABETES_ELEMENTS} <= ids
    # Nothing else but element drilldowns of the four packages and the standardised ratios
    # of the three standardisable KPIs (kpis.md, "Fair comparison for age and sex").
    extra = ids - HEADLINE_IDS
    ratios = {i for i in extra if get_kpi(i).standardised_of}
    assert ratios == {"ea_rate_sr", "ea_rate_65_sr", "ea_acsc_rate_sr"}
    assert all(get_kpi(i).drilldown_of for i in extra - ratios)


def test_standardised_ratios_name_their_crude_kpi_and_standard():
    for crude in ("ea_rate", "ea_rate_65", "ea_acsc_rate"):
        ratio = get_kpi(crude + "_sr")
        assert ratio.standardised_of == crude and get_kpi(crude).standardisable
        assert (ratio.unit, ratio.multiplier, ratio.interval) == ("ratio x100", 100, "byar")
        assert ratio.levels == ("practice", "network") and ratio.polarity == "lower"
        assert ratio.numerator_measure == "observed_" + get_kpi(crude).numerator_measure
        assert ratio.denominator_measure == "expected_" + get_kpi(crude).numerator_measure
        assert "the area's" in ratio.definition and "England's" in ratio.definition


def test_ids_are_unique_and_lookups_agree():
    kpis = load_catalogue()
    assert len({k.id for k in kpis}) == len(kpis)
    assert get_kpi("ea_rate") is next(k for k in kpis if k.id == "ea_rate")
    assert load_catalogue() is load_catalogue()  # cached


def test_unknown_id_names_it():
    with pytest.raises(KeyError, match="no_such_kpi"):
        get_kpi("no_such_kpi")


@pytest.mark.parametrize(
    ("kpi_id", "unit", "multiplier", "polarity", "interval", "target", "arrives_at"),
    [
        ("cp_diabetes_complete", "%", 100, "higher", "wilson", 75.0, "practice"),
        ("ea_rate", "per 1,000", 1000, "lower", "byar", None, "practice"),
        ("ea_acsc_rate", "per 100,000", 100000, "lower", "byar", None, "practice"),
        ("dtoc_rate", "per 100,000", 100000, "lower", "byar", 9.4, "network"),
        ("los_mean_emergency", "days", 1, "lower", "mean_normal", None, "practice"),
        ("reablement_home_91", "%", 100, "higher", "wilson", 82.0, "network"),
        ("reablement_no_further_support", "%", 100, "higher", "wilson", 75.0, "network"),
        ("care_home_admissions_65_12m", "per 100,000", 100000, "lower", "byar", 600.0, "network"),
    ],
)
def test_spec_table_values(kpi_id, unit, multiplier, polarity, interval, target, arrives_at):
    k = get_kpi(kpi_id)
    assert (k.unit, k.multiplier, k.polarity, k.interval, k.default_target, k.arrives_at) == (
        unit, multiplier, polarity, interval, target, arrives_at,
    )


def test_measures_and_levels():
    assert get_kpi("ea_rate").numerator_measure == "emergency_admissions"
    assert get_kpi("ea_rate").denominator_measure == "registered_patients"
    assert get_kpi("los_mean_emergency").spread_measure == "emergency_length_sq_sum"
    assert get_kpi("ea_rate").levels == ("practice", "network", "place", "system")
    assert get_kpi("dtoc_rate").levels == ("network", "place", "system")
    assert get_kpi("dtoc_rate").per_day_of_month
    assert {k.id for k in load_catalogue() if k.standardisable} == {
        "ea_rate", "ea_rate_65", "ea_acsc_rate"}


def test_drilldowns_inherit_from_their_package():
    d = get_kpi("cp_diabetes_retinal_screening")
    assert (d.package, d.element, d.drilldown_of) == ("diabetes", "retinal_screening",
                                                      "cp_diabetes_complete")
    assert (d.unit, d.polarity, d.interval, d.default_target) == ("%", "higher", "wilson", None)
    for pkg in ("cvd", "copd", "childhood_imms"):
        assert sum(k.drilldown_of == f"cp_{pkg}_complete" for k in load_catalogue()) >= 5


def test_rolling_form_and_provisional_rule():
    assert get_kpi("care_home_admissions_65").rolling_12
    r = get_kpi("care_home_admissions_65_12m")
    assert (r.rolling_of, r.window_months, r.denominator_kind) == (
        "care_home_admissions_65", 12, "stock")
    k = get_kpi("reablement_home_91")
    # January 2024 ends on the 31st; 91 days later is 1 May 2024.
    assert k.is_provisional("2024-01", date(2024, 4, 30))
    assert not k.is_provisional("2024-01", date(2024, 5, 1))
    assert not get_kpi("ea_rate").is_provisional("2024-01", date(2024, 2, 1))


def test_families_group_in_order():
    fams = kpis_by_family()
    assert list(fams)[:2] == ["care_packages", "emergency_admissions"]
    assert sum(len(v) for v in fams.values()) == len(load_catalogue())
    assert {k.family for k in fams["length_of_stay"]} == {"length_of_stay"}


GOOD = """
[[kpi]]
id = "x_rate"
family = "emergency_admissions"
title = "X"
definition = "x"
numerator = "n"
denominator = "d"
numerator_measure = "n"
denominator_measure = "d"
unit = "per 1,000"
multiplier = 1000
polarity = "lower"
levels = ["practice", "network"]
arrives_at = "practice"
interval = "byar"
source = "s"
"""


def test_adding_an_entry_adds_a_kpi(tmp_path):
    path = tmp_path / "cat.toml"
    path.write_text(GOOD)
    (k,) = read_catalogue(path)
    assert k.id == "x_rate" and k.default_target is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("multiplier = 1000", "multiplier = 100"), "needs multiplier 1000"),
        (('interval = "byar"', 'interval = "wilson"'), "Wilson interval is for proportions"),
        (('arrives_at = "practice"', 'arrives_at = "system"'), "not one of levels"),
        (('polarity = "lower"', 'polarity = "down"'), "polarity"),
        (('source = "s"', 'source = "s"\nsurprise = 1'), "surprise"),
    ],
)
def test_bad_entries_are_refused_with_file_and_entry(tmp_path, change, message):
    path = tmp_path / "cat.toml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(CatalogueError, match=message) as err:
        read_catalogue(path)
    assert str(path) in str(err.value) and "x_rate" in str(err.value)


def test_a_standardisable_kpi_needs_its_ratio_and_a_ratio_its_crude_kpi(tmp_path):
    path = tmp_path / "cat.toml"
    path.write_text(GOOD.replace('source = "s"', 'source = "s"\nstandardisable = true'))
    with pytest.raises(CatalogueError, match="x_rate_sr"):
        read_catalogue(path)
    ratio = GOOD.replace('id = "x_rate"', 'id = "x_rate_sr"').replace(
        'unit = "per 1,000"\nmultiplier = 1000', 'unit = "ratio x100"\nmultiplier = 100')
    path.write_text(ratio)
    with pytest.raises(CatalogueError, match="standardised_of go together"):
        read_catalogue(path)
    path.write_text(ratio.replace('source = "s"', 'source = "s"\nstandardised_of = "x_rate"'))
    with pytest.raises(CatalogueError, match="unknown KPI 'x_rate'"):
        read_catalogue(path)
    path.write_text(GOOD + ratio.replace('source = "s"',
                                         'source = "s"\nstandardised_of = "x_rate"'))
    with pytest.raises(CatalogueError, match="not marked standardisable"):
        read_catalogue(path)


def test_duplicate_ids_and_missing_rolling_form_are_refused(tmp_path):
    path = tmp_path / "cat.toml"
    path.write_text(GOOD + GOOD)
    with pytest.raises(CatalogueError, match="more than once"):
        read_catalogue(path)
    path.write_text(GOOD.replace('source = "s"', 'source = "s"\nrolling_12 = true'))
    with pytest.raises(CatalogueError, match="x_rate_12m"):
        read_catalogue(path)


def test_docs_kpis_md_is_up_to_date():
    committed = (REPO / "docs" / "kpis.md").read_text(encoding="utf-8")
    assert committed == render_markdown() + "\n", (
        "docs/kpis.md is stale: run `python -m kpi.catalogue --markdown > docs/kpis.md`"
    )
    for k in load_catalogue():
        assert f"`{k.id}`" in committed
