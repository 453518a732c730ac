"""What services do for the demo's pregnancies in one area: contacts, referrals, scores.

Each service is one vectorised block over the area's pregnancies (no loop over people).
Rows are kept as code arrays (an index into each code list) and whole days since
1970-01-01, and become extract rows only when written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pathway.demo.areas import (DemoArea, absent_services, partner_share, risk_referral_delay,
                                telephone_share, twelve_month_lag, underserved_deciles)
from pathway.demo.population import (ADJUSTMENT, CHRONIC_SMI, MILD, NO_DAY, NONE, PSYCHOSIS,
                                     PTSD, SEVERE, Cohort)
from pathway.reference import read_reference_csv
from pathway.resources import reference_dir

# Contract code lists (section 1); the writer turns indexes into these strings.
ACTIVITY_TYPES = ("screening", "referral", "assessment", "contact", "intervention", "discharge")
CONTACT_CODES = ("booking", "antenatal_hv_contact", "new_birth_visit", "six_eight_week_review",
                 "gp_six_week_check", "twelve_month_review", "preconception_advice")
ATTENDANCE = ("attended", "dna", "cancelled")
TIERS = ("universal", "targeted", "specialist")
REFERRAL_SOURCES = ("self", "maternity", "health_visiting", "gp", "perinatal_mh", "social_care")
INSTRUMENTS = ("WHOOLEY", "GAD2", "EPDS", "PHQ9", "GAD7", "CORE10", "PIRGAS", "HADS_A", "HADS_D",
               "LOAF", "ASQSE2", "KIPS")
CONTACT_MODES = ("face_to_face", "video", "telephone", "text", "other")   # contract v1.1
SUBJECTS = ("birthing_parent", "partner", "infant", "family")
TIMEPOINTS = ("screen", "baseline", "review", "end")
LATEST = np.iinfo(np.int64).max


def service_codes() -> tuple[str, ...]:
    """The contract's services, from reference data (services.csv)."""
    return tuple(read_reference_csv("services", reference_dir() / "services.csv")["service"])


SERVICES = service_codes()


# ---- the demo's model of services (synthetic assumptions, not reference data) ---------
@dataclass(frozen=True)
class ServiceModel:
    wait_median_days: float      # referral to first assessment (area wait_scale multiplies it)
    seen_share: float            # referrals ever seen
    interventions: tuple[int, int]  # fewest and most contacts after assessment
    interval_days: int           # between contacts
    instruments: tuple[str, ...]  # outcome measures at baseline and end


SERVICE_MODEL = {
    "talking_therapies": ServiceModel(30, 0.82, (3, 8), 10, ("PHQ9", "GAD7")),
    "perinatal_mh": ServiceModel(16, 0.9, (4, 10), 12, ("EPDS", "CORE10")),
    "maternal_mh": ServiceModel(40, 0.85, (4, 8), 14, ("CORE10", "GAD7")),
    # the PIP UK outcome set: PIR-GAS (being replaced by LOAF), ASQ:SE-2, KIPS and HADS
    "parent_infant": ServiceModel(28, 0.85, (5, 10), 10,
                                  ("PIRGAS", "LOAF", "ASQSE2", "KIPS", "HADS_A", "HADS_D")),
    "mbu": ServiceModel(2, 1.0, (3, 6), 5, ()),
    "family_hub": ServiceModel(12, 0.8, (2, 5), 14, ()),
    "social_care": ServiceModel(10, 0.9, (2, 6), 14, ()),
    "voluntary": ServiceModel(18, 0.75, (2, 6), 10, ()),
}

# Screening score = range * (slope * severity + intercept + noise): correlated with the
# hidden severity, so screen-positive rates rise with need. PIR-GAS falls as risk rises.
SCORE_MODEL = {
    "WHOOLEY": (0.9, -0.08, 0.18), "GAD2": (0.85, -0.02, 0.15), "EPDS": (0.75, 0.1, 0.1),
    "PHQ9": (0.75, 0.04, 0.1), "GAD7": (0.75, 0.04, 0.1), "CORE10": (0.7, 0.02, 0.1),
    "PIRGAS": (-0.8, 0.92, 0.08), "HADS_A": (0.75, 0.05, 0.1), "HADS_D": (0.7, 0.03, 0.1),
    "LOAF": (0.9, -0.05, 0.1), "ASQSE2": (0.35, 0.02, 0.04), "KIPS": (-0.7, 0.9, 0.08),
}


@dataclass(frozen=True)
class Instrument:
    name: str
    low: float
    high: float
    case_threshold: float
    higher_is_better: bool


def instrument_ranges() -> dict[str, Instrument]:
    table = read_reference_csv("instruments", reference_dir() / "instruments.csv")
    return {row.instrument: Instrument(row.instrument, row.min_score, row.max_score,
                                       row.case_threshold, bool(row.higher_is_better))
            for row in table.itertuples()}


def contact_windows() -> dict[str, tuple[int, int]]:
    """Each mandated contact's window as (start, end) day offsets, from contact_windows.csv."""
    table = read_reference_csv("contact_windows", reference_dir() / "contact_windows.csv")
    return {row.contact_code: (int(row.window_start_offset_days), int(row.window_end_offset_days))
            for row in table.itertuples()}


class Scorer:
    """Scores in each instrument's reference range, driven by hidden severity."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.ranges = instrument_ranges()

    def score(self, instrument: str, severity: np.ndarray) -> np.ndarray:
        slope, intercept, noise = SCORE_MODEL[instrument]
        spec = self.ranges[instrument]
        fraction = np.clip(slope * severity + intercept + self.rng.normal(0, noise, len(severity)), 0, 1)
        return np.round(spec.low + (spec.high - spec.low) * fraction)

    def positive(self, instrument: str, scores: np.ndarray) -> np.ndarray:
        spec = self.ranges[instrument]
        return scores <= spec.case_threshold if spec.higher_is_better else scores >= spec.case_threshold


def _codes(names: tuple[str, ...], value, n: int) -> np.ndarray:
    if value is None:
        return np.full(n, -1, np.int8)
    if isinstance(value, str):
        return np.full(n, names.index(value), np.int8)
    return np.asarray(value, np.int8)


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-row counts: the row of each repeated item and its position (0, 1, ...) in its row."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - starts[owner]


class Journal:
    """An area's activity and measure rows as code arrays, before they get ids."""

    def __init__(self, cohort: Cohort, cutoff: int):
        self.cohort = cohort
        self.cutoff = cutoff
        # Routine pregnancy care stops at a loss; support after it does not.
        self.pregnancy_ends = np.where(cohort.loss != NO_DAY, cohort.loss, LATEST)
        self.activity_blocks: list[dict] = []
        self.measure_blocks: list[dict] = []

    def activity(self, rows, days, service: str, activity_type: str, *, contact_code=None,
                 attendance="attended", tier=None, source=None, routine=False, subject=None,
                 infant=1) -> None:
        rows, days = np.asarray(rows), np.asarray(days, np.int64)
        n = len(rows)
        block = dict(row=rows, day=days, service=_codes(SERVICES, service, n),
                     activity_type=_codes(ACTIVITY_TYPES, activity_type, n),
                     contact_code=_codes(CONTACT_CODES, contact_code, n),
                     attendance=_codes(ATTENDANCE, attendance, n), tier=_codes(TIERS, tier, n),
                     referral_source=_codes(REFERRAL_SOURCES, source, n),
                     contact_mode=np.full(n, -1, np.int8),   # set by record_contact_modes
                     subject=_codes(SUBJECTS, subject, n), infant_number=np.full(n, infant, np.int8))
        if routine:
            keep = days <= self.pregnancy_ends[rows]
            block = {k: v[keep] for k, v in block.items()}
        self.activity_blocks.append(block)

    def measure(self, rows, days, instrument: str, scores, timepoint: str, service: str) -> None:
        rows = np.asarray(rows)
        n = len(rows)
        self.measure_blocks.append(dict(
            row=rows, day=np.asarray(days, np.int64), instrument=_codes(INSTRUMENTS, instrument, n),
            score=np.asarray(scores, np.int16), timepoint=_codes(TIMEPOINTS, timepoint, n),
            service=_codes(SERVICES, service, n)))

    def rows(self, blocks: list[dict]) -> dict[str, np.ndarray]:
        """All blocks as one set of arrays: nothing after the cut-off, ordered by pregnancy and date."""
        merged = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
        keep = merged["day"] <= self.cutoff
        merged = {k: v[keep] for k, v in merged.items()}
        order = np.lexsort((merged["day"], self.cohort.pregnancy_number[merged["row"]]))
        return {k: v[order] for k, v in merged.items()}


def area_journal(cohort: Cohort, area: DemoArea, cutoff: int, rng: np.random.Generator) -> Journal:
    """Everything the services of one area record for its pregnancies."""
    journal = Journal(cohort, cutoff)
    scorer = Scorer(rng)
    n = len(cohort)
    everyone = np.arange(n)
    born = cohort.outcome == 0
    has_birth = cohort.outcome <= 1
    booked = cohort.booking != NO_DAY
    # The first positive mood screen in pregnancy and after birth (LATEST when none).
    positive_antenatal = np.full(n, LATEST)
    positive_postnatal = np.full(n, LATEST)

    def screen(rows, days, service, instruments, severity, first_positive):
        journal.activity(rows, days, service, "screening")
        any_positive = np.zeros(len(rows), bool)
        for instrument in instruments:
            scores = scorer.score(instrument, severity[rows])
            journal.measure(rows, days, instrument, scores, "screen", service)
            any_positive |= scorer.positive(instrument, scores)
        np.minimum.at(first_positive, rows[any_positive], days[any_positive])

    def chance(p, rows=everyone):
        return rng.random(len(rows)) < p

    # ---- maternity: booking (with Whooley and GAD-2), antenatal and postnatal contacts -----
    rows = everyone[booked]
    journal.activity(rows, cohort.booking[rows], "maternity", "contact", contact_code="booking")
    asked = rows[chance(area.screening, rows)]
    screen(asked, cohort.booking[asked], "maternity", ("WHOOLEY", "GAD2"),
           cohort.severity_antenatal, positive_antenatal)

    pregnancy_end = np.where(has_birth, cohort.birth, cohort.edd)
    visits = rng.integers(4, 9, len(rows))
    owner, position = expand(visits)
    r = rows[owner]
    spacing = (pregnancy_end[r] - cohort.booking[r]) / (visits[owner] + 1)
    days = cohort.booking[r] + ((position + 1) * spacing).astype(int) + rng.integers(-3, 4, len(r))
    keep = (days > cohort.booking[r]) & (days < pregnancy_end[r])
    journal.activity(r[keep], days[keep], "maternity", "contact", routine=True)

    rows = everyone[has_birth]
    visits = np.where(born[rows], rng.integers(2, 5, len(rows)), 1)
    owner, position = expand(visits)
    r = rows[owner]
    journal.activity(r, cohort.birth[r] + 1 + 3 * position + rng.integers(0, 3, len(r)),
                     "maternity", "contact")

    # ---- health visiting: the mandated contacts, on time or late, some missed first -----
    # On time means inside the metric's window (contact_windows.csv), so the demo follows
    # the reference data if a commissioner changes a window.
    windows = contact_windows()

    def after_birth(rows, on_time, contact_code, on_time_span, late_mean, latest):
        """Days of a postnatal contact: in the window's last on_time_span days, or late."""
        end = windows[contact_code][1]
        late = end + 1 + np.minimum(rng.exponential(late_mean, len(rows)), latest - end - 1)
        offset = np.where(on_time, end - rng.integers(0, on_time_span, len(rows)), late.astype(int))
        return cohort.birth[rows] + offset

    def mandated(rows, days, contact_code, per_baby=True):
        """The contact, and before some of them a missed (did not attend or cancelled) one;
        after birth a twin's second baby gets the contact too, recorded as infant 2."""
        missed = rng.random(len(rows))
        first_missed = missed < 0.09
        journal.activity(rows[first_missed], days[first_missed] - rng.integers(3, 11, first_missed.sum()),
                         "health_visiting", "contact", contact_code=contact_code,
                         attendance=np.where(missed[first_missed] < 0.06, 1, 2), routine=True)
        journal.activity(rows, days, "health_visiting", "contact", contact_code=contact_code,
                         routine=True)
        twins = cohort.babies[rows] == 2
        if per_baby and twins.any():
            journal.activity(rows[twins], days[twins], "health_visiting", "contact",
                             contact_code=contact_code, routine=True, infant=2)

    hv = area.hv_timeliness
    rows = everyone[(has_birth | (cohort.outcome == 3)) & booked]
    rows = rows[chance(min(0.97, 0.72 * hv), rows)]
    # From 28 weeks (the window start, edd - 84) over the next 8 weeks; a few come too early.
    early = chance(0.04, rows)
    days = (cohort.edd[rows] + windows["antenatal_hv_contact"][0]
            + np.where(early, -1 - np.minimum(rng.exponential(8, len(rows)), 27).astype(int),
                       rng.integers(0, 57, len(rows))))
    keep = (days < np.where(has_birth[rows], cohort.birth[rows], LATEST)) & (days > cohort.booking[rows])
    rows, days = rows[keep], days[keep]
    mandated(rows, days, "antenatal_hv_contact", per_baby=False)
    asked = chance(0.5, rows) & (days <= journal.pregnancy_ends[rows])
    screen(rows[asked], days[asked], "health_visiting", ("WHOOLEY",), cohort.severity_antenatal,
           positive_antenatal)

    rows = everyone[born]
    rows = rows[chance(0.99, rows)]
    on_time = chance(min(0.98, 0.88 * hv), rows)
    mandated(rows, after_birth(rows, on_time, "new_birth_visit", 8, 6, 45), "new_birth_visit")

    rows = everyone[born]
    rows = rows[chance(0.96, rows)]
    on_time = chance(min(0.97, 0.85 * hv), rows)
    days = after_birth(rows, on_time, "six_eight_week_review", 15, 14, 120)
    mandated(rows, days, "six_eight_week_review")
    asked = chance(area.screening, rows)
    screen(rows[asked], days[asked], "health_visiting", ("WHOOLEY", "GAD2"),
           cohort.severity_postnatal, positive_postnatal)
    with_epds = asked & chance(0.45, rows)
    epds, epds_days = rows[with_epds], days[with_epds]
    scores = scorer.score("EPDS", cohort.severity_postnatal[epds])
    journal.measure(epds, epds_days, "EPDS", scores, "screen", "health_visiting")
    hit = scorer.positive("EPDS", scores)
    np.minimum.at(positive_postnatal, epds[hit], epds_days[hit])

    lag = twelve_month_lag(area.area_code)
    rows = everyone[born]
    if lag:
        rows = rows[chance(1 - lag["missing_share"], rows)]
        on_time = chance(lag["on_time_share"] / (1 - lag["missing_share"]), rows)
    else:
        rows = rows[chance(0.92, rows)]
        on_time = chance(min(0.95, 0.8 * hv), rows)
    mandated(rows, after_birth(rows, on_time, "twelve_month_review", 66, 50, 620),
             "twelve_month_review")

    # ---- GP: the mother's six-week check, with PHQ-9 for some -------------------------
    rows = everyone[has_birth]
    rows = rows[chance(0.88, rows)]
    days = cohort.birth[rows] + rng.integers(42, 64, len(rows))
    journal.activity(rows, days, "gp", "contact", contact_code="gp_six_week_check")
    asked = chance(0.35, rows)
    scores = scorer.score("PHQ9", cohort.severity_postnatal[rows[asked]])
    journal.measure(rows[asked], days[asked], "PHQ9", scores, "screen", "gp")
    hit = scorer.positive("PHQ9", scores)
    np.minimum.at(positive_postnatal, rows[asked][hit], days[asked][hit])

    # ---- preconception advice for women with a mental-health history ---------------------
    history = cohort.risk_factors["rf_mental_health_history"]
    rows = everyone[history & chance(0.22)]
    journal.activity(rows, cohort.conception[rows] - rng.integers(30, 331, len(rows)),
                     "preconception", "contact", contact_code="preconception_advice")
    rows = everyone[(cohort.condition == CHRONIC_SMI) & chance(0.5)]
    if "perinatal_mh" not in absent_services(area.area_code):
        journal.activity(rows, cohort.conception[rows] - rng.integers(30, 200, len(rows)),
                         "perinatal_mh", "contact", contact_code="preconception_advice")

    # ---- referrals to targeted and specialist services -----------------------------------
    deciles, factor = underserved_deciles(area.area_code)
    reach = area.access * np.where(np.isin(cohort.imd_decile, deciles), factor, 1.0)
    severity_on = _severity_on(cohort)
    first_positive = np.minimum(positive_antenatal, positive_postnatal)
    source_by_time = np.where(positive_antenatal < LATEST, 1, 2)  # maternity, else health visiting

    # Planted (v1.1): an area that waits until after birth to refer families with a risk.
    delay = risk_referral_delay(area.area_code)
    any_risk = np.logical_or.reduce(list(cohort.risk_factors.values()))
    birth_or_due = np.where(has_birth, cohort.birth, cohort.edd)

    def refer(mask, days, service, source, severity):
        rows = everyone[mask]
        days = days[rows]
        if delay:
            held = any_risk[rows] & (days < birth_or_due[rows]) & (rng.random(len(rows)) < delay)
            days = np.where(held, birth_or_due[rows] + rng.integers(7, 61, len(rows)), days)
        episodes(journal, scorer, rng, area, rows, days, service,
                 source if isinstance(source, str) else source[rows], severity)

    p = np.select([cohort.condition == MILD, cohort.condition == PTSD,
                   cohort.condition == ADJUSTMENT, cohort.condition == NONE], [0.55, 0.35, 0.2, 0.06], 0.1)
    mask = (first_positive < LATEST) & chance(p * reach) & np.isin(cohort.condition, (MILD, PTSD, ADJUSTMENT, NONE))
    days = np.where(mask, first_positive, 0) + rng.integers(0, 22, n)
    sources = np.where(chance(0.25), 0, np.where(positive_antenatal < LATEST, 1,
                                                  np.where(chance(0.5), 2, 3)))
    refer(mask, days, "talking_therapies", sources, severity_on)

    # Health visitors' listening visits: the targeted tier inside a universal service.
    rows = everyone[(positive_postnatal < LATEST) & np.isin(cohort.condition, (MILD, ADJUSTMENT))
                    & chance(0.3 * reach)]
    visits = rng.integers(2, 5, len(rows))
    owner, position = expand(visits)
    r = rows[owner]
    journal.activity(r, positive_postnatal[r] + 7 * (position + 1), "health_visiting", "contact",
                     tier="targeted")

    serious = np.isin(cohort.condition, (SEVERE, CHRONIC_SMI, PSYCHOSIS))
    known = (first_positive < LATEST) | history | (cohort.condition == PSYCHOSIS)
    mask = serious & known & chance(np.where(cohort.condition == CHRONIC_SMI, 0.9, 0.8) * reach)
    mask &= (cohort.condition != PSYCHOSIS) | has_birth
    start = np.where(booked, cohort.booking, cohort.conception + 70)
    days = np.select([cohort.condition == CHRONIC_SMI, cohort.condition == PSYCHOSIS],
                     [start + rng.integers(0, 46, n), cohort.birth + rng.integers(3, 29, n)],
                     np.where(first_positive < LATEST, first_positive, start) + rng.integers(0, 16, n))
    refer(mask, days, "perinatal_mh", source_by_time, severity_on)

    mask = (cohort.condition == PSYCHOSIS) & has_birth & chance(0.5 * reach)
    refer(mask, cohort.birth + rng.integers(5, 31, n), "mbu", "perinatal_mh", severity_on)

    lost = cohort.outcome == 2
    stillbirth = cohort.outcome == 1
    ptsd = (cohort.condition == PTSD) & has_birth
    previous_loss = cohort.risk_factors["rf_previous_loss"] & booked & (cohort.severity_antenatal > 0.4)
    p = np.select([stillbirth, lost, ptsd, previous_loss], [0.6, 0.3, 0.45, 0.3], 0.0)
    days = np.select([stillbirth, lost, ptsd],
                     [cohort.birth + rng.integers(7, 61, n), cohort.loss + rng.integers(7, 61, n),
                      cohort.birth + rng.integers(30, 201, n)],
                     cohort.booking + rng.integers(14, 61, n))
    sources = np.select([lost | previous_loss], [1], 3)
    refer(chance(p * reach), days, "maternal_mh", sources, severity_on)

    # Parent-infant teams take referrals on risk, so work can start before birth.
    p = 0.6 / (1 + np.exp(-(cohort.relationship_risk - 0.48) / 0.05))
    eligible = born | ((cohort.outcome == 3) & booked)
    antenatal = chance(0.3) & booked
    days = np.where(antenatal, np.maximum(cohort.booking + 14, cohort.edd - rng.integers(30, 121, n)),
                    cohort.birth + rng.integers(14, 301, n))
    mask = eligible & chance(p * reach) & (antenatal | born)
    refer(mask, days, "parent_infant", np.where(antenatal, 1, 2), cohort.relationship_risk)

    risk_count = sum(flag.astype(int) for flag in cohort.risk_factors.values())
    p = np.where((risk_count > 0) | np.isin(cohort.imd_decile, (1, 2, 3)),
                 np.minimum(0.08 + 0.07 * risk_count, 0.4), 0.03)
    antenatal = chance(0.3) & booked
    days = np.where(antenatal, cohort.booking + rng.integers(14, 120, n),
                    cohort.birth + rng.integers(0, 331, n))
    mask = (born | ((cohort.outcome == 3) & antenatal)) & chance(p * reach)
    refer(mask, days, "family_hub", np.where(chance(0.4), 0, 2), severity_on)

    flags = cohort.risk_factors
    p = np.minimum(0.6 * flags["rf_social_care"] + 0.35 * flags["rf_domestic_abuse"]
                   + 0.3 * flags["rf_substance_misuse"], 0.8)
    start = np.where(booked, cohort.booking, cohort.conception + 70)
    days = start + rng.integers(0, 400, n)
    refer(chance(p * reach), days, "social_care", np.where(chance(0.5), 1, 2), severity_on)

    p = np.where(cohort.condition != NONE, 0.06, 0.01) + 0.25 * flags["rf_asylum_or_migrant"]
    days = start + rng.integers(0, 450, n)
    refer(chance(p * reach), days, "voluntary", np.where(chance(0.6), 0, 2), severity_on)

    # ---- a few records outside every pathway window, for data quality to find ------------
    rows = everyone[born & chance(0.004)]
    journal.activity(rows, cohort.birth[rows] + rng.integers(600, 761, len(rows)),
                     "health_visiting", "contact")
    rows = everyone[chance(0.002)]
    journal.activity(rows, cohort.conception[rows] - rng.integers(400, 701, len(rows)), "gp", "contact")
    record_contact_modes(journal, area, rng)
    return journal


# How contacts happen (contract v1.1 contact_mode): mostly face to face, some by video or
# telephone, a few unrecorded; a share of each perinatal team's women are seen by telephone
# only (planted high in one area), whom NHS England's MHS91 does not count.
MODE_SHARES = {"face_to_face": 0.78, "video": 0.1, "telephone": 0.09, "text": 0.01, "blank": 0.02}
NO_MODE_TYPES = ("referral", "discharge")


def record_contact_modes(journal: Journal, area: DemoArea, rng: np.random.Generator) -> None:
    n = len(journal.cohort)
    by_telephone = rng.random(n) < telephone_share(area.area_code)
    telephone_services = [SERVICES.index(s) for s in ("perinatal_mh", "maternal_mh")]
    codes = [CONTACT_MODES.index(m) if m != "blank" else -1 for m in MODE_SHARES]
    cumulative = np.cumsum(list(MODE_SHARES.values()))
    for block in journal.activity_blocks:
        drawn = np.asarray(codes, np.int8)[np.searchsorted(cumulative, rng.random(len(block["row"])))]
        phone = by_telephone[block["row"]] & np.isin(block["service"], telephone_services)
        drawn = np.where(phone, CONTACT_MODES.index("telephone"), drawn)
        drawn = np.where(block["service"] == SERVICES.index("mbu"), CONTACT_MODES.index("face_to_face"), drawn)
        no_mode = np.isin(block["activity_type"], [ACTIVITY_TYPES.index(t) for t in NO_MODE_TYPES])
        block["contact_mode"] = np.where(no_mode, -1, drawn).astype(np.int8)


def _severity_on(cohort: Cohort):
    """Severity on a given day per row: the antenatal figure before birth, postnatal after."""
    def at(rows, days):
        after_birth = (cohort.birth[rows] != NO_DAY) & (days >= cohort.birth[rows])
        return np.where(after_birth, cohort.severity_postnatal[rows], cohort.severity_antenatal[rows])
    return at


def episodes(journal: Journal, scorer: Scorer, rng: np.random.Generator, area: DemoArea,
             rows: np.ndarray, referral_day: np.ndarray, service: str, source, severity) -> None:
    """Referral, wait, assessment, a course of contacts, discharge and outcome measures."""
    if service in absent_services(area.area_code) or len(rows) == 0:
        return
    model = SERVICE_MODEL[service]
    n = len(rows)
    # Support after a loss is not routine pregnancy care: it is kept after the loss.
    # Attendance is blank on referrals and discharges: the contract's default covers them.
    journal.activity(rows, referral_day, service, "referral", attendance=None,
                     source=_codes(REFERRAL_SOURCES, source, n))
    seen = rng.random(n) < model.seen_share
    wait = np.clip(np.round(rng.lognormal(np.log(model.wait_median_days * area.wait_scale), 0.55, n)),
                   0, 365).astype(int)
    assessed = referral_day + wait
    missed = seen & (rng.random(n) < 0.1)
    journal.activity(rows[missed], assessed[missed], service, "assessment", attendance="dna")
    assessed = np.where(missed, assessed + rng.integers(7, 22, n), assessed)
    journal.activity(rows[seen], assessed[seen], service, "assessment")
    if service in ("perinatal_mh", "maternal_mh"):
        # Planted (v1.1): some areas assess partners too (the Long Term Plan's offer)
        partner = seen & (rng.random(n) < partner_share(area.area_code))
        journal.activity(rows[partner], assessed[partner] + rng.integers(7, 29, partner.sum()),
                         service, "assessment", subject="partner")
    unseen = ~seen & (rng.random(n) < 0.5)
    journal.activity(rows[unseen], referral_day[unseen] + rng.integers(28, 57, unseen.sum()),
                     service, "discharge", attendance=None)

    low, high = model.interventions
    contacts = np.where(seen & (rng.random(n) >= 0.12), rng.integers(low, high + 1, n), 0)
    owner, position = expand(contacts)
    days = assessed[owner] + model.interval_days * (position + 1) + rng.integers(0, 4, owner.size)
    attendance = np.where(rng.random(owner.size) < 0.06, 1, 0)
    journal.activity(rows[owner], days, service, "intervention", attendance=attendance)
    last = assessed.copy()
    np.maximum.at(last, owner, days)
    discharged = seen & (rng.random(n) < 0.9)
    journal.activity(rows[discharged], last[discharged] + rng.integers(7, 29, discharged.sum()),
                     service, "discharge", attendance=None)

    # Outcome measures: most treated women improve, some do not, a few get worse.
    baseline = severity(rows, assessed) if callable(severity) else severity[rows]
    change = rng.random(n)
    end = np.clip(baseline + np.select([change < 0.7, change < 0.92],
                                       [-rng.uniform(0.25, 0.5, n), rng.normal(0, 0.03, n)],
                                       rng.uniform(0.1, 0.25, n)), 0, 1)
    completed = contacts >= 2
    for instrument in model.instruments:
        journal.measure(rows[seen], assessed[seen], instrument,
                        scorer.score(instrument, baseline[seen]), "baseline", service)
        journal.measure(rows[completed], last[completed], instrument,
                        scorer.score(instrument, end[completed]), "end", service)
