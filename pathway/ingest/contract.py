"""The extract contract (section 1) as data: each table's columns, types, keys and rules.

The loader's SQL is generated from these declarations, so a column or rule changes here, once.
Code lists and score ranges are not here: they live in the reference tables (ref_codes,
ref_services, ref_instruments).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    """One contract column.

    kind: text | date | integer | number | code | boolean.
    code_list: for kind code, the list in the loader's code lookup (ref_codes lists, plus
    'service' from ref_services and 'instrument' from ref_instruments).
    low/high: the contract's own bounds for integers (contract section 1, not domain data).
    default: the canonical code a blank value stands for.
    days_after_loading: for dates, how many days after the day of loading a value may be
    (0: none, it has happened; None: no limit). Every date before EARLIEST_DATE is refused.
    """

    name: str
    kind: str = "text"
    required: bool = False
    code_list: str | None = None
    low: int | None = None
    high: int | None = None
    default: str | None = None
    days_after_loading: int | None = None


@dataclass(frozen=True)
class TableContract:
    name: str
    key: str
    fields: tuple[Field, ...]
    # activity and measures rows whose pregnancy is not yet in cohort wait here (section 3)
    waiting_table: str | None = None
    # cohort files carry any number of rf_* risk-factor flags
    has_risk_factors: bool = False
    extra_rules: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


# Contract 7.2: a date before 1900 is implausible; an activity, measure or birth date after the
# day of loading has not happened yet; an edd may be up to 44 weeks after it.
EARLIEST_DATE = dt.date(1900, 1, 1)
EDD_WEEKS_AHEAD = 44

AREAS = TableContract(
    name="areas",
    key="area_code",
    fields=(
        Field("area_code", required=True),
        Field("area_name", required=True),
        Field("icb_code"),
        Field("icb_name"),
        Field("region_code"),
        Field("region_name"),
    ),
)

COHORT = TableContract(
    name="cohort",
    key="pregnancy_id",
    fields=(
        Field("pregnancy_id", required=True),
        Field("person_id", required=True),
        Field("area_code", required=True),
        Field("booking_date", "date"),
        Field("edd", "date", days_after_loading=EDD_WEEKS_AHEAD * 7),
        Field("birth_date", "date", days_after_loading=0),
        Field("outcome", "code", code_list="outcome"),
        Field("parent_age", "integer", low=10, high=60),
        Field("ethnic_group", "code", code_list="ethnic_group"),
        Field("imd_decile", "integer", low=1, high=10),
        # contract v1.1 section 7.1: babies born alive (twins twice in health visiting counts)
        Field("number_of_babies", "integer", low=1, high=8, default="1"),
        Field("risk_identified_date", "date"),
    ),
    has_risk_factors=True,
    extra_rules=("known_area", "birth_date_matches_outcome"),
)

ACTIVITY = TableContract(
    name="activity",
    key="activity_id",
    fields=(
        Field("activity_id", required=True),
        Field("pregnancy_id", required=True),
        Field("service", "code", required=True, code_list="service"),
        Field("activity_type", "code", required=True, code_list="activity_type"),
        Field("activity_date", "date", required=True, days_after_loading=0),
        Field("contact_code", "code", code_list="contact_code"),
        Field("attendance", "code", code_list="attendance", default="attended"),
        Field("tier", "code", code_list="tier"),
        Field("referral_source"),
        Field("provider_code"),
        # contract v1.1 section 7.1: how and with whom a contact happened, and which baby
        Field("contact_mode", "code", code_list="contact_mode"),
        Field("subject", "code", code_list="subject", default="birthing_parent"),
        Field("infant_number", "integer", low=1, high=8, default="1"),
    ),
    waiting_table="waiting_activity",
    extra_rules=("infant_of_pregnancy",),
)

MEASURES = TableContract(
    name="measures",
    key="measure_id",
    fields=(
        Field("measure_id", required=True),
        Field("pregnancy_id", required=True),
        Field("instrument", "code", required=True, code_list="instrument"),
        Field("score", "number", required=True),
        Field("measure_date", "date", required=True, days_after_loading=0),
        Field("timepoint", "code", required=True, code_list="timepoint"),
        Field("service", "code", code_list="service"),
        Field("infant_number", "integer", low=1, high=8, default="1"),
    ),
    waiting_table="waiting_measures",
    extra_rules=("score_in_instrument_range", "infant_of_pregnancy"),
)

TABLES: dict[str, TableContract] = {t.name: t for t in (AREAS, COHORT, ACTIVITY, MEASURES)}

# Loading order when several files arrive together: areas before the cohort that names
# them, the cohort before the activity and measures that hang off it.
LOAD_ORDER = ("areas", "cohort", "activity", "measures")

# Outcomes that need a birth date; any other outcome must leave it blank (section 1).
OUTCOMES_WITH_BIRTH = ("live_birth", "stillbirth")
# A blank outcome means live_birth when a birth date is given, else ongoing (section 1).
OUTCOME_IF_BORN = "live_birth"
OUTCOME_IF_NOT_BORN = "ongoing"

# Booleans (section 1): true/false, yes/no, y/n, 1/0 in any case.
TRUE_WORDS = ("true", "yes", "y", "1")
FALSE_WORDS = ("false", "no", "n", "0")

RISK_FACTOR_PREFIX = "rf_"


def header_key(name: str) -> str:
    """Header matching ignores case, spaces, underscores and hyphens: `Activity Date` = `activity_date`."""
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def snake_case(name: str) -> str:
    """`RF Domestic Abuse` -> `rf_domestic_abuse` (how risk-factor names are stored)."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def table_from_file_name(file_name: str) -> str | None:
    """The file name's first word when it names a table: `cohort_2025-q1.csv` -> cohort."""
    words = [w for w in re.split(r"[^A-Za-z]+", file_name) if w]
    if not words:
        return None
    first = words[0].lower()
    return first if first in TABLES else None
