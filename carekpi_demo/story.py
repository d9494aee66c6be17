"""The demo's story: every rate, trend and event the synthetic feeds tell, as named parameters.

Each figure is a default that a test or a user can override (`Story(**changes)`); where a
figure comes from a publication the comment names it. The noise around these rates comes from
the run's seed; the story itself (which practice is the outlier, which networks start the
intervention, list sizes) is fixed by `STORY_SEED`, so a different seed tells the same story
with different noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Fixed seed for the structure of the fictional area (list sizes, ages, deprivation): the run's
# seed changes only the noise.
STORY_SEED = 1848

# Five-year age bands of the NHS Digital "Patients Registered at a GP Practice" quinary file.
AGE_BANDS: tuple[str, ...] = tuple(f"{a}_{a + 4}" for a in range(0, 95, 5)) + ("95+",)
AGE_STARTS: tuple[int, ...] = tuple(range(0, 100, 5))
SEXES: tuple[str, ...] = ("MALE", "FEMALE")

# Share of England's registered population in each five-year band (roughly the shape of the
# NHS Digital January 2021 publication: about 18% aged 65+), males and females pooled.
ENGLAND_AGE_SHARE: tuple[float, ...] = (
    0.055, 0.062, 0.060, 0.055, 0.061, 0.071, 0.073, 0.071, 0.066, 0.065,
    0.070, 0.069, 0.060, 0.052, 0.050, 0.038, 0.025, 0.016, 0.0075, 0.0025,
)

# Emergency admissions per 1,000 registered per month by age band (relative shape, roughly that
# of Hospital Episode Statistics: high in infancy, lowest in childhood, rising steeply after 65).
# `generate` rescales them so the area's overall rate equals `emergency_rate_per_1000`.
EMERGENCY_AGE_SHAPE: tuple[float, ...] = (
    9.0, 3.5, 3.0, 4.5, 5.5, 5.5, 5.5, 5.5, 6.0, 6.5,
    7.0, 8.0, 9.5, 11.5, 14.0, 18.0, 24.0, 32.0, 40.0, 45.0,
)

# Fictional provider (trust) codes for PROCODE3: three characters, not real NHS trust codes.
PROVIDER_CODES: tuple[str, ...] = ("ZZA", "ZZB", "ZZC")

# Primary diagnoses are written as HES DIAG_4_01 codes (4 characters, no dot; a three-character
# code padded with 'X'). The ACSC ones all fall under the prefixes of the project's ACSC list
# (etl/reference/acsc_icd10.csv, NHS Outcomes Framework 2.3.i); the others under none of them.
# Primary diagnoses the demo draws (HES 4-character form) with their relative weights.
ACSC_DIAGNOSES: tuple[tuple[str, float], ...] = (
    ("J441", 0.22), ("J440", 0.08), ("J459", 0.10), ("I500", 0.16), ("E111", 0.05),
    ("E101", 0.03), ("I209", 0.08), ("I10X", 0.04), ("I480", 0.10),
    ("G409", 0.06), ("F039", 0.05), ("D509", 0.02), ("B181", 0.01),
)
EMERGENCY_OTHER_DIAGNOSES: tuple[tuple[str, float], ...] = (
    ("R074", 0.12), ("R104", 0.10), ("J189", 0.10), ("N390", 0.08), ("S720", 0.05),
    ("K358", 0.04), ("I639", 0.05), ("I219", 0.05), ("R55X", 0.06), ("L039", 0.05),
    ("A099", 0.05), ("K922", 0.04), ("R069", 0.06), ("R51X", 0.05), ("F101", 0.04),
)
ELECTIVE_DIAGNOSES: tuple[tuple[str, float], ...] = (
    ("H259", 0.18), ("M171", 0.10), ("K802", 0.10), ("C509", 0.08), ("Z511", 0.14),
    ("K409", 0.10), ("N200", 0.06), ("M161", 0.08), ("K573", 0.08), ("D259", 0.08),
)

# Diabetes package (kpis.md: NDA care processes, retinal screening, care plan, structured
# education) and the other Tower Hamlets packages; every package also carries `complete`.
# Each element: (name, share done at the start, share done when the change is complete).
PACKAGE_ELEMENTS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "diabetes": (
        ("hba1c", 0.86, 0.95), ("blood_pressure", 0.89, 0.96), ("cholesterol", 0.80, 0.93),
        ("serum_creatinine", 0.84, 0.94), ("urine_albumin", 0.55, 0.82),
        ("foot_surveillance", 0.74, 0.91), ("bmi", 0.84, 0.94), ("smoking_status", 0.88, 0.96),
        # Hull et al. 2013: retinal screening 72% -> 82.8%, care plans 10% -> 88%.
        ("retinal_screening", 0.72, 0.83), ("care_plan", 0.10, 0.88),
        ("structured_education", 0.35, 0.90),
    ),
    # Element names are the catalogue's (kpi/catalogue.toml), so every drilldown has data.
    "cvd": (
        ("blood_pressure", 0.85, 0.95), ("cholesterol", 0.75, 0.90),
        ("smoking_status", 0.86, 0.95), ("bmi", 0.78, 0.90),
        ("lipid_lowering_therapy", 0.70, 0.90), ("antiplatelet_therapy", 0.72, 0.88),
        ("care_plan", 0.10, 0.80),
    ),
    "copd": (
        ("spirometry", 0.70, 0.88), ("mrc_dyspnoea", 0.75, 0.90), ("smoking_status", 0.88, 0.96),
        ("flu_vaccination", 0.72, 0.82), ("pneumococcal_vaccination", 0.70, 0.80),
        ("inhaler_technique", 0.55, 0.85), ("pulmonary_rehab", 0.30, 0.75),
        ("care_plan", 0.10, 0.82),
    ),
    "childhood_imms": (
        ("dtap_ipv_hib_hepb_12m", 0.88, 0.94), ("mmr1_24m", 0.82, 0.91),
        ("hib_menc_24m", 0.83, 0.91), ("pcv_booster_24m", 0.84, 0.92), ("mmr2_5y", 0.72, 0.86),
        ("dtap_ipv_booster_5y", 0.70, 0.85),
    ),
}

# DToC reasons (NHS England LA workbook, Nov 2015 edition) with England's shares of delayed days
# in that month (LA_DTOC_by_reason_Nov_15.xls, sheet "LA - by reason", England row).
DTOC_REASONS: tuple[tuple[str, str, float], ...] = (
    ("a", "A) COMPLETION OF ASSESSMENT", 25402),
    ("b", "B) PUBLIC FUNDING", 6054),
    ("c", "C) WAITING FURTHER NHS NON-ACUTE CARE", 27516),
    ("di", "DI) AWAITING RESIDENTIAL HOME PLACEMENT OR AVAILABILITY", 14483),
    ("dii", "DII) AWAITING NURSING HOME PLACEMENT OR AVAILABILITY", 21719),
    ("e", "E) AWAITING CARE PACKAGE IN OWN HOME", 26793),
    ("f", "F) AWAITING COMMUNITY EQUIPMENT AND ADAPTIONS", 4008),
    ("g", "G) PATIENT OR FAMILY CHOICE", 21064),
    ("h", "H) DISPUTES", 1946),
    ("i", "I) HOUSING - PATIENTS NOT COVERED BY NHS AND COMMUNITY CARE ACT", 4170),
)
# Same workbook, sheet "LA - by responsible org", England row: NHS 95,023, social care 47,602,
# both 10,530 delayed days.
DTOC_RESPONSIBLE_SHARE: tuple[float, float, float] = (
    95023 / 153155, 47602 / 153155, 10530 / 153155,
)


@dataclass(frozen=True)
class Story:
    """Rates, trends and events of the demo (defaults documented in docs/demo.md)."""

    # Emergency admissions per 1,000 registered per month, area average (England ran at about
    # 100 per 1,000 a year before 2020: HES, NHS Digital).
    emergency_rate_per_1000: float = 9.0
    # Elective admissions (ordinary and day case) per 1,000 per month: kept low to keep the
    # national files small; the KPIs do not use them beyond the all-admissions count.
    elective_rate_per_1000: float = 3.0
    # Winter peak over summer trough for emergencies (January over July, per day).
    winter_summer_ratio: float = 1.15
    # Emergency admissions rise with deprivation: rate x exp(slope x (IMD score - 22) / 10).
    deprivation_slope: float = 0.10
    # Between-practice variation (lognormal sd of a practice's rate multiplier).
    practice_rate_sd: float = 0.08
    # Males have slightly higher emergency admission rates at most ages.
    male_rate_ratio: float = 1.05
    # The outlier practice's multiplier on its expected emergency admissions (beyond 99.8%).
    outlier_rate_ratio: float = 1.6
    outlier_practice: str = "Y91017"
    # The intervention: two networks start an integrated frailty team in the month
    # `intervention_start_offset` months after the window starts; from then on their emergency
    # admissions step down by `intervention_effect` (0.15 = 15% fewer).
    intervention_name: str = "Integrated frailty multidisciplinary team"
    intervention_networks: tuple[str, ...] = ("U00003", "U00006")
    intervention_start_offset: int = 18
    intervention_effect: float = 0.15
    # Share of emergency admissions whose primary diagnosis is an ACSC, under 65 and 65+
    # (England: about 1 in 7 emergency admissions overall).
    acsc_share_under65: float = 0.09
    acsc_share_65plus: float = 0.24
    # Length of stay (days, discharge - admission) is lognormal: median by age, shape sigma.
    los_median_under65: float = 3.0
    los_median_65plus: float = 6.5
    los_sigma: float = 1.05
    emergency_same_day_share: float = 0.12
    elective_day_case_share: float = 0.65
    elective_los_median: float = 2.0
    # Share of spells with 2 and 3 episodes (consultant changes).
    two_episode_share: float = 0.12
    three_episode_share: float = 0.04
    # Share of spells whose GP practice is unknown (GPPRAC V81999).
    unknown_practice_share: float = 0.004
    # Registered list: yearly growth and monthly turnover (leavers replaced by joiners).
    list_growth_per_year: float = 0.012
    list_turnover_per_month: float = 0.008
    # Care packages: months from the window start to the midpoint of each network's change
    # (fast networks first), logistic width in months, and practice spread on the logit scale.
    care_package_midpoint_months: tuple[float, ...] = (9, 11, 13, 14, 15, 17, 19, 22)
    care_package_width_months: float = 4.0
    care_package_practice_sd: float = 0.25
    # Among patients with every element done, share counted `complete` at the start and the end
    # (the rest lack a coded confirmation); and the same idea for diabetes targets_all3.
    complete_given_all_start: float = 0.6
    complete_given_all_end: float = 0.9
    # Meeting all three NDA treatment targets, among patients with HbA1c, BP and cholesterol done.
    targets_all3_start: float = 0.26
    targets_all3_end: float = 0.36
    # Registers per registered patient for the area (QOF 2020-21 England prevalence: diabetes
    # 7.1% of 17+, CHD 3.0%, COPD 1.9%); childhood immunisation register = children aged 0-4.
    register_prevalence: dict[str, float] = field(
        default_factory=lambda: {"diabetes": 0.071, "cvd": 0.045, "copd": 0.019},
    )
    # Delayed transfers: average beds occupied by delayed patients per 100,000 adults (18+),
    # BCF measure; winter a little higher.
    dtoc_beds_per_100k: float = 12.5
    dtoc_network_sd: float = 0.18
    # Reablement: people 65+ discharged into reablement per 1,000 aged 65+ per month, share at
    # home after 91 days (ASCOF 2B(1): England about 82%), episodes ending per 1,000 adults and
    # share needing no further support (ASCOF 2D: about 78%).
    reablement_per_1000_65: float = 3.0
    reablement_home_91: float = 0.825
    reablement_episodes_per_1000_18: float = 0.9
    reablement_no_further_support: float = 0.77
    # Care-home admissions of people 65+ per 100,000 aged 65+ per year (ASCOF 2A(2): England
    # about 580-620), and the residential share of them.
    care_home_per_100k_65_year: float = 620.0
    care_home_residential_share: float = 0.6
    # The practice that opens, the one that closes, and the one that moves network, with the
    # month offsets (from the window start) of each event.
    opening_practice: str = "Y91035"
    opening_offset: int = 7
    closing_practice: str = "Y91036"
    closing_offset: int = 27
    moving_practice: str = "Y91009"
    moving_to_network: str = "U00004"
    moving_offset: int = 20
    # The practice whose care-package and population returns arrive late for one month, and
    # that month's offset back from the last month.
    late_practice: str = "Y91022"
    late_offset_from_end: int = 5
