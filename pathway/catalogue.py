"""The metric catalogue (contract section 5), declared once: each metric's SQL file, parameters,
grain, columns, proportions, disclosure and invariants. The CLI, the dashboard and the tests read it.

Adding a metric is one `Metric(...)` entry below plus one `queries/<name>.sql` file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pathway.disclosure import (ColumnsAddUp, Derived, DisclosureSpec, FromCounts, Proportion, Recomputed,
                                RowsAddUp, Summary)
from pathway.resources import queries_dir


# ---- parameters -----------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One `--param KEY=VALUE` a metric takes. `bind` is its name in the SQL (:bind)."""

    name: str
    kind: str  # area | date | choice | number | text
    description: str
    bind: str
    choices: tuple[str, ...] = ()
    default: str | None = None  # None: worked out when the metric runs (see description)
    # kind "number": the accepted range, inclusive (None: unbounded)
    minimum: float | None = None
    maximum: float | None = None


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
    "last birth date of the cohort (YYYY-MM-DD); default: as_at minus 365 days (the end "
    "of the infant stage), the same for every metric, so the whole pathway is followed up; "
    "a metric still leaves out births its own follow-up has not reached by as_at",
    bind="date_to")
AS_AT = Parameter(
    "as_at", "date",
    "the data cut-off (YYYY-MM-DD): events after it are not counted, and a birth counts "
    "only once its follow-up has ended by it; default: the latest activity date",
    bind="as_at")
COMMON = (AREA, FROM, TO, AS_AT)


# ---- disclosure, invariants -------------------------------------------------------------
# Each metric's DisclosureSpec (pathway.disclosure) says what every output column is (contract
# 7.4; tests/test_disclosure_attack.py fails on an undeclared numeric column):
#   counts=...                      people or events: 1-7 hidden, others rounded to 5
#   proportions=(Proportion(...),)  a percentage or rate per 100 of two counts, with its interval
#   derived=(Derived(...),)         a statistic over the people counted (median, mean score)
#   from_counts=(FromCounts(...),)  proportional to counts (expected cases, costs): shown as if
#                                   worked out from the shown counts; Recomputed(...) when a
#                                   metrics.py step works it out again from them
#   summaries=(Summary(...),)       across areas or months, from disclosed values or a series
#   labels=...                      codes, names, order keys, reference values, flags
#   additive=...                    parts and totals shown together (secondary suppression)


# Follow-up rules: how many days after birth a metric needs before a birth can count.
# Each names a column of queries/_metric_defaults.sql, where it is worked out from reference data.
FOLLOW_UP_RULES = {
    "birth": "none: a birth counts once it has happened",
    "postnatal": "to the end of the postnatal stage (ref_stages, day 56)",
    "pathway": "to the end of the last stage (ref_stages infant, day 365)",
    "contact_windows": "per contact, ref_contact_windows.follow_up_days (up to day 456 for the 12-month review by 15 months)",
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
    # a metric whose columns mean different things by its `metric` parameter (trend: a count,
    # a percentage or a median) declares each meaning: ((measure, spec), ...); others use `disclosure`
    disclosure_by_measure: tuple[tuple[str, DisclosureSpec], ...] = ()

    def disclosure_for(self, binds: dict) -> DisclosureSpec:
        """The disclosure spec of one run (its bound parameters)."""
        return dict(self.disclosure_by_measure).get(binds.get("measure"), self.disclosure)

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


# ---- parameters of equity, service_gaps, economic_case and trend ---------------------------
# The reach measures equity and trend can break down: each is one of the catalogue's reach
# metrics, with a mandated contact named as mandated_contacts.<contact_code>.
CONTACT_CODES = ("antenatal_hv_contact", "new_birth_visit", "six_eight_week_review",
                 "twelve_month_review", "twelve_month_review_by_15_months")
REACH_MEASURES = ("specialist_access", "stage_reach", "mood_screening") + tuple(
    f"mandated_contacts.{code}" for code in CONTACT_CODES)
REACH_MEASURE = Parameter(
    "metric", "choice",
    "the reach measure: specialist_access (the default), stage_reach (reach by the tier "
    "and stage parameters), mood_screening (in the stage parameter's stage: antenatal, "
    "postnatal, or any = either) or mandated_contacts.<contact_code> (on time, as in "
    "mandated_contacts with unit=pregnancy: one per pregnancy, so twins count once here where "
    "mandated_contacts counts each baby by default)",
    bind="measure", choices=REACH_MEASURES, default="specialist_access")
TREND_MEASURE = Parameter(
    "metric", "choice",
    "the monthly measure: births (live births, the default), a reach measure as in equity "
    "(specialist_access, stage_reach, mood_screening, mandated_contacts.<contact_code>), "
    "or waiting_times (median days from referral to being seen by the service parameter's "
    "service, by referral month), or risk_pathway.referred_antenatal (families with a risk "
    "recorded who were referred before birth, by birth month)",
    bind="measure", choices=("births",) + REACH_MEASURES + ("waiting_times", "risk_pathway.referred_antenatal"),
    default="births")
STAGE = Parameter(
    "stage", "choice",
    "for stage_reach and mood_screening: the pathway stage (ref_stages), or any (the default): "
    "reached in any stage (mood screening: antenatal or postnatal)",
    bind="stage", choices=("any", "preconception", "antenatal", "postnatal", "infant"),
    default="any")
TIER = Parameter(
    "tier", "choice",
    "for stage_reach: the tier of service; default specialist",
    bind="tier", choices=("universal", "targeted", "specialist"), default="specialist")
SERVICE = Parameter(
    "service", "choice",
    "for waiting_times: the service referred to (ref_services); default perinatal_mh",
    bind="service",
    choices=("preconception", "maternity", "health_visiting", "gp", "family_hub",
             "talking_therapies", "social_care", "voluntary", "perinatal_mh", "maternal_mh",
             "parent_infant", "mbu"),
    default="perinatal_mh")
GAPS_BY = Parameter(
    "by", "choice",
    "tier (the default: one row per area, stage and tier, service = all) or service (one row "
    "per area, stage and service, so an area without a team shows as a gap; tier = the "
    "service's default tier)",
    bind="gaps_by", choices=("tier", "service"), default="tier")
TARGET_ACCESS = Parameter(
    "target_access_pct", "number",
    "the scenario's specialist-tier target: women treated by a specialist service as a percentage "
    "of live births (the units of specialist_access.access_pct), not capped at expected need; "
    "default ref_parameters national_ambition_pct (10, the NHS Long Term Plan ambition)",
    bind="target_access_pct", minimum=0, maximum=100)
TARGETED_TARGET = Parameter(
    "targeted_target_pct", "number",
    "the scenario's targeted-tier target: women treated by a targeted service (NHS Talking "
    "Therapies) as a percentage of live births; default ref_parameters targeted_target_pct "
    "(12.5, illustrative)",
    bind="targeted_target_pct", minimum=0, maximum=100)
PUBLIC_SHARE = Parameter(
    "public_share", "number",
    "the public sector's share (0 to 1) of every condition's cost per case; default ref_parameters "
    "public_sector_share_of_cost (1.7bn of 8.1bn, Bauer et al. 2014's overall figure)",
    bind="public_share", minimum=0, maximum=1)
NHS_SOCIAL_CARE_SHARE = Parameter(
    "nhs_social_care_share", "number",
    "the NHS and social care share (0 to 1) of every condition's cost per case; default "
    "ref_parameters nhs_social_care_share_of_cost (1.2bn of 8.1bn)",
    bind="nhs_social_care_share", minimum=0, maximum=1)
EFFECT = Parameter(
    "effect", "number",
    "the share (0 to 1) of a case's long-term cost avoided by effective treatment; default "
    "ref_parameters effect_avoided_share (0.1, a conservative illustrative assumption)",
    bind="effect", minimum=0, maximum=1)
PRICE_YEAR = Parameter(
    "price_year", "text",
    "the price year of every pound (a ref_deflators price_year such as 2023/24): costs are "
    "uplifted from their own price year by the GDP deflator; default the latest year in ref_deflators",
    bind="price_year")


# ---- parameters of the contract v1.1 metrics ----------------------------------------------
ACCESS_MONTHS = Parameter(
    "months", "number",
    "how many month ends to show: the latest month complete both up to as_at and in the "
    "births recorded, and the ones before it; default 12",
    bind="months", default="12", minimum=1, maximum=60)
ACCESS_SERVICE = Parameter(
    "service", "choice",
    "perinatal_mh (the default: specialist community perinatal mental health teams and mother "
    "and baby units, NHS England's MHS91) or maternal_mh (Maternal Mental Health Services, "
    "counted the same way)",
    bind="access_service", choices=("perinatal_mh", "maternal_mh"), default="perinatal_mh")
CONTACT_UNIT = Parameter(
    "unit", "choice",
    "baby (the default: each baby of a pregnancy counts, twins twice, as OHID counts children) "
    "or pregnancy (one per live birth, as contract v1 did)",
    bind="unit", choices=("baby", "pregnancy"), default="baby")

# trend's columns by measure: the XmR mean and limits come from the unrounded monthly series
# (contract 7.3) and are only rounded; the plotted value is disclosed like any figure.
_TREND_LABELS = ("area_code", "month", "measure", "special_cause", "outside_limits", "run_of_7",
                 "trend_of_6", "two_of_three", "variation", "latest_variation")
_TREND_LIMITS = (Summary(("mean", "upper_limit", "lower_limit"), unit="number"),)
# a mean of monthly births to a decimal place, times the months, is their total births to
# within one or two: whole births leave several totals possible
_TREND_BIRTH_LIMITS = (Summary(("mean", "upper_limit", "lower_limit"), unit="whole"),)
TREND_REACH = DisclosureSpec(
    counts=("numerator", "denominator"),
    proportions=(Proportion("value", "numerator", "denominator"),),
    summaries=_TREND_LIMITS, labels=_TREND_LABELS)
# births: the value is the month's live births, shown as that count is (rounded, 1-7 hidden)
TREND_BIRTHS = DisclosureSpec(
    counts=("numerator", "value"),
    derived=(Derived(("ci_low", "ci_high"), ("numerator",)),),
    summaries=_TREND_BIRTH_LIMITS, labels=_TREND_LABELS + ("denominator",))
# waiting times: the value is the median days over those seen (numerator) of the referrals
TREND_WAITS = DisclosureSpec(
    counts=("numerator", "denominator"),
    derived=(Derived(("value", "ci_low", "ci_high"), ("numerator",)),),
    summaries=_TREND_LIMITS, labels=_TREND_LABELS)


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
                 "booking_known", "booking_missing", "booked_by_13_weeks_pct"),
        parameters=COMMON + (GRAIN,),
        follow_up="birth",
        disclosure=DisclosureSpec(
            counts=("live_births", "pregnancies", "booked_by_13_weeks", "booking_known",
                    "booking_missing"),
            # contract v1.1: pregnancies without a booking date or EDD are out of the denominator
            proportions=(Proportion("booked_by_13_weeks_pct", "booked_by_13_weeks", "booking_known"),),
            # a few pregnancies without a booking date hide the total, not the percentage's denominator
            additive=(ColumnsAddUp(total="pregnancies", parts=("booking_known", "booking_missing"),
                                   hide_after_total=("booking_known",)),),
            labels=("area_code", "period", "period_start")),
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
            proportions=(Proportion("pct", "reached", "cohort"),),
            labels=("area_code", "stage", "tier", "stage_order", "tier_order")),
        order_by=("area_code", "stage_order", "tier_order"),
    ),
    Metric(
        name="mandated_contacts",
        title="Mandated health visitor contacts",
        description="Babies (unit=baby, the default: twins count twice) or live births "
                    "(unit=pregnancy) with each mandated health visiting contact attended in "
                    "its window",
        grain="area × contact",
        keys=("area_code", "contact_code"),
        columns=("area_code", "contact_code", "numerator", "denominator", "pct", "ci_low", "ci_high"),
        parameters=COMMON + (CONTACT_UNIT,),
        follow_up="contact_windows",
        disclosure=DisclosureSpec(
            counts=("numerator", "denominator"),
            proportions=(Proportion("pct", "numerator", "denominator"),),
            labels=("area_code", "contact_code", "sort_order")),
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
            proportions=(Proportion("pct", "screened", "cohort"),),
            labels=("area_code", "stage", "stage_order")),
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
            # expected_need is live births x a published rate, so it is worked out from the shown
            # births (else it gives the unrounded count back); need met from both shown counts.
            from_counts=(FromCounts(("expected_need",), per=("live_births",)),
                         FromCounts(("need_met_pct",), per=("accessed",), over=("live_births",),
                                    unit="percent")),
            labels=("area_code",)),
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
            counts=("screened", "screen_positive", "referred", "assessed", "treated", "completed"),
            labels=("area_code", "service")),
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
                 "seen_within_28_days", "seen_within_28_days_pct", "ci_low", "ci_high",
                 "assessed_within_14_days", "assessed_within_14_days_pct",
                 "treated_within_42_days", "treated_within_42_days_pct"),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("referrals", "seen", "seen_within_28_days", "assessed_within_14_days",
                    "treated_within_42_days"),
            proportions=(
                Proportion("seen_within_28_days_pct", "seen_within_28_days", "referrals"),
                # NICE QS115 statement 6 (contract v1.1)
                Proportion("assessed_within_14_days_pct", "assessed_within_14_days", "referrals",
                           ("assessed_within_14_days_ci_low", "assessed_within_14_days_ci_high")),
                Proportion("treated_within_42_days_pct", "treated_within_42_days", "referrals",
                           ("treated_within_42_days_ci_low", "treated_within_42_days_ci_high")),
            ),
            derived=(Derived(("median_days", "p90_days"), ("seen",)),),
            labels=("area_code", "service")),
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
                 "cases_at_baseline", "recovered", "recovered_pct", "mean_change"),
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
            derived=(Derived(("mean_baseline", "mean_end", "mean_change"), ("paired",)),),
            labels=("area_code", "service", "instrument", "higher_is_better")),
        source="contract v1 section 5; NHS Talking Therapies manual (reliable change, recovery)",
        order_by=("area_code", "service", "instrument"),
    ),
    Metric(
        name="equity",
        title="Equity of reach",
        description="A reach measure (param metric) by deprivation quintile, ethnic group, "
                    "age band and risk factors, with the rate ratio against the reference group "
                    "(IMD quintile 5, White, 25-34, no risk factor). area=all is the whole "
                    "loaded population as one table; an ICB or an area code narrows it",
        grain="dimension × group (one table for the area parameter's population)",
        keys=("area_code", "dimension", "group"),
        columns=("area_code", "measure", "dimension", "group", "cohort", "reached", "pct",
                 "ci_low", "ci_high", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high",
                 "reference_group"),
        parameters=COMMON + (REACH_MEASURE, STAGE, TIER),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("cohort", "reached"),
            proportions=(Proportion("pct", "reached", "cohort"),),
            # each dimension's groups add up to its 'all' row (risk_factor, one row per rf_
            # flag, overlaps and has no 'all' row)
            additive=(RowsAddUp(columns=("cohort", "reached"), along="group", total="all",
                                within=("area_code", "dimension"),
                                hide_last_where_equal=("group", "reference_group")),),
            # worked out again from the shown counts (pathway.metrics), so a ratio of two
            # percentages at full precision cannot pin either group's counts
            from_counts=(Recomputed(("rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high"),
                                    ("cohort", "reached"), unit="ratio"),),
            labels=("area_code", "measure", "dimension", "group", "reference_group",
                    "reference_dimension", "dimension_order", "group_order")),
        source="contract v1 section 5; groups and reference groups in ref_equity_groups; "
               "rate ratio with a Katz log interval",
        order_by=("dimension_order", "group_order", "group"),
    ),
    Metric(
        name="service_gaps",
        title="Service gaps",
        description="stage_reach per area against a benchmark (the higher of a ref_reach_standards "
                    "standard and the median of all areas with births): the gap in percentage points, "
                    "people unmet and a flag: no_service (none reached, births in the cohort; "
                    "by tier even where no area reaches anyone, by service only where some area "
                    "does), below_benchmark (the 95% Wilson interval wholly below the benchmark), "
                    "ok, or no_cohort (no births to judge)",
        grain="area × stage × tier (by=service: area × stage × service)",
        keys=("area_code", "stage", "tier", "service"),
        columns=("area_code", "stage", "tier", "service", "reached", "cohort", "pct", "ci_low",
                 "ci_high", "benchmark_pct", "benchmark_source", "gap_pp", "unmet", "flag"),
        parameters=COMMON + (GAPS_BY,),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("reached", "cohort"),
            proportions=(Proportion("pct", "reached", "cohort"),),
            # the benchmark is the median of the areas' percentages of their shown counts (or a
            # standard): never one area's exact percentage
            summaries=(Summary(("benchmark_pct",)),),
            # the gap (benchmark - shown pct) and people unmet (benchmark x shown cohort - shown
            # reached) are worked out from what is shown (pathway.metrics)
            from_counts=(Recomputed(("gap_pp",), ("reached", "cohort"), unit="percent"),
                         Recomputed(("unmet",), ("reached", "cohort"), unit="whole")),
            labels=("area_code", "stage", "tier", "service", "benchmark_source", "flag",
                    "stage_order", "tier_order")),
        source="contract v1 section 5; stage_reach's definition (journey_reach)",
        order_by=("area_code", "stage_order", "tier_order", "service"),
    ),
    Metric(
        name="economic_case",
        title="Economic case",
        description="Per area and condition as Bauer et al. (2014) costed them (ref_economic_conditions, "
                    "ref_costs): expected cases, the cost of illness to society (mother and child, "
                    "lifetime) with its public-sector and NHS and social care parts, women treated by "
                    "a service that treats the condition and the spend on them, and the scenario of "
                    "raising specialist access to target_access_pct and targeted access to "
                    "targeted_target_pct of live births: extra treated, extra spend, avoided cost, net "
                    "benefit and return on investment for the public sector (roi_public) and for "
                    "society (roi_society; roi is the same), in price_year pounds. Conditions Bauer did "
                    "not cost (PTSD, adjustment disorders) are listed, not costed",
        grain="area × condition",
        keys=("area_code", "condition"),
        columns=("area_code", "condition", "condition_label", "costed", "live_births", "per_1000",
                 "expected_cases", "cost_per_case", "cost_of_illness", "mother_cost", "child_cost",
                 "public_sector_cost", "nhs_social_care_cost", "treated", "specialist_treated",
                 "targeted_treated", "current_service_spend", "target_access_pct",
                 "targeted_target_pct", "extra_treated", "extra_spend", "avoided_cost",
                 "avoided_public_cost", "net_benefit", "net_benefit_public", "roi", "roi_society",
                 "roi_public", "effect", "public_share", "nhs_social_care_share", "price_year"),
        parameters=COMMON + (NEED, TARGET_ACCESS, TARGETED_TARGET, EFFECT, PRICE_YEAR, PUBLIC_SHARE,
                              NHS_SOCIAL_CARE_SHARE),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("live_births", "treated", "specialist_treated", "targeted_treated"),
            # births x a published rate gives the birth count away: after disclosure every figure
            # is worked out again from the rounded counts (pathway.economics, via pathway.metrics),
            # money and people to 3 significant figures
            from_counts=(
                Recomputed(("expected_cases",), ("live_births",), unit="three_figures"),
                Recomputed(("cost_of_illness", "mother_cost", "child_cost", "public_sector_cost",
                            "nhs_social_care_cost"), ("live_births",), unit="money"),
                Recomputed(("extra_treated", "specialist_extra", "targeted_extra"),
                           ("live_births", "specialist_treated", "targeted_treated"), unit="three_figures"),
                Recomputed(("current_service_spend", "extra_spend", "avoided_cost", "avoided_public_cost",
                            "net_benefit", "net_benefit_public"),
                           ("live_births", "specialist_treated", "targeted_treated"), unit="money")),
            # returns: ratios of money figures worked out from the shown counts, blanked with the
            # spend they divide (pathway.economics), printed to 2 decimal places
            derived=(Derived(("roi", "roi_society", "roi_public"), (), decimals=2),),
            labels=("area_code", "condition", "condition_label", "costed", "per_1000", "cost_per_case",
                    "target_access_pct", "targeted_target_pct", "effect", "public_share",
                    "nhs_social_care_share", "price_year", "condition_order", "per_1000_low",
                    "per_1000_mid", "per_1000_high", "mother_cost_per_case", "child_cost_per_case",
                    "cost_uplift", "treated_by_specialist", "treated_by_targeted",
                    "specialist_episode_cost", "targeted_episode_cost", "specialist_share",
                    "targeted_share")),
        source="contract v1.1 section 7.3; domain notes 'The economic case'; Bauer et al. (2014); "
               "Joint Commissioning Panel for Mental Health (2012); PSSRU Unit Costs of Health and "
               "Social Care 2025; HM Treasury GDP deflators",
        order_by=("area_code", "condition_order"),
    ),
    Metric(
        name="trend",
        title="Monthly trend (SPC)",
        description="The metric value by month (births by birth month; reach measures as a "
                    "percentage of the month's births; waiting_times median days by referral "
                    "month) with its XmR process limits (mean, upper and lower process limits) "
                    "and NHS 'Making Data Count' special-cause flags; default window "
                    "ref_parameters trend_window_months (24) ending at the default period end",
        grain="area × month",
        keys=("area_code", "month"),
        columns=("area_code", "month", "measure", "numerator", "denominator", "value", "ci_low",
                 "ci_high", "mean", "upper_limit", "lower_limit", "special_cause",
                 "outside_limits", "run_of_7", "trend_of_6", "two_of_three", "variation",
                 "latest_variation"),
        parameters=COMMON + (TREND_MEASURE, STAGE, TIER, SERVICE),
        follow_up="pathway",
        disclosure=TREND_BIRTHS,
        disclosure_by_measure=tuple((m, TREND_REACH) for m in REACH_MEASURES)
        + (("waiting_times", TREND_WAITS),),
        source="contract v1 section 5; NHS England 'Making Data Count' (XmR charts)",
        order_by=("area_code", "month"),
    ),
    Metric(
        name="perinatal_access",
        title="Perinatal mental health access (NHS England's measure)",
        description="Women in contact with specialist perinatal mental health services in the "
                    "12 months to each month end, counted as NHS England's MHS91 counts them "
                    "(attended face to face or by video, conception to 24 months after birth, "
                    "any pregnancy outcome), per 100 live births of the same 12 months, against "
                    "the Long Term Plan ambition; service=maternal_mh counts Maternal Mental "
                    "Health Services the same way. mode_unknown counts women counted only by "
                    "contacts with no recorded mode: comparable with the published figure only at 0",
        grain="area × month end",
        keys=("area_code", "month"),
        columns=("area_code", "service", "month", "window_start", "month_end", "accessed",
                 "mode_unknown", "telephone_or_text_only", "live_births",
                 "access_rate_per_100_births", "rate_ci_low", "rate_ci_high",
                 "ambition_per_100_births"),
        parameters=(AREA, AS_AT, ACCESS_MONTHS, ACCESS_SERVICE),
        follow_up="birth",
        disclosure=DisclosureSpec(
            counts=("accessed", "mode_unknown", "telephone_or_text_only", "live_births"),
            # women of any outcome over live births: a rate (Byar interval), not a proportion;
            # worked out again from the shown counts, at a percentage's precision (contract 7.4)
            from_counts=(Recomputed(("access_rate_per_100_births", "rate_ci_low", "rate_ci_high"),
                                    ("accessed", "live_births"), precision_over="live_births"),),
            labels=("area_code", "service", "month", "window_start", "month_end",
                    "ambition_per_100_births")),
        source="contract v1.1 section 7.3; NHS England MHSDS MHS91 (published code); "
               "NHS Long Term Plan ambition",
        order_by=("area_code", "month"),
    ),
    Metric(
        name="risk_pathway",
        title="Risk-based pathway",
        description="Families with a risk recorded in pregnancy (each risk factor, and any): "
                    "referred to a targeted or specialist service before birth, seen by one "
                    "before birth, seen by the parent-infant team by the baby's first birthday, "
                    "and the median days from the risk being recorded to first being seen",
        grain="area × risk factor",
        keys=("area_code", "risk_factor"),
        columns=("area_code", "risk_factor", "cohort", "at_risk",
                 "referred_antenatal", "referred_antenatal_pct",
                 "seen_antenatal", "seen_antenatal_pct",
                 "parent_infant_seen", "parent_infant_seen_pct",
                 "seen_after_risk", "median_days_to_seen"),
        follow_up="birth",
        disclosure=DisclosureSpec(
            counts=("cohort", "at_risk", "referred_antenatal", "seen_antenatal",
                    "parent_infant_seen", "seen_after_risk"),
            proportions=(
                Proportion("referred_antenatal_pct", "referred_antenatal", "at_risk",
                           ("referred_antenatal_ci_low", "referred_antenatal_ci_high")),
                Proportion("seen_antenatal_pct", "seen_antenatal", "at_risk",
                           ("seen_antenatal_ci_low", "seen_antenatal_ci_high")),
                Proportion("parent_infant_seen_pct", "parent_infant_seen", "at_risk",
                           ("parent_infant_seen_ci_low", "parent_infant_seen_ci_high")),
            ),
            derived=(Derived(("median_days_to_seen",), ("seen_after_risk",)),),
            labels=("area_code", "risk_factor", "factor_order")),
        source="contract v1.1 section 7.3; PIP UK (referral on the basis of risk, from before birth)",
        order_by=("area_code", "factor_order", "risk_factor"),
    ),
    Metric(
        name="partner_involvement",
        title="Partners seen",
        description="Of women with specialist perinatal access, those whose partner had an "
                    "attended assessment or contact from conception to the baby's first birthday",
        grain="area",
        keys=("area_code",),
        columns=("area_code", "accessed", "partner_seen", "partner_seen_pct", "ci_low", "ci_high"),
        follow_up="pathway",
        disclosure=DisclosureSpec(
            counts=("accessed", "partner_seen"),
            proportions=(Proportion("partner_seen_pct", "partner_seen", "accessed"),),
            labels=("area_code",)),
        source="contract v1.1 section 7.3; NHS Long Term Plan (partners offered assessment)",
        order_by=("area_code",),
    ),
    Metric(
        name="data_quality",
        title="Data quality",
        description="Completeness of every contract column, values loaded but unusable, rows "
                    "quarantined and the last load, per table and column",
        grain="table × column",
        keys=("table", "column"),
        columns=("table", "column", "rows", "complete", "completeness_pct", "invalid", "quarantined",
                 "last_load"),
        parameters=(),
        follow_up="birth",
        # rows are pregnancies, contacts and scores: counts like any other (contract 7.4); from
        # unrounded rows, 99.435319% complete of 50,471 gave 285 missing booking dates exactly
        disclosure=DisclosureSpec(counts=("rows", "complete", "invalid", "quarantined"),
                                  proportions=(Proportion("completeness_pct", "complete", "rows"),),
                                  labels=("table", "column", "last_load", "sort_order")),
        source="contract v1 sections 1-3",
        order_by=("sort_order",),
    ),
    Metric(
        name="benchmarks",
        title="Published benchmarks",
        description="Published national, region, provider and area figures imported with "
                    "`pathway load --table benchmarks` (NHS Maternity Statistics, Fingertips, "
                    "MHSDS), each named by the catalogue figure it compares with",
        grain="published figure: metric × category × population × period × org level × org code",
        keys=("metric", "category", "population", "period", "org_level", "org_code"),
        columns=("metric", "category", "population", "source_file", "period", "org_level",
                 "org_code", "org_name", "numerator", "denominator", "pct", "ci_low", "ci_high",
                 "ci_method", "value", "suppressed", "missing_excluded"),
        parameters=(
            Parameter("metric", "text",
                      "a catalogue figure (e.g. births.booked_by_13_weeks, "
                      "mandated_contacts.new_birth_visit) or a published indicator's own name; "
                      "default all", bind="metric", default="all"),
            Parameter("org_level", "choice", "national, region, provider, area or all (the default)",
                      bind="org_level", choices=("all", "national", "region", "provider", "area"),
                      default="all"),
            Parameter("period", "text", "a published period, e.g. 2022-23; default all",
                      bind="period", default="all"),
        ),
        follow_up="birth",
        # Published figures were disclosure-controlled by their publisher (counts 1-7 suppressed,
        # others rounded to 5): they are shown as published, suppressed ones as '*'.
        disclosure=DisclosureSpec(counts=(), labels=(
            "metric", "category", "population", "source_file", "period", "org_level", "org_code",
            "org_name", "numerator", "denominator", "pct", "ci_low", "ci_high", "ci_method",
            "value", "suppressed", "missing_excluded", "indicator_id", "indicator_name", "note",
            "layout", "load_id", "level_order")),
        source="NHS England NHS Maternity Statistics; OHID Fingertips; NHS England MHSDS",
        order_by=("metric", "category", "period", "level_order", "org_code"),
    ),
)


# ---- one count shown by several metrics ---------------------------------------------------
@dataclass(frozen=True)
class SameCount:
    """Count columns of different metrics that show one count per area (and per `keys`, where the
    metrics have them) when run with the same parameters: an ICB's answer of one is disclosed
    beside the others' answers (pathway.disclosure_hierarchy). tests/test_disclosure_attack.py fails
    when two metrics' count columns agree in every area but are not declared here."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (metric, count column)
    keys: tuple[str, ...] = ("area_code",)


SAME_COUNTS = (
    SameCount("live births", (("births", "live_births"), ("stage_reach", "cohort"),
                              ("mood_screening", "cohort"), ("specialist_access", "live_births"),
                              ("service_gaps", "cohort"), ("economic_case", "live_births"),
                              ("risk_pathway", "cohort"))),
    SameCount("reached", (("stage_reach", "reached"), ("service_gaps", "reached")),
              keys=("area_code", "stage", "tier")),
    SameCount("specialist accessed", (("specialist_access", "accessed"),
                                      ("economic_case", "specialist_treated"),
                                      ("partner_involvement", "accessed"))),
    SameCount("referred", (("referral_funnel", "referred"), ("waiting_times", "referrals")),
              keys=("area_code", "service")),
)


def same_counts_of(name: str) -> list[SameCount]:
    """The groups of SAME_COUNTS a metric has a column in."""
    return [group for group in SAME_COUNTS if any(metric == name for metric, _ in group.columns)]


# ---- named SQL --------------------------------------------------------------------------
_STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)
# The bind syntax sqlalchemy.text() recognises: :name, not ::cast and not inside a word.
BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


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
    return set(BIND.findall(sql))


def sql_files() -> set[str]:
    """Metric SQL files in queries/ (files starting with _ are shared steps, not metrics;
    `name.dialect.sql` files are siblings of `name.sql`)."""
    return {path.name for path in queries_dir().glob("*.sql")
            if not path.name.startswith("_") and path.name.count(".") == 1}


def list_metrics() -> list[Metric]:
    return list(METRICS.values())
