"""The demo generator's files: deterministic, in the layouts of feeds.md, and parsing back (with
plain pandas, not the generator's own code) to the totals the generator reports."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carekpi_demo import GenerationSummary, generate
from carekpi_demo.story import PACKAGE_ELEMENTS, Story
from tests.conftest import REQUIRE_REAL_DATA, require_or_skip

END = "2024-03"
AGE_BANDS = [f"{a}_{a + 4}" for a in range(0, 95, 5)] + ["95+"]


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, months=36, end_month=END, seed=7)


def test_same_seed_gives_identical_files_and_another_seed_other_noise(tmp_path: Path) -> None:
    first = _hashes(generate(tmp_path / "a", months=4, end_month=END, seed=11).out)
    second = _hashes(generate(tmp_path / "b", months=4, end_month=END, seed=11).out)
    other = _hashes(generate(tmp_path / "c", months=4, end_month=END, seed=12).out)
    assert first == second
    assert any(name.endswith(".xlsx") for name in first)
    assert set(first) == set(other)
    assert first["organisations/organisations.csv"] == other["organisations/organisations.csv"]
    changed = [n for n in first if first[n] != other[n]]
    assert any(n.startswith("spells/") for n in changed)
    assert any(n.endswith(".xlsx") for n in changed)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale="county")
    with pytest.raises(ValueError, match="months"):
        generate(tmp_path, months=0)
    with pytest.raises(ValueError, match="end_month"):
        generate(tmp_path, end_month="March 2024")


def test_summary_lists_every_file_written(demo: tuple[Path, GenerationSummary]) -> None:
    out, summary = demo
    on_disk = sorted(p for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted(summary.files)
    assert summary.periods[0] == "2021-04" and summary.periods[-1] == END


def test_organisations_history(demo: tuple[Path, GenerationSummary]) -> None:
    out, summary = demo
    orgs = pd.read_csv(out / "organisations" / "organisations.csv", dtype=str,
                       keep_default_na=False)
    assert list(orgs.columns) == [
        "practice_code", "practice_name", "network_code", "network_name", "place_code",
        "place_name", "system_code", "system_name", "valid_from", "valid_to",
    ]
    assert orgs["practice_code"].nunique() == 36
    assert orgs["network_code"].nunique() == 8
    assert orgs["practice_code"].str.fullmatch(r"Y9\d{4}").all()
    assert orgs["network_code"].str.fullmatch(r"U\d{5}").all()
    assert orgs["place_code"].nunique() == 1 and orgs["system_code"].nunique() == 1
    story = Story()
    moved = orgs[orgs["practice_code"] == story.moving_practice].sort_values("valid_from")
    assert len(moved) == 2
    moved_on = pd.Timestamp(moved["valid_from"].iloc[1])
    assert pd.Timestamp(moved["valid_to"].iloc[0]) == moved_on - pd.Timedelta(days=1)
    assert moved["network_code"].iloc[1] == story.moving_to_network
    assert moved["valid_to"].iloc[1] == ""
    assert moved_on.strftime("%Y-%m") == summary.events["moving_month"]
    opened = orgs[orgs["practice_code"] == story.opening_practice]
    assert opened["valid_from"].iloc[0] == summary.events["opening_month"] + "-01"
    closed = orgs[orgs["practice_code"] == story.closing_practice]
    assert pd.Timestamp(closed["valid_to"].iloc[0]) + pd.Timedelta(days=1) == pd.Timestamp(
        summary.events["closing_month"] + "-01")
    assert summary.totals["organisations"] == {"rows": len(orgs), "practices": 36, "networks": 8}


def test_population_files_are_the_five_year_age_layout_and_add_up(
    demo: tuple[Path, GenerationSummary],
) -> None:
    out, summary = demo
    files = sorted((out / "population").glob("*.csv"))
    periods_seen: dict[str, int] = {}
    for path in files:
        pop = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert list(pop.columns) == [
            "PUBLICATION", "EXTRACT_DATE", "TYPE", "CCG_CODE", "ONS_CCG_CODE", "ORG_CODE",
            "POSTCODE", "SEX", "AGE_GROUP_5", "NUMBER_OF_PATIENTS",
        ]
        period = re.search(r"(\d{4}-\d{2})", path.name).group(1)
        # Extract date: the month's first day as 01JAN2021.
        expected_date = pd.Timestamp(period + "-01").strftime("%d%b%Y").upper()
        assert set(pop["EXTRACT_DATE"]) == {expected_date}
        assert set(pop["SEX"]) == {"MALE", "FEMALE", "ALL"}
        assert set(pop["AGE_GROUP_5"]) == {*AGE_BANDS, "ALL"}
        assert set(pop["TYPE"]) == {"GP", "CCG"}  # other org types that parsers must skip
        pop["n"] = pop["NUMBER_OF_PATIENTS"].astype(int)
        gp = pop[pop["TYPE"] == "GP"]
        table = gp.pivot_table(index=["ORG_CODE", "SEX"], columns="AGE_GROUP_5", values="n",
                               aggfunc="sum")
        # ALL band = sum of bands, ALL sex = male + female.
        assert (table["ALL"] == table[AGE_BANDS].sum(axis=1)).all()
        by_sex = table["ALL"].unstack()
        assert (by_sex["ALL"] == by_sex["MALE"] + by_sex["FEMALE"]).all()
        # The CCG rows are the sum of its practices.
        all_rows = (pop["SEX"] == "ALL") & (pop["AGE_GROUP_5"] == "ALL")
        ccg_all = pop[(pop["TYPE"] == "CCG") & all_rows]
        assert ccg_all["n"].sum() == by_sex["ALL"].sum()
        periods_seen[period] = periods_seen.get(period, 0) + int(by_sex["ALL"].sum())
    for period, totals in summary.by_period["population"].items():
        assert periods_seen[period] == totals["patients"]
    # A practice of about 8,000 patients on average; a borough of about 300,000.
    first = summary.by_period["population"]["2021-04"]
    assert 200_000 < first["patients"] < 400_000


def test_late_practice_files(demo: tuple[Path, GenerationSummary]) -> None:
    out, summary = demo
    code, month = summary.events["late_practice"], summary.events["late_month"]
    for feed, stem, col in (("population", "gp-reg-pat-prac-quin-age", "ORG_CODE"),
                            ("care_packages", "care_packages", "practice_code")):
        regular = pd.read_csv(out / feed / f"{stem}_{month}.csv", dtype=str)
        late = pd.read_csv(out / feed / f"{stem}_{month}_late_{code}.csv", dtype=str)
        assert code not in set(regular[col])
        if feed == "population":
            late = late[late["TYPE"] == "GP"]
        assert set(late[col]) == {code}
        # The practice is present in the month before and after as usual.
        before = str(pd.Period(month, "M") - 1)
        assert code in set(pd.read_csv(out / feed / f"{stem}_{before}.csv", dtype=str)[col])


def _episodes(out: Path) -> pd.DataFrame:
    frames = []
    for path in sorted((out / "spells").glob("hes_apc_*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame["file_period"] = path.stem.removeprefix("hes_apc_")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_spells_are_hes_episodes_grouping_to_the_intended_spells(
    demo: tuple[Path, GenerationSummary],
) -> None:
    out, summary = demo
    eps = _episodes(out)
    assert list(eps.columns[:-1]) == [
        "EPIKEY", "PSEUDO_HESID", "PROCODE3", "ADMIDATE", "DISDATE", "EPISTART", "EPIEND",
        "EPIORDER", "ADMIMETH", "STARTAGE", "SEX", "DIAG_4_01", "GPPRAC",
    ]
    assert eps["EPIKEY"].is_unique
    assert eps["PSEUDO_HESID"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert set(eps["SEX"]) == {"1", "2"}
    assert eps["DIAG_4_01"].str.fullmatch(r"[A-Z]\d{2}[0-9X]").all()
    # Monthly extracts as NHS Digital cuts them: every episode ends in its file's month.
    assert (eps["EPIEND"].str[:7] == eps["file_period"]).all()
    eps["order"] = order = eps["EPIORDER"].astype(int)
    key = ["PSEUDO_HESID", "PROCODE3", "ADMIDATE"]
    spells = eps.groupby(key)
    size = spells.size()
    # The stays already under way when the window opened: admitted before it, their earlier
    # episodes in no extract, each discharged (or still in) inside the window.
    under_way = spells["order"].min() > 1
    assert under_way.any()
    assert (under_way.index[under_way].get_level_values("ADMIDATE") < summary.periods[0]).all()
    assert len(size) - under_way.sum() == summary.totals["spells"]["spells"]
    assert len(eps) == summary.totals["spells"]["episodes"]
    assert set(size.unique()) == {1, 2, 3}
    # Episode order runs on without gaps; only the last episode carries the discharge date.
    ranked = eps.sort_values([*key, "order"])
    runs_on = ranked.groupby(key).cumcount() + ranked.groupby(key)["order"].transform("min")
    assert (runs_on == ranked["order"]).all()
    last = order == eps.groupby(key)["order"].transform("max")
    closing = eps["DISDATE"] != ""
    assert not (closing & ~last).any()
    # The last extract's spells still in hospital have no closing episode written yet.
    still_in = last & ~closing
    assert (eps.loc[still_in, "EPIEND"].str[:7] <= eps["file_period"].max()).all()
    assert (eps.loc[last & closing, "DISDATE"] == eps.loc[last & closing, "EPIEND"]).all()
    dis = pd.to_datetime(eps.loc[closing, "DISDATE"])
    adm = pd.to_datetime(eps.loc[closing, "ADMIDATE"])
    assert (dis >= adm).all()
    assert (pd.to_datetime(eps["EPIEND"]) >= pd.to_datetime(eps["EPISTART"])).all()
    # No discharge after its extract's month; some spells end in a later month than they start,
    # so one admission month is built from several files.
    assert (dis.dt.strftime("%Y-%m") == eps.loc[closing, "file_period"]).all()
    assert (dis.dt.strftime("%Y-%m") > adm.dt.strftime("%Y-%m")).any()
    assert (eps.loc[order == 1, "ADMIDATE"].str[:7] < eps.loc[order == 1, "file_period"]).any()
    first = eps[order == 1]
    method = first["ADMIMETH"].astype(int)
    assert method.between(11, 13).any() and method.between(21, 28).any()
    assert set(method) <= set(range(11, 14)) | set(range(21, 29))
    assert (method.between(21, 28)).sum() == summary.totals["spells"]["emergency"]
    unknown = (first["GPPRAC"] == "V81999").sum()
    assert unknown == summary.totals["spells"]["unattributed"] and unknown > 0
    orgs = pd.read_csv(out / "organisations" / "organisations.csv", dtype=str)
    assert set(first["GPPRAC"]) <= set(orgs["practice_code"]) | {"V81999"}
    for period, totals in summary.by_period["spells"].items():
        assert (first["file_period"] == period).sum() == totals["spells"]


def test_care_packages_register_and_completion_rules(
    demo: tuple[Path, GenerationSummary],
) -> None:
    out, summary = demo
    frames = [pd.read_csv(p, dtype={"practice_code": str, "period": str})
              for p in sorted((out / "care_packages").glob("*.csv"))]
    cp = pd.concat(frames, ignore_index=True)
    assert list(cp.columns) == ["practice_code", "period", "package", "element", "register",
                                "completed"]
    assert (cp["completed"] <= cp["register"]).all() and (cp["completed"] >= 0).all()
    assert set(cp["package"]) == {"diabetes", "cvd", "copd", "childhood_imms"}
    diabetes = set(cp.loc[cp["package"] == "diabetes", "element"])
    assert diabetes == {
        "hba1c", "blood_pressure", "cholesterol", "serum_creatinine", "urine_albumin",
        "foot_surveillance", "bmi", "smoking_status", "retinal_screening", "care_plan",
        "structured_education", "complete", "targets_all3",
    }
    wide = cp.pivot_table(index=["practice_code", "period", "package"], columns="element",
                          values="completed")
    for package, elements in PACKAGE_ELEMENTS.items():
        names = [e for e, _, _ in elements]
        part = wide.loc[(slice(None), slice(None), package), :]
        assert (part["complete"] <= part[names].min(axis=1)).all()
    d = wide.loc[(slice(None), slice(None), "diabetes"), :]
    assert (d["targets_all3"] <= d[["hba1c", "blood_pressure", "cholesterol"]].min(axis=1)).all()
    # One register per practice x month x package, the same on every element row.
    assert (cp.groupby(["practice_code", "period", "package"])["register"].nunique() == 1).all()
    registers = cp.drop_duplicates(["practice_code", "period", "package"])
    for package in PACKAGE_ELEMENTS:
        total = registers.loc[registers["package"] == package, "register"].sum()
        assert total == summary.totals["care_packages"][f"{package}_register"]


def test_network_feeds_layouts_and_totals(demo: tuple[Path, GenerationSummary]) -> None:
    out, summary = demo
    networks = {f"U0000{k}" for k in range(1, 9)}
    dtoc = pd.concat([pd.read_csv(p, dtype={"org_code": str, "period": str})
                      for p in sorted((out / "delayed_transfers").glob("dtoc_*.csv"))])
    assert list(dtoc.columns[:5]) == ["org_code", "period", "delayed_days_nhs",
                                      "delayed_days_social_care", "delayed_days_both"]
    reasons = [c for c in dtoc.columns if c.startswith("reason_")]
    assert len(reasons) == 10
    total = dtoc[["delayed_days_nhs", "delayed_days_social_care", "delayed_days_both"]].sum(axis=1)
    assert (dtoc[reasons].sum(axis=1) == total).all()
    assert set(dtoc["org_code"]) == networks
    assert total.sum() == sum(summary.totals["delayed_transfers"][c] for c in (
        "delayed_days_nhs", "delayed_days_social_care", "delayed_days_both"))

    care = pd.concat([pd.read_csv(p) for p in sorted((out / "care_home_admissions").glob("*.csv"))])
    assert list(care.columns) == ["org_code", "period", "admissions_65_residential",
                                  "admissions_65_nursing"]
    assert care["admissions_65_residential"].sum() == summary.totals["care_home_admissions"][
        "admissions_65_residential"]


def test_reablement_first_submission_blank_then_resubmitted(
    demo: tuple[Path, GenerationSummary],
) -> None:
    out, summary = demo
    names = sorted(p.name for p in (out / "reablement").glob("*.csv"))
    periods = summary.periods
    for k, period in enumerate(periods):
        first = pd.read_csv(out / "reablement" / f"reablement_{period}.csv")
        assert list(first.columns) == ["org_code", "period", "discharged_65_into_reablement",
                                       "at_home_91_days", "episodes_ended", "no_further_support"]
        assert first["at_home_91_days"].isna().all()
        resubs = [n for n in names if n.endswith(f"_resub_{period}.csv")]
        if k >= len(periods) - 3:
            assert resubs == []  # still provisional
            continue
        assert len(resubs) == 1
        resub = pd.read_csv(out / "reablement" / resubs[0])
        assert resub["at_home_91_days"].notna().all()
        assert (resub["at_home_91_days"] <= resub["discharged_65_into_reablement"]).all()
        assert (resub.drop(columns="at_home_91_days") == first.drop(columns="at_home_91_days")
                ).all().all()
        # Sorting by name processes the resubmission after the month three later.
        assert names.index(resubs[0]) > names.index(f"reablement_{periods[k + 3]}.csv")


def test_dtoc_workbook_layout_and_place_total(demo: tuple[Path, GenerationSummary]) -> None:
    out, summary = demo
    book = pd.read_excel(out / "delayed_transfers" / "LA_DTOC_Mar_24.xlsx", sheet_name=None,
                         header=None, dtype=object, keep_default_na=False, na_values=[""])
    assert {"LA - by responsible org", "LA - by reason", "LA - by Type of Care"} <= set(book)
    sheet = book["LA - by responsible org"]
    period_row = sheet.index[sheet[1] == "Period:"][0]
    assert sheet.loc[period_row, 2] == "March 2024"
    header_row = sheet.index[(sheet[4] == "Name") & (sheet[5] == "NHS")][0]
    table = sheet.loc[header_row + 1:].copy()
    table.columns = list(sheet.loc[header_row])
    by_name = table.dropna(subset=["Name"]).set_index("Name")
    assert "England" in by_name.index
    pseudo = {"Resident in Scotland", "Resident In Wales", "Resident outside GB"}
    assert pseudo <= set(by_name.index)
    assert (by_name == "NA").any().any()
    assert "Notes:" in set(sheet[1].dropna())
    dtoc = pd.read_csv(out / "delayed_transfers" / "dtoc_2024-03.csv")
    hartwell = by_name.loc["Hartwell"]
    assert hartwell["Code"] == "799" and hartwell["ONS Geography"] == "E09000099"
    assert hartwell["NHS"] == dtoc["delayed_days_nhs"].sum()
    assert hartwell["Total"] == dtoc[["delayed_days_nhs", "delayed_days_social_care",
                                      "delayed_days_both"]].to_numpy().sum()
    reasons = book["LA - by reason"]
    header_row = reasons.index[reasons[4] == "Name"][0]
    row = reasons.loc[reasons[4] == "Hartwell"].iloc[0]
    values = np.array(row.iloc[5:15].to_list(), dtype=int)
    assert values.sum() == row.iloc[15] == hartwell["Total"]
    assert str(reasons.loc[header_row, 5]).startswith("A)")


def test_fault_files_each_carry_their_defect(tmp_path: Path) -> None:
    summary = generate(tmp_path, months=1, end_month=END, faults=True)
    root = tmp_path / "faults"
    readme = (root / "README.md").read_text(encoding="utf-8")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "README.md")
    assert len(files) == 15 and set(files) <= set(summary.files)
    for path in files:
        assert f"`{path.relative_to(root)}`" in readme
    raw = (root / "organisations" / "non_utf8.csv").read_bytes()
    for codec in ("utf-8", "cp1252"):
        with pytest.raises(UnicodeDecodeError):
            raw.decode(codec)
    assert (root / "population" / "empty.csv").stat().st_size == 0
    header_only = pd.read_csv(root / "care_home_admissions" / "header_only.csv")
    assert header_only.empty and len(header_only.columns) == 4
    negative = pd.read_csv(root / "care_home_admissions" / "negative_counts.csv")
    assert (negative["admissions_65_residential"] < 0).sum() == 1
    cp = pd.read_csv(root / "care_packages" / "completed_greater_than_register.csv")
    assert (cp["completed"] > cp["register"]).sum() == 1
    orgs = pd.read_csv(tmp_path / "organisations" / "organisations.csv", dtype=str)
    unknown = pd.read_csv(root / "care_packages" / "unknown_practice_code.csv", dtype=str)
    assert set(unknown["practice_code"]) - set(orgs["practice_code"]) == {"Y99999"}
    assert "completed" not in pd.read_csv(root / "care_packages" / "missing_column.csv").columns
    truncated = (root / "spells" / "truncated.csv").read_text().splitlines()
    assert truncated[-1].count(",") < truncated[0].count(",")
    wrong = (root / "care_packages" / "wrong_delimiter.csv").read_text().splitlines()
    assert "," in wrong[0] and all("," not in line and ";" in line for line in wrong[1:])
    dup = pd.read_csv(root / "delayed_transfers" / "duplicated_rows.csv")
    assert dup.duplicated().sum() == 1
    assert pd.read_csv(root / "reablement" / "future_period.csv", dtype=str)["period"].iloc[0] > END
    text = pd.read_csv(root / "population" / "text_in_number_column.csv", dtype=str)
    assert not text["NUMBER_OF_PATIENTS"].str.fullmatch(r"\d+").all()
    book = pd.read_excel(root / "delayed_transfers" / "header_row_moved_and_renamed.xlsx",
                         header=None, dtype=object)
    assert not (book == "Name").any().any() and (book == "Council").any().any()
    assert book.index[(book == "Council").any(axis=1)][0] == 20  # row 21, not row 14


REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "etl" / "reference" / "national_practices.csv.gz"
REAL = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))


def test_national_scale_reproduces_the_real_geography(tmp_path: Path) -> None:
    summary = generate(tmp_path, scale="national", months=1, end_month=END)
    orgs = pd.read_csv(tmp_path / "organisations" / "organisations.csv", dtype=str,
                       keep_default_na=False)
    assert orgs["practice_code"].nunique() == 6571
    # The real file's 1,252 PCN codes include 'U' ("unallocated", 70 practices): no network.
    assert orgs.loc[orgs["network_code"] != "", "network_code"].nunique() == 1251
    assert (orgs["network_code"] == "").sum() == 70
    pop = pd.read_csv(tmp_path / "population" / f"gp-reg-pat-prac-quin-age_{END}.csv",
                      dtype={"ORG_CODE": str}, usecols=["TYPE", "ORG_CODE", "SEX", "AGE_GROUP_5",
                                                        "NUMBER_OF_PATIENTS"])
    gp_all = pop[(pop["TYPE"] == "GP") & (pop["SEX"] == "ALL") & (pop["AGE_GROUP_5"] == "ALL")]
    assert gp_all["ORG_CODE"].nunique() == 6571
    # The first month's lists are the reference list sizes (60.4 million patients).
    ref = pd.read_csv(REFERENCE, dtype={"practice_code": str})
    assert gp_all["NUMBER_OF_PATIENTS"].sum() == ref["list_size"].sum()
    spells = pd.read_csv(tmp_path / "spells" / f"hes_apc_{END}.csv", dtype=str,
                         usecols=["EPIORDER", "ADMIMETH"])
    first = spells[spells["EPIORDER"] == "1"]
    assert len(first) == summary.totals["spells"]["spells"]
    emergency = first["ADMIMETH"].astype(int).between(21, 28).sum()
    assert emergency == summary.totals["spells"]["emergency"]
    # About 9 per 1,000 of 60.4 million admitted; the extract holds those whose first episode
    # ended within the month.
    assert 500_000 < summary.totals["spells"]["emergency_admitted"] < 620_000
    # (it also holds the first episodes of the stays already under way when the window opens)
    assert 0.8 < emergency / summary.totals["spells"]["emergency_admitted"] < 1.1
    dtoc = pd.read_csv(tmp_path / "delayed_transfers" / f"dtoc_{END}.csv", dtype=str)
    assert dtoc["org_code"].nunique() == 1251


def test_reference_file_matches_its_sources() -> None:
    if not REAL.exists():
        require_or_skip(f"real data folder {REAL} absent", REQUIRE_REAL_DATA)
    ref = pd.read_csv(REFERENCE, dtype=str, keep_default_na=False)
    geo = pd.read_csv(REAL / "geography" / "QOF_MAPPING_NHS_GEOGRAPHIES_2021.csv", dtype=str)
    assert set(ref["practice_code"]) == set(geo["PRACTICE_CODE"])
    assert ref["pcn_code"].nunique() == geo["PCN_ODS_CODE"].nunique() == 1252
    prev = pd.read_csv(REAL / "qof" / "PREVALENCE_2021_v2.csv", dtype={"PRACTICE_CODE": str})
    dm = prev[prev["GROUP_CODE"] == "DM"].set_index("PRACTICE_CODE")["REGISTER"]
    assert ref.set_index("practice_code")["diabetes_register"].astype(int).sum() == dm.sum()
    assert (ref["imd_score"] != "").all()


def test_epcn_workbook_carries_the_same_relationships_as_the_native_file(tmp_path: Path) -> None:
    generate(tmp_path, months=2, end_month=END)
    native = pd.read_csv(tmp_path / "organisations" / "organisations.csv", dtype=str,
                         keep_default_na=False)
    sheet = pd.read_excel(tmp_path / "organisations" / "ePCN.xlsx",
                          sheet_name="PCN Core Partner Details", dtype=str).fillna("")
    sheet.columns = [c.replace("\n", " ").strip() for c in sheet.columns]
    got = set(zip(sheet["Partner Organisation Code"], sheet["PCN Code"],
                  sheet["Practice to PCN Relationship Start Date"],
                  sheet["Practice to PCN Relationship End Date"], strict=True))
    want = {(r.practice_code, r.network_code, r.valid_from.replace("-", ""),
             r.valid_to.replace("-", "")) for r in native.itertuples()}
    assert got == want
