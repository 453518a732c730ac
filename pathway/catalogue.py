"""The metric catalogue (contract section 5), declared once: each metric's SQL file, parameters,
grain, columns, proportions, disclosure and invariants. The CLI, the dashboard and the tests read it.

Adding a metric is one `Metric(...)` entry below plus one `queries/<name>.sql` file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pathway.disclosure import Derived, DisclosureSpec, Proportion
from pathway.resources import queries_dir


# ---- parameters -----------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One `--param KEY=VALUE` a metric takes. `bind` is its name in the SQL (:bind)."""

    name: str
    kind: str  # area | date | choice
    description: str
    bind: str
    choices: tuple[str, ...] = ()
    default: str | None = None  # None: worked out when the metric runs (see description)


AREA = Parameter(
    "area", "area",
    "an area code, an ICB code (one row for the ICB, summed over its areas) or all "
    "(one row per area); default all",
    bind="area", default="all")
FROM = Parameter(
    "from", "date",
    "first birth date of the cohort (YYYY-MM-DD); default: `to` minus the reference "
    "parameter default_follow_up_months (12) plus one day",
    bind="date_from")
TO = Parameter(
    "to", "date",
    "last birth date of the cohort (YYYY-MM-DD); default: as_at minus the metric's "
    "follow-up days, so every birth in the period has complete follow-up",
    bind="date_to")
AS_AT = Parameter(
    "as_at", "date",
    "the data cut-off (YYYY-MM-DD): events after it are not counted, and a birth counts "
    "only once its follow-up has ended by it; default: the latest activity date",
    bind="as_at")
COMMON = (AREA, FROM, TO, AS_AT)


# ---- disclosure, invariants -------------------------------------------------------------
# Each metric's DisclosureSpec (pathway.disclosure) says which columns are counts, which
# percentages rest on which counts (each gets a 95% Wilson interval in its two interval
# columns, worked out in pathway.metrics), and which statistics give counts away.


# Follow-up rules: how many days after birth a metric needs before a birth can count.
# Each names a column of queries/_metric_defaults.sql, where it is worked out from reference data.
FOLLOW_UP_RULES = {
    "birth": "none: a birth counts once it has happened",
    "postnatal": "to the end of the postnatal stage (ref_stages, day 56)",
    "pathway": "to the end of the last stage (ref_stages infant, day 365)",
    "contact_windows": "per contact, ref_contact_windows.follow_up_days; the default period uses the longest (day 456)",
}


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    description: str
    grain: str                      # in words, for people
    keys: tuple[str, ...]           # the columns that are unique together (the grain)
    columns: tuple[str, ...]        # required output columns (contract section 5)
    parameters: tuple[Parameter, ...] = COMMON
    follow_up: str = "pathway"      # a FOLLOW_UP_RULES key
    disclosure: DisclosureSpec = field(default_factory=lambda: DisclosureSpec(counts=()))
    source: str = "contract v1 section 5"
    order_by: tuple[str, ...] = field(default=())

    @property
    def sql_file(self) -> str:
        return f"{self.name}.sql"

    @property
    def sql_path(self) -> Path:
        return queries_dir() / self.sql_file

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def counts(self) -> tuple[str, ...]:
        return self.disclosure.counts

    @property
    def proportions(self) -> tuple[Proportion, ...]:
        return self.disclosure.proportions

    @property
    def output_columns(self) -> tuple[str, ...]:
        """Contract columns plus the interval columns added on the way out."""
        extra = [c for p in self.proportions for c in p.intervals if c not in self.columns]
        return self.columns + tuple(dict.fromkeys(extra))

    def check(self, frame: pd.DataFrame) -> list[str]:
        """The metric's invariants on an unsuppressed result: [] when all hold, else what broke.

        One row per grain combination; counts 0 or more; for every proportion, numerator at
        most denominator, pct within 0..100 and inside its interval, blank over a zero denominator.
        """
        missing = [c for c in self.output_columns if c not in frame.columns]
        if missing:
            return [f"{self.name}: missing column(s) {', '.join(missing)}"]
        problems = []
        repeated = frame.duplicated(list(self.keys), keep=False)
        if repeated.any():
            problems.append(f"{self.name}: {int(repeated.sum())} rows repeat the grain "
                            f"{', '.join(self.keys)}")
        for column in self.counts:
            if (pd.to_numeric(frame[column], errors="coerce") < 0).any():
                problems.append(f"{self.name}: {column} has a negative count")
        for proportion in self.proportions:
            numerator = pd.to_numeric(frame[proportion.numerator], errors="coerce")
            denominator = pd.to_numeric(frame[proportion.denominator], errors="coerce")
            pct = pd.to_numeric(frame[proportion.pct], errors="coerce")
            if (numerator > denominator).any():
                problems.append(f"{self.name}: {proportion.numerator} > {proportion.denominator} "
                                f"in {int((numerator > denominator).sum())} rows")
            if ((pct < 0) | (pct > 100)).any():
                problems.append(f"{self.name}: {proportion.pct} outside 0..100")
            if ((denominator == 0) & pct.notna()).any():
                problems.append(f"{self.name}: {proportion.pct} given over a zero denominator")
            low, high = (pd.to_numeric(frame[c], errors="coerce") for c in proportion.intervals)
            # a hair of tolerance for floating point: an interval holds its own estimate
            if ((low > pct + 1e-9) | (high < pct - 1e-9)).any():
                problems.append(f"{self.name}: {proportion.pct} outside its interval")
        return problems


NEED = Parameter(
    "need", "choice",
    "which specialist-need prevalence to use from ref_prevalence: low, mid or high; default mid",
    bind="need", choices=("low", "mid", "high"), default="mid")
GRAIN = Parameter(
    "grain", "choice",
    "whole (one row per area for the whole period, the default), or split by month, quarter or year",
    bind="grain", choices=("whole", "month", "quarter", "year"), default="whole")


def _metrics(*metrics: Metric) -> dict[str, Metric]:
    return {metric.name: metric for metric in metrics}


METRICS: dict[str, Metric] = _metrics(
    Metric(
        name="births",
        title="Births and bookings",
        description="Live births, pregnancies and bookings by 12 weeks 6 days, per area and period",
        grain="area × period (grain=whole|month|quarter|year)",
        keys=("area_code", "period"),
        columns=("area_code", "period", "live_births", "pregnancies", "booked_by_13_weeks",
                 "booked_by_13_weeks_pct"),
        parameters=COMMON + (GRAIN,),
        follow_up="birth",
        disclosure=DisclosureSpec(
            counts=("live_births", "pregnancies", "booked_by_13_weeks"),
            proportions=(Proportion("booked_by_13_weeks_pct", "booked_by_13_weeks", "pregnancies"),)),
        source="contract v1 section 5; NHS Maternity Statistics (gestation at booking)",
        order_by=("area_code", "period_start"),
    ),
    Metric(
        name="stage_reach",
        title="Reach by stage and tier",
        description="Live births reached by an attended universal, targeted or specialist "
                    "service in each pathway stage",
        grain="area × stage × tier",
        keys=("area_code", "stage", "tier"),
        columns=("area_code", "stage", "tier", "reached", "cohort", "pct", "ci_low", "ci_high"),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("reached", "cohort"),
            proportions=(Proportion("pct", "reached", "cohort"),)),
        order_by=("area_code", "stage_order", "tier_order"),
    ),
    Metric(
        name="mandated_contacts",
        title="Mandated health visitor contacts",
        description="Live births with each mandated health visiting contact attended in its window",
        grain="area × contact",
        keys=("area_code", "contact_code"),
        columns=("area_code", "contact_code", "numerator", "denominator", "pct", "ci_low", "ci_high"),
        follow_up="contact_windows",
        disclosure=DisclosureSpec(
            counts=("numerator", "denominator"),
            proportions=(Proportion("pct", "numerator", "denominator"),)),
        source="contract v1 section 5; OHID health visitor service delivery metrics",
        order_by=("area_code", "sort_order"),
    ),
    Metric(
        name="mood_screening",
        title="Mood screening",
        description="Live births with a Whooley, GAD-2, EPDS or PHQ-9 score in the antenatal "
                    "and the postnatal stage",
        grain="area × stage (antenatal, postnatal)",
        keys=("area_code", "stage"),
        columns=("area_code", "stage", "screened", "cohort", "pct", "ci_low", "ci_high"),
        follow_up="postnatal",
        disclosure=DisclosureSpec(
            counts=("screened", "cohort"),
            proportions=(Proportion("pct", "screened", "cohort"),)),
        source="contract v1 section 5; NICE CG192",
        order_by=("area_code", "stage_order"),
    ),
    Metric(
        name="specialist_access",
        title="Specialist perinatal mental health access",
        description="Live births whose mother was assessed or treated by a specialist perinatal "
                    "service, against the expected specialist need",
        grain="area",
        keys=("area_code",),
        columns=("area_code", "live_births", "accessed", "access_pct", "ci_low", "ci_high",
                 "expected_need", "need_met_pct"),
        parameters=COMMON + (NEED,),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("live_births", "accessed"),
            proportions=(Proportion("access_pct", "accessed", "live_births"),),
            # expected_need is live births x a published rate, so it would give a hidden
            # live-birth count away; need met rests on both counts.
            derived=(Derived(("expected_need",), ("live_births",)),
                     Derived(("need_met_pct",), ("accessed", "live_births")))),
        source="contract v1 section 5; Joint Commissioning Panel for Mental Health (2012) prevalence",
        order_by=("area_code",),
    ),
    Metric(
        name="referral_funnel",
        title="Referral funnel",
        description="Live births screened, screening positive, referred, assessed, treated and "
                    "completing treatment, per service",
        grain="area × service",
        keys=("area_code", "service"),
        columns=("area_code", "service", "screened", "screen_positive", "referred", "assessed",
                 "treated", "completed"),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("screened", "screen_positive", "referred", "assessed", "treated", "completed")),
        order_by=("area_code", "service"),
    ),
    Metric(
        name="waiting_times",
        title="Waiting times",
        description="Days from referral to the first attended assessment, contact or "
                    "intervention with the same service",
        grain="area × service",
        keys=("area_code", "service"),
        columns=("area_code", "service", "referrals", "seen", "median_days", "p90_days",
                 "seen_within_28_days", "seen_within_28_days_pct", "ci_low", "ci_high"),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("referrals", "seen", "seen_within_28_days"),
            proportions=(Proportion("seen_within_28_days_pct", "seen_within_28_days", "referrals"),),
            derived=(Derived(("median_days", "p90_days"), ("seen",)),)),
        source="contract v1 section 5; NHS England community mental health 4-week waits",
        order_by=("area_code", "service"),
    ),
    Metric(
        name="outcomes",
        title="Outcomes",
        description="Paired baseline and end scores: reliable improvement, reliable "
                    "deterioration and recovery, per service and instrument",
        grain="area × service × instrument",
        keys=("area_code", "service", "instrument"),
        columns=("area_code", "service", "instrument", "paired", "mean_baseline", "mean_end",
                 "reliably_improved", "reliable_improvement_pct",
                 "reliably_deteriorated", "reliable_deterioration_pct",
                 "cases_at_baseline", "recovered", "recovered_pct"),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("paired", "reliably_improved", "reliably_deteriorated", "cases_at_baseline",
                    "recovered"),
            proportions=(
                Proportion("reliable_improvement_pct", "reliably_improved", "paired",
                           ("reliable_improvement_ci_low", "reliable_improvement_ci_high")),
                Proportion("reliable_deterioration_pct", "reliably_deteriorated", "paired",
                           ("reliable_deterioration_ci_low", "reliable_deterioration_ci_high")),
                Proportion("recovered_pct", "recovered", "cases_at_baseline",
                           ("recovered_ci_low", "recovered_ci_high")),
            ),
            derived=(Derived(("mean_baseline", "mean_end"), ("paired",)),)),
        source="contract v1 section 5; NHS Talking Therapies manual (reliable change, recovery)",
        order_by=("area_code", "service", "instrument"),
    ),
    Metric(
        name="data_quality",
        title="Data quality",
        description="Completeness of every contract column, values loaded but unusable, rows "
                    "quarantined and the last load, per table and column",
        grain="table × column",
        keys=("table", "column"),
        columns=("table", "column", "rows", "completeness_pct", "invalid", "quarantined",
                 "last_load"),
        parameters=(),
        follow_up="birth",
        disclosure=DisclosureSpec(counts=("invalid", "quarantined")),
        source="contract v1 sections 1-3",
        order_by=("sort_order",),
    ),
)


# ---- named SQL --------------------------------------------------------------------------
_STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)
# The bind syntax sqlalchemy.text() recognises: :name, not ::cast and not inside a word.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


def named_sql(file_name: str, dialect: str | None = None, *, required: bool = True) -> str | None:
    """The text of queries/<file_name>, or its `<stem>.<dialect>.sql` sibling when one exists."""
    folder = queries_dir()
    stem = file_name.removesuffix(".sql")
    candidates = ([folder / f"{stem}.{dialect}.sql"] if dialect else []) + [folder / f"{stem}.sql"]
    for path in candidates:
        if path.exists():
            return path.read_text(encoding="utf-8")
    if required:
        raise FileNotFoundError(f"named SQL {file_name} not found in {folder}")
    return None


def statements(sql: str) -> list[str]:
    """Split a multi-statement SQL file at semicolons that end a line.

    Whole-line comments are dropped: sqlalchemy.text() would read a `:word` in them as a bind.
    """
    parts = []
    for chunk in _STATEMENT_END.split(sql):
        code = "\n".join(line for line in chunk.splitlines() if not line.strip().startswith("--"))
        if code.strip():
            parts.append(code.strip())
    return parts


def bind_names(sql: str) -> set[str]:
    return set(_BIND.findall(sql))


def sql_files() -> set[str]:
    """Metric SQL files in queries/ (files starting with _ are shared steps, not metrics;
    `name.dialect.sql` files are siblings of `name.sql`)."""
    return {path.name for path in queries_dir().glob("*.sql")
            if not path.name.startswith("_") and path.name.count(".") == 1}


def list_metrics() -> list[Metric]:
    return list(METRICS.values())
