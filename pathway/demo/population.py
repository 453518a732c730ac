"""The demo's pregnancies: dates, outcomes, who the parents are, and their hidden need.

Everything is drawn in whole numpy arrays (one element per pregnancy). Dates are whole days
since 1970-01-01. The mental-health condition, its severity and the parent-infant
relationship risk are hidden truth: they are never written to an extract, only shown
through screening scores and who gets referred.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pathway.demo.areas import TWIN_SHARE, DemoArea, DemoScale
from pathway.reference import read_reference_csv
from pathway.resources import reference_dir

EPOCH = np.datetime64("1970-01-01", "D")
NO_DAY = np.iinfo(np.int32).min  # a date that is missing (blank in the extract)

OUTCOMES = ("live_birth", "stillbirth", "loss", "ongoing")
ETHNIC_GROUPS = ("White", "Mixed", "Asian", "Black", "Other", "Not stated")
RISK_FACTORS = ("rf_mental_health_history", "rf_domestic_abuse", "rf_substance_misuse",
                "rf_social_care", "rf_teenage_parent", "rf_asylum_or_migrant",
                "rf_learning_disability", "rf_previous_loss")

# Conditions in the order of the hidden `condition` code; "none" is the last code. Their
# prevalence comes from data/reference/prevalence.csv.
CONDITIONS = ("postpartum_psychosis", "chronic_serious_mental_illness",
              "severe_depressive_illness", "mild_moderate_depression_anxiety", "ptsd",
              "adjustment_disorders_distress")
NONE = len(CONDITIONS)
PSYCHOSIS, CHRONIC_SMI, SEVERE, MILD, PTSD, ADJUSTMENT = range(len(CONDITIONS))

# ---- the demo's model of people (synthetic assumptions, not reference data: no metric
# reads them; they only make the fake data look like England) -------------------------
LOSS_SHARE = 0.02              # pregnancies lost after booking
STILLBIRTH_SHARE = 0.004       # about 4 per 1,000 births
ONGOING_PER_YEAR_OF_BIRTHS = 0.25  # ongoing pregnancies at the cut-off, per annual births
SEVERITY = {PSYCHOSIS: 0.85, CHRONIC_SMI: 0.7, SEVERE: 0.8, MILD: 0.5, PTSD: 0.55,
            ADJUSTMENT: 0.3, NONE: 0.05}
ANTENATAL_ONSET_SHARE = 0.45   # of depression, anxiety, PTSD and distress
RISK_FACTOR_BASE = {           # share among families in the middle of the IMD range
    "rf_mental_health_history": 0.14, "rf_domestic_abuse": 0.04, "rf_substance_misuse": 0.025,
    "rf_social_care": 0.035, "rf_asylum_or_migrant": 0.012, "rf_learning_disability": 0.01,
    "rf_previous_loss": 0.12,
}
RISK_FACTOR_DEPRIVATION = {    # log relative risk per step of deprivation (-1 least .. +1 most)
    "rf_mental_health_history": 0.35, "rf_domestic_abuse": 0.8, "rf_substance_misuse": 0.9,
    "rf_social_care": 1.0, "rf_asylum_or_migrant": 0.6, "rf_learning_disability": 0.4,
    "rf_previous_loss": 0.2,
}


@dataclass
class Cohort:
    """One array per field, all the same length, ordered by area."""

    area_index: np.ndarray
    pregnancy_number: np.ndarray
    person_number: np.ndarray
    outcome: np.ndarray            # index into OUTCOMES
    conception: np.ndarray
    edd: np.ndarray
    birth: np.ndarray              # NO_DAY unless live birth or stillbirth
    booking: np.ndarray            # NO_DAY when not booked
    loss: np.ndarray               # day of the loss, NO_DAY otherwise (hidden)
    parent_age: np.ndarray         # -1 when missing
    ethnic_group: np.ndarray       # index into ETHNIC_GROUPS
    imd_decile: np.ndarray         # 0 when missing
    deprivation: np.ndarray        # -1 (least deprived) .. +1 (most), 0 when missing (hidden)
    risk_factors: dict[str, np.ndarray] = field(default_factory=dict)
    condition: np.ndarray = None   # index into CONDITIONS, NONE (hidden)
    severity_antenatal: np.ndarray = None   # 0..1 (hidden)
    severity_postnatal: np.ndarray = None
    relationship_risk: np.ndarray = None    # 0..1 (hidden)
    babies: np.ndarray = None      # number_of_babies: 1 or 2 for live births, 0 = blank (v1.1)
    risk_identified: np.ndarray = None      # NO_DAY = blank (the booking date stands in)

    def __len__(self) -> int:
        return len(self.area_index)

    def take(self, rows: np.ndarray) -> "Cohort":
        """The pregnancies at `rows` (an index or mask), every field alike."""
        parts = {name: value[rows] for name, value in vars(self).items()
                 if isinstance(value, np.ndarray)}
        return Cohort(**parts, risk_factors={k: v[rows] for k, v in self.risk_factors.items()})


def to_day(value) -> int:
    return int((np.datetime64(value, "D") - EPOCH).astype(int))


def condition_prevalence() -> np.ndarray:
    """Cases per person of each condition in CONDITIONS (reference prevalence, mid column)."""
    table = read_reference_csv("prevalence", reference_dir() / "prevalence.csv")
    by_name = dict(zip(table["condition"], table["per_1000_mid"]))
    missing = [name for name in CONDITIONS if name not in by_name]
    if missing:
        raise ValueError(f"prevalence.csv: no row for condition(s) {', '.join(missing)}")
    return np.array([by_name[name] / 1000.0 for name in CONDITIONS])


def pregnancies_per_area(areas: list[DemoArea], scale: DemoScale) -> np.ndarray:
    births = np.array([area.births_per_year for area in areas], dtype=float) * scale.years
    if scale.total_births is not None:
        births *= scale.total_births / births.sum()
    return births.round().astype(int)


def draw_cohort(areas: list[DemoArea], scale: DemoScale, rng: np.random.Generator) -> Cohort:
    """Every pregnancy of the demo: those ending in the birth window, and those ongoing."""
    ending = pregnancies_per_area(areas, scale)
    per_year = np.array([a.births_per_year for a in areas], dtype=float)
    shrink = ending.sum() / (per_year.sum() * scale.years)   # below 1 only for the small scale
    ongoing = np.round(per_year * shrink * ONGOING_PER_YEAR_OF_BIRTHS).astype(int)
    area_index = np.concatenate([np.repeat(np.arange(len(areas)), ending),
                                 np.repeat(np.arange(len(areas)), ongoing)])
    is_ongoing = np.concatenate([np.zeros(ending.sum(), bool), np.ones(ongoing.sum(), bool)])
    n = len(area_index)

    deprivation_skew = np.array([a.deprivation for a in areas])[area_index]
    diversity = np.array([a.diversity for a in areas])[area_index]

    # IMD decile: weights exp(skew * (10 - decile)) lean deprived areas toward decile 1.
    deciles = np.arange(1, 11)
    weights = np.exp(deprivation_skew[:, None] * (10 - deciles)[None, :])
    imd = _categorical(rng, weights) + 1
    deprivation = (5.5 - imd) / 4.5
    imd = np.where(rng.random(n) < 0.01, 0, imd)          # 1% not recorded
    deprivation = np.where(imd == 0, 0.0, deprivation)

    # Parent age: younger on average in deprived deciles, so more teenage parents there.
    age = np.clip(np.round(30.5 - 2.2 * deprivation + rng.normal(0, 5.4, n)), 14, 49).astype(int)
    age = np.where(rng.random(n) < 0.005, -1, age)

    ethnic_weights = np.column_stack([1 - diversity - 0.03, 0.17 * diversity, 0.45 * diversity,
                                      0.25 * diversity, 0.13 * diversity, np.full(n, 0.03)])
    ethnic = _categorical(rng, ethnic_weights)

    risk = {}
    for name in RISK_FACTORS:
        if name == "rf_teenage_parent":
            risk[name] = (age >= 0) & (age < 20)
            continue
        p = RISK_FACTOR_BASE[name] * np.exp(RISK_FACTOR_DEPRIVATION[name] * deprivation)
        if name == "rf_asylum_or_migrant":
            p = p * np.where((ethnic != 0) & (ethnic != 5), 4.0, 1.0)
        risk[name] = rng.random(n) < p

    # ---- dates ------------------------------------------------------------------------
    start, end, cutoff = to_day(scale.births_from), to_day(scale.births_to), to_day(scale.cutoff)
    u = rng.random(n)
    outcome = np.where(u < LOSS_SHARE, 2, np.where(u < LOSS_SHARE + STILLBIRTH_SHARE, 1, 0))
    outcome = np.where(is_ongoing, 3, outcome)
    # birth = edd + noise: mostly -14..+10 days, some preterm, a few just post-term.
    kind = rng.random(n)
    noise = np.where(kind < 0.86, rng.integers(-14, 11, n),
                     np.where(kind < 0.95, rng.integers(-70, -14, n), rng.integers(11, 15, n)))
    ending_day = rng.integers(start, end + 1, n)
    edd = np.where(outcome <= 1, ending_day - noise, ending_day)
    edd = np.where(is_ongoing, rng.integers(cutoff + 1, cutoff + 201, n), edd)
    birth = np.where(outcome <= 1, ending_day, NO_DAY)
    conception = edd - 266

    # Booking gestation, in days since edd - 280: mostly 8 to 12+6 weeks; late booking
    # (from 13 weeks) more common in deprived deciles.
    late = rng.random(n) < np.clip(0.05 + 0.07 * deprivation, 0.02, 0.14)
    gestation = np.where(late, np.clip(91 + rng.exponential(35, n), 91, 250),
                         rng.integers(56, 91, n)).astype(int)
    gestation = np.where(rng.random(n) < 0.04, rng.integers(42, 56, n), gestation)
    booking = edd - 280 + gestation
    booking = np.where(birth != NO_DAY, np.minimum(booking, birth - 7), booking)
    # Loss after booking, before 24 weeks (edd - 112).
    loss = np.where(outcome == 2, np.minimum(booking + rng.integers(3, 90, n), edd - 113), NO_DAY)
    booking = np.where((outcome == 0) & (rng.random(n) < 0.006), NO_DAY, booking)

    # Ongoing pregnancies are in the extract only once booked by the cut-off.
    keep = ~is_ongoing | (booking <= cutoff)
    order = np.lexsort((edd, area_index))
    order = order[keep[order]]

    cohort = Cohort(
        area_index=area_index, pregnancy_number=np.zeros(n, int), person_number=np.zeros(n, int),
        outcome=outcome, conception=conception, edd=edd, birth=birth, booking=booking,
        loss=loss, parent_age=age, ethnic_group=ethnic, imd_decile=imd,
        deprivation=deprivation, risk_factors=risk,
    ).take(order)
    m = len(cohort)
    # Pseudonyms are numbered in shuffled order, so an id says nothing about area or date.
    cohort.pregnancy_number = rng.permutation(m) + 1
    cohort.person_number = rng.permutation(m) + 1
    _draw_need(cohort, rng)
    _draw_babies_and_risk_dates(cohort, rng)
    return cohort


def _draw_babies_and_risk_dates(cohort: Cohort, rng: np.random.Generator) -> None:
    """Contract v1.1: twins among live births, and when a family's risk was first recorded
    (blank for most: the booking date stands in; else up to three months after booking)."""
    n = len(cohort)
    born = cohort.outcome == 0
    cohort.babies = np.where(born, np.where(rng.random(n) < TWIN_SHARE, 2, 1), 0)
    any_risk = np.logical_or.reduce(list(cohort.risk_factors.values()))
    recorded = any_risk & (cohort.booking != NO_DAY) & (rng.random(n) < 0.55)
    day = cohort.booking + rng.integers(0, 91, n)
    end = np.where(cohort.birth != NO_DAY, cohort.birth - 1, cohort.edd - 1)
    cohort.risk_identified = np.where(recorded, np.minimum(day, end), NO_DAY)


def _draw_need(cohort: Cohort, rng: np.random.Generator) -> None:
    """Hidden conditions at reference prevalence, more common with deprivation and history."""
    n = len(cohort)
    history = cohort.risk_factors["rf_mental_health_history"]
    relative = (np.exp(0.25 * cohort.deprivation) * np.where(history, 2.0, 1.0)
                * np.where(cohort.risk_factors["rf_domestic_abuse"], 1.4, 1.0))
    relative = relative / relative.mean()
    p = condition_prevalence()[None, :] * relative[:, None]
    # Chronic serious mental illness is known before pregnancy: nearly always with history.
    p[:, CHRONIC_SMI] = condition_prevalence()[CHRONIC_SMI] * np.where(history, 1 / history.mean() * 0.9, 0.1)
    total = p.sum(axis=1, keepdims=True)
    p = np.where(total > 0.9, p * 0.9 / total, p)
    weights = np.column_stack([p, 1 - p.sum(axis=1)])
    condition = _categorical(rng, weights)

    base = np.array([SEVERITY[c] for c in range(NONE + 1)])[condition]
    severity = np.clip(base + rng.normal(0, 0.1, n), 0, 1)
    quiet = np.clip(SEVERITY[NONE] + rng.normal(0, 0.05, n), 0, 1)
    antenatal_onset = np.isin(condition, (CHRONIC_SMI,)) | (
        np.isin(condition, (SEVERE, MILD, PTSD, ADJUSTMENT)) & (rng.random(n) < ANTENATAL_ONSET_SHARE))
    cohort.condition = condition
    cohort.severity_antenatal = np.where(antenatal_onset, severity, quiet)
    cohort.severity_postnatal = np.where(condition == NONE, quiet, severity)
    risk_count = sum(flag.astype(int) for flag in cohort.risk_factors.values())
    cohort.relationship_risk = np.clip(0.12 + 0.09 * risk_count + 0.35 * cohort.severity_postnatal
                                       + rng.normal(0, 0.1, n), 0, 1)


def _categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category per row from row-wise weights (inverse CDF, vectorised)."""
    cumulative = np.cumsum(weights, axis=1)
    cumulative /= cumulative[:, -1:]
    u = rng.random(len(weights))
    return np.minimum((u[:, None] > cumulative).sum(axis=1), weights.shape[1] - 1)
