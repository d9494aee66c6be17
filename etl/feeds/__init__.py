"""The feed registry: one module per inbox folder, and the canonical frame each parser returns.

Each feed module offers `detect(path) -> str | None` (the layout name when the file is in one of
that feed's layouts, read from its content) and `parse(path, layout) -> pandas.DataFrame` with
exactly the canonical columns below (more may follow). Parsers never touch the database.
"""

from __future__ import annotations

FEED_NAMES = (
    "organisations",
    "population",
    "care_packages",
    "spells",
    "delayed_transfers",
    "reablement",
    "care_home_admissions",
)

# Codes are text; `period` is 'YYYY-MM' text; dates are datetime.date or None; counts Int64.
CANONICAL_COLUMNS: dict[str, list[str]] = {
    # organisations: one row per practice->network relationship (native CSV, ePCN, QOF mapping);
    # epraccur rows carry only the practice (network/place/system None), valid_from/to = open/close.
    "organisations": [
        "practice_code", "practice_name", "network_code", "network_name",
        "place_code", "place_name", "system_code", "system_name", "valid_from", "valid_to",
    ],
    # population: one row per practice x extract month x sex x age band.
    # sex is 'M', 'F' or 'ALL'; age_band is '0_4', '5_9', ... '90_94', '95+' or 'ALL'.
    "population": ["practice_code", "period", "sex", "age_band", "patients"],
    "care_packages": ["practice_code", "period", "package", "element", "register", "completed"],
    # spells: one row per hospital spell and file (its episodes there collapsed), never stored.
    # practice_code None when the source code is not a real practice (counted as unattributed).
    # opens: the spell's first episode is in this file (its admission counts from here);
    # coverage_org (provider, '' when the file has none), admission_coverage and
    # discharge_coverage ('YYYY-MM'): the coverage its admission and its discharge count under.
    "spells": [
        "practice_code", "age", "sex", "admission_date", "discharge_date",
        "admission_method", "primary_diagnosis", "opens", "coverage_org",
        "admission_coverage", "discharge_coverage",
    ],
    # spells at commissioner level (NHS England MAR workbooks): place-level emergency admissions.
    "spells_commissioner": ["org_code", "period", "emergency_admissions"],
    # delayed_transfers: optional `reason_<letter>` columns (delayed days by reason) may follow.
    "delayed_transfers": [
        "org_code", "period", "delayed_days_nhs", "delayed_days_social_care", "delayed_days_both",
    ],
    "reablement": [
        "org_code", "period", "discharged_65_into_reablement", "at_home_91_days",
        "episodes_ended", "no_further_support",
    ],
    "care_home_admissions": [
        "org_code", "period", "admissions_65_residential", "admissions_65_nursing",
    ],
}
