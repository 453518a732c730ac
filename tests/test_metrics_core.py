"""The core metrics on the hand-built fixture (tests/metric_fixtures.py), on DuckDB and PostgreSQL.

Every expected number is worked out by hand in the fixture module's docstring; the comments
here say which pregnancies make it. Period 2023-01-01..2024-06-30, as_at 2024-12-31.
"""

from __future__ import annotations

import pandas as pd
import pytest

from metric_fixtures import ALPHA, BETA, GAMMA, PERIOD, fixture_warehouse  # noqa: F401
from pathway.metrics import run_metric


def raw(warehouse, name, **params):
    return run_metric(warehouse, name, {**PERIOD, **params}, suppress=False)


def row(frame, **keys):
    match = frame
    for column, value in keys.items():
        match = match[match[column] == value]
    assert len(match) == 1, f"expected one row for {keys}, found {len(match)}"
    return match.iloc[0]


# ---- births ---------------------------------------------------------------------------
def test_births_counts_live_births_pregnancies_and_bookings(fixture_warehouse):
    frame = raw(fixture_warehouse, "births")
    alpha = row(frame, area_code=ALPHA)
    # live births P1-P4; pregnancies add stillbirth P5 and loss P6 (dated by its EDD); ongoing
    # P7 is due after as_at. Booked by 12+6: P1 (51 days) and P2 (exactly 90); P3 at 91 is not.
    assert (alpha.live_births, alpha.pregnancies, alpha.booked_by_13_weeks) == (4, 6, 2)
    # contract v1.1: P4, P5 and P6 have no booking date, so they leave the denominator
    # (NHS Maternity Statistics) and are reported as booking_missing: 2 of 3
    assert (alpha.booking_known, alpha.booking_missing) == (3, 3)
    assert alpha.booked_by_13_weeks_pct == pytest.approx(100 * 2 / 3)
    assert alpha.period == "2023-01-01/2024-06-30"
    beta = row(frame, area_code=BETA)
    # Q1 has no booking date; Q2 has no EDD, so no gestation at booking
    assert (beta.live_births, beta.pregnancies, beta.booked_by_13_weeks) == (2, 2, 0)
    assert (beta.booking_known, beta.booking_missing) == (0, 2)
    assert pd.isna(beta.booked_by_13_weeks_pct)


def test_births_area_without_pregnancies_shows_zero(fixture_warehouse):
    gamma = row(raw(fixture_warehouse, "births"), area_code=GAMMA)
    assert (gamma.live_births, gamma.pregnancies, gamma.booked_by_13_weeks) == (0, 0, 0)


def test_births_by_quarter_lists_every_quarter_of_every_area(fixture_warehouse):
    frame = raw(fixture_warehouse, "births", grain="quarter")
    # 2023-Q1 .. 2024-Q2 is six quarters, for three areas
    assert len(frame) == 18
    alpha = frame[frame.area_code == ALPHA].set_index("period")
    assert list(alpha.index) == ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4", "2024-Q1", "2024-Q2"]
    # Q1: P1; Q2: P2 live and P5 stillborn; Q3: loss P6; Q4: P3; 2024-Q1: P4; 2024-Q2: none
    assert list(alpha.live_births) == [1, 1, 0, 1, 1, 0]
    assert list(alpha.pregnancies) == [1, 2, 1, 1, 1, 0]


def test_births_by_month_and_year_label_their_periods(fixture_warehouse):
    months = raw(fixture_warehouse, "births", grain="month", area=ALPHA)
    assert len(months) == 18  # January 2023 to June 2024
    assert row(months, period="2023-03").live_births == 1  # P1 on 2023-03-01
    years = raw(fixture_warehouse, "births", grain="year", area=ALPHA)
    assert list(years.period) == ["2023", "2024"]
    assert list(years.live_births) == [3, 1]


# ---- stage_reach ----------------------------------------------------------------------
def test_stage_reach_counts_each_stage_and_tier(fixture_warehouse):
    frame = raw(fixture_warehouse, "stage_reach", area=ALPHA)
    # cohort: P1, P2, P3 (P4 born 2024-03-01 has not had 365 days by as_at)
    assert set(frame.cohort) == {3}
    reached = {(r.stage, r.tier): r.reached for r in frame.itertuples()}
    assert reached == {
        ("preconception", "universal"): 1,   # P1's preconception advice
        ("preconception", "targeted"): 0,
        ("preconception", "specialist"): 0,
        ("antenatal", "universal"): 2,       # P1's booking, P2's early HV contact; P3's DNA is not
        ("antenatal", "targeted"): 1,        # P1's talking therapies assessment and intervention
        ("antenatal", "specialist"): 0,
        ("postnatal", "universal"): 3,       # new birth visits of P1 (day 14), P2 (15), P3 (3)
        ("postnatal", "targeted"): 0,        # P2's cancelled family hub contact and referral
        ("postnatal", "specialist"): 1,      # P3's perinatal MH contact; P1's referral and DNA are not
        ("infant", "universal"): 2,          # P1's 12-month review (day 365), P2's day-57 review
        ("infant", "targeted"): 0,           # P2's voluntary contact on day 380 is outside
        ("infant", "specialist"): 1,         # P1's perinatal MH assessment on day 71
    }
    antenatal = row(frame, stage="antenatal", tier="universal")
    assert antenatal.pct == pytest.approx(200 / 3)


def test_stage_reach_rows_come_in_pathway_order(fixture_warehouse):
    frame = raw(fixture_warehouse, "stage_reach", area=ALPHA)
    assert list(dict.fromkeys(frame.stage)) == ["preconception", "antenatal", "postnatal", "infant"]
    assert list(frame.tier[:3]) == ["universal", "targeted", "specialist"]


def test_stage_reach_area_without_events_is_zero_not_missing(fixture_warehouse):
    frame = raw(fixture_warehouse, "stage_reach")
    gamma = frame[frame.area_code == GAMMA]
    assert len(gamma) == 12  # 4 stages x 3 tiers
    assert set(gamma.reached) == {0} and set(gamma.cohort) == {0}
    assert gamma.pct.isna().all()  # no cohort: no percentage rather than a false 0%


def test_stage_reach_birth_without_complete_follow_up_is_left_out(fixture_warehouse):
    # P4 (born 2024-03-01) is reached in the postnatal stage only by a DNA; with the whole
    # period to 2024-06-30 the cohort is still 3: P4 needs until 2025-03-01.
    frame = raw(fixture_warehouse, "stage_reach", area=ALPHA)
    assert row(frame, stage="postnatal", tier="universal").cohort == 3


# ---- mandated_contacts ----------------------------------------------------------------
def contacts(warehouse, area=ALPHA):
    frame = raw(warehouse, "mandated_contacts", area=area)
    return {r.contact_code: (r.numerator, r.denominator) for r in frame.itertuples()}


def test_antenatal_contact_at_exactly_edd_minus_84_counts(fixture_warehouse):
    # P1 on EDD - 84 counts; P2 on EDD - 85 is early; P3 and P4 have none. All four are born.
    assert contacts(fixture_warehouse)["antenatal_hv_contact"] == (1, 4)


def test_antenatal_contact_without_edd_hangs_on_the_birth_date(fixture_warehouse):
    # Q2 has no EDD: its contact 30 days before birth is inside birth - 84 .. birth - 1
    assert contacts(fixture_warehouse, BETA)["antenatal_hv_contact"] == (1, 2)


def test_new_birth_visit_on_day_14_counts_and_day_15_is_late(fixture_warehouse):
    # P1 day 14 and P3 day 3 count; P2 day 15 is late; P4's visit was a DNA
    assert contacts(fixture_warehouse)["new_birth_visit"] == (2, 4)


def test_six_eight_week_review_on_day_56_counts_and_day_57_does_not(fixture_warehouse):
    assert contacts(fixture_warehouse)["six_eight_week_review"] == (1, 4)


def test_twelve_month_review_needs_365_days_of_follow_up(fixture_warehouse):
    # denominator P1, P2, P3 (P4 born 2024-03-01 has not reached day 365 by as_at);
    # P1 on day 365 counts; P2's DNA on day 326 does not, its review on day 400 is late
    assert contacts(fixture_warehouse)["twelve_month_review"] == (1, 3)


def test_twelve_month_review_by_15_months_leaves_out_births_still_in_follow_up(fixture_warehouse):
    # as_at 2024-12-31 - 456 days = 2023-10-02: P1 and P2 are in, P3 (2023-11-20) is not;
    # P1 (day 365) and P2 (day 400) both count
    assert contacts(fixture_warehouse)["twelve_month_review_by_15_months"] == (2, 2)


def test_mandated_contacts_area_without_births_shows_zero_rows(fixture_warehouse):
    assert set(contacts(fixture_warehouse, GAMMA).values()) == {(0, 0)}
    assert len(contacts(fixture_warehouse, GAMMA)) == 5


# ---- mood_screening -------------------------------------------------------------------
def test_mood_screening_by_stage(fixture_warehouse):
    frame = raw(fixture_warehouse, "mood_screening", area=ALPHA)
    # cohort P1-P4 (56 days of follow-up is enough for P4); antenatal: P1's EPDS (and PHQ-9);
    # postnatal: P1 WHOOLEY, P2 GAD-2, P4 EPDS. P2's PIR-GAS is not a mood screen.
    assert {r.stage: (r.screened, r.cohort) for r in frame.itertuples()} == {
        "antenatal": (1, 4), "postnatal": (3, 4)}
    assert row(frame, stage="postnatal").pct == pytest.approx(75.0)


# ---- specialist_access ----------------------------------------------------------------
def test_specialist_access_against_expected_need(fixture_warehouse):
    alpha = row(raw(fixture_warehouse, "specialist_access"), area_code=ALPHA)
    # P1's attended perinatal MH assessment; P3's perinatal MH *contact* is not an assessment
    assert (alpha.live_births, alpha.accessed) == (3, 1)
    assert alpha.access_pct == pytest.approx(100 / 3)
    # specialist need, mid: psychosis 2 + chronic SMI 2 + severe depression 30 = 34 per 1,000
    assert alpha.expected_need == pytest.approx(3 * 34 / 1000)
    assert alpha.need_met_pct == pytest.approx(100 * 1 / 0.102)


def test_specialist_access_need_parameter_picks_the_prevalence(fixture_warehouse):
    # the shipped specialist-need conditions have one figure (low = mid = high); the
    # parameter still binds, and a bad value is refused elsewhere
    high = row(raw(fixture_warehouse, "specialist_access", need="high"), area_code=BETA)
    assert high.expected_need == pytest.approx(2 * 34 / 1000)


# ---- referral_funnel, waiting_times, outcomes -----------------------------------------
def test_referral_funnel_steps(fixture_warehouse):
    frame = raw(fixture_warehouse, "referral_funnel", area=ALPHA).set_index("service")
    steps = ["screened", "screen_positive", "referred", "assessed", "treated", "completed"]
    # P1 referred, assessed, treated, discharged after treatment
    assert list(frame.loc["talking_therapies", steps]) == [0, 0, 1, 1, 1, 1]
    # P1 and P3 referred; P1 assessed (after a DNA); nobody treated
    assert list(frame.loc["perinatal_mh", steps]) == [0, 0, 2, 1, 0, 0]
    # WHOOLEY 0 (negative, P1) and GAD-2 3 (positive at >= 3, P2)
    assert list(frame.loc["health_visiting", steps[:2]]) == [2, 1]
    # EPDS 14 >= 13 at booking (P1)
    assert list(frame.loc["maternity", steps[:2]]) == [1, 1]
    assert len(frame) == 12  # every service in ref_services


def test_waiting_times_days_to_first_attended_contact(fixture_warehouse):
    frame = raw(fixture_warehouse, "waiting_times", area=ALPHA).set_index("service")
    perinatal = frame.loc["perinatal_mh"]
    # P1: referral day 31, DNA day 40, seen day 71 = 40 days; P3: referral day 11, seen day 39
    # = 28 days (within 28). Median of (28, 40) = 34; p90 = 28 + 0.9 x 12 = 38.8
    assert (perinatal.referrals, perinatal.seen, perinatal.seen_within_28_days) == (2, 2, 1)
    assert perinatal.median_days == pytest.approx(34.0)
    assert perinatal.p90_days == pytest.approx(38.8)
    assert perinatal.seen_within_28_days_pct == pytest.approx(50.0)
    family_hub = frame.loc["family_hub"]
    # P2's referral on day 25 is never seen (the cancelled contact was before it, and cancelled)
    assert (family_hub.referrals, family_hub.seen, family_hub.seen_within_28_days_pct) == (1, 0, 0.0)
    assert frame.loc["talking_therapies", "median_days"] == pytest.approx(20.0)


def test_outcomes_pair_first_baseline_with_last_end(fixture_warehouse):
    frame = raw(fixture_warehouse, "outcomes", area=ALPHA).set_index(["service", "instrument"])
    phq9 = frame.loc[("talking_therapies", "PHQ9")]
    # 15 -> 7: a fall of 8 >= 6 is reliable improvement; 15 is a case (>= 10), 7 is not
    assert (phq9.paired, phq9.mean_baseline, phq9.mean_end) == (1, 15.0, 7.0)
    assert (phq9.reliable_improvement_pct, phq9.reliable_deterioration_pct) == (100.0, 0.0)
    assert (phq9.cases_at_baseline, phq9.recovered_pct) == (1, 100.0)
    pirgas = frame.loc[("parent_infant", "PIRGAS")]
    # first baseline 60 (not the later 30), end 45: higher is better, so a reliable
    # deterioration of 15 >= 10; 60 is above the 40 case threshold: no case, no recovery rate
    assert (pirgas.paired, pirgas.mean_baseline) == (1, 60.0)
    assert (pirgas.reliable_improvement_pct, pirgas.reliable_deterioration_pct) == (0.0, 100.0)
    assert pirgas.cases_at_baseline == 0
    assert pirgas.recovered_pct != pirgas.recovered_pct  # NaN: no cases at baseline


def test_outcomes_areas_without_pairs_show_zero(fixture_warehouse):
    frame = raw(fixture_warehouse, "outcomes")
    gamma = frame[frame.area_code == GAMMA]
    assert len(gamma) == 2 and set(gamma.paired) == {0}


# ---- data_quality ---------------------------------------------------------------------
def test_data_quality_counts_events_outside_every_stage(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "data_quality", suppress=False)
    activity_date = row(frame, table="activity", column="activity_date")
    # P2's voluntary contact (day 380) and 12-month review (day 400) are outside every stage
    assert activity_date.invalid == 2
    assert activity_date.rows == 31
    booking = row(frame, table="cohort", column="booking_date")
    # P1, P2 and P3 of the nine pregnancies have a booking date
    assert booking.completeness_pct == pytest.approx(100 * 3 / 9)


def test_data_quality_rows_are_counts_under_disclosure_control(fixture_warehouse):
    """Rows are pregnancies and contacts: shown rounded, and completeness with them (contract
    7.4). Unrounded, 33.3% of 9 pregnancies said exactly 6 have no booking date."""
    frame = run_metric(fixture_warehouse, "data_quality")
    activity_date = row(frame, table="activity", column="activity_date")
    assert (activity_date.rows, activity_date.complete) == (30, 30)  # 31 rounded to 5
    booking = row(frame, table="cohort", column="booking_date")
    # 3 of 9 pregnancies have a booking date: 1-7, hidden, and the percentage with it
    assert pd.isna(booking.complete) and pd.isna(booking.completeness_pct)
    assert pd.isna(activity_date.invalid)  # 2 outside every stage: 1-7


def test_the_sql_sorting_its_rows_changes_no_answer(fixture_warehouse):
    """After its first run a metric's SQL sorts its rows as _in_order would; every answer, in every
    area mode and suppressed or not, is the one pandas' sort of the unsorted rows gives."""
    from pathway import catalogue, metrics

    for name, metric in catalogue.METRICS.items():
        for area in (["all", "QAA", ALPHA] if metric.parameter("area") else [None]):
            params = {"area": area} if area else {}
            for suppress in (False, True):
                metrics._SQL_TEXT.clear()
                metrics._SQL_COLUMNS.clear()
                sorted_by_pandas = run_metric(fixture_warehouse, name, params, suppress=suppress)
                sorted_by_sql = run_metric(fixture_warehouse, name, params, suppress=suppress)
                assert "order by" in metrics._sql_of(metric, fixture_warehouse.dialect)[0]
                pd.testing.assert_frame_equal(sorted_by_sql, sorted_by_pandas, obj=f"{name} {params}")


def test_rows_already_in_order_are_told_apart_from_rows_that_are_not():
    from pathway.metrics import _in_order_already

    frame = pd.DataFrame({"area": ["A", "A", "B", "B"], "month": [1, 2, 1, 1], "n": [4, 3, 2, 1]})
    assert _in_order_already(frame, ["area", "month"])           # ties on both keys keep their rows
    assert not _in_order_already(frame, ["area", "n"])          # A: 4 before 3
    assert not _in_order_already(frame, ["month"])              # 2 before 1
    assert _in_order_already(frame, ["area"])
    with_gap = frame.assign(month=[1.0, float("nan"), 1.0, 2.0])
    assert not _in_order_already(with_gap, ["area", "month"])    # a missing value: sort to be sure
    mixed = frame.assign(area=["A", None, "B", "B"])
    assert not _in_order_already(mixed, ["area"])
    unlike = pd.DataFrame({"k": ["a", 1]}, dtype=object)         # values that do not compare
    assert not _in_order_already(unlike, ["k"])
