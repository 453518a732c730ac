"""Contract v1.1 metrics on both engines, with numbers worked out by hand at their boundaries:
perinatal_access (24 months after birth, telephone, blank mode, a loss), risk_pathway and
partner_involvement (day 365 against day 366), mandated_contacts per baby (twins),
waiting_times (NICE QS115; a contact after day 365), and outcomes without a threshold.

Three areas, each for one group of metrics; as_at 2024-12-31 throughout.

Access (E09000001), one woman each; MHS91 counts face-to-face or video contacts in the
12 months to the month end, conception to 24 months after birth:
  W1  born 2023-01-10; perinatal team face to face 2024-06-01                     counts
  W2  born 2022-06-15; video 2024-06-15 = exactly 24 months after birth           counts
  W3  born 2022-06-14; face to face 2024-06-15 = 24 months and a day              no
  W4  born 2024-02-01; telephone 2024-03-01                                       no (telephone only)
  W5  born 2024-03-01; assessment, mode blank, 2024-04-01                         counts, mode unknown
  W6  loss, EDD 2024-09-01 (conception 2023-12-10); video intervention 2024-03-01 counts (any outcome)
  W7  born 2024-05-01; maternal mental health service face to face 2024-05-20     maternal_mh only
  W8  born 2024-06-01; perinatal team, did not attend, 2024-06-10                 no
  W9  born 2024-07-01; perinatal team with her partner (subject partner)          no
  W10 ongoing, EDD 2025-06-01 (conception 2024-09-08); face to face 2024-08-01    no (before conception)
  W11 born 2024-08-01; mother and baby unit face to face 2024-08-05               counts
  -> December 2024 (window 2024-01-01..2024-12-31): 5 women (W1, W2, W5, W6, W11), 1 by a
     contact of unknown mode, 1 telephone only; live births in 2024: W4, W5, W7, W8, W9, W11 = 6.

Risk (E09000002), period 2023-01-01..2024-06-30:
  R1 born 2023-03-01, booked 2022-08-01, no risk date (booking date used); domestic abuse.
     family hub referral 2022-09-01 and contact 2022-09-11 (antenatal): referred, seen, 41 days.
     perinatal team assessment 2022-10-01 (specialist access). parent-infant contact on day 365
     (2024-02-29): seen. Partner assessed on day 366 (2024-03-01): not counted.
  R2 born 2023-04-01, risk recorded 2023-01-02; domestic abuse and substance misuse.
     perinatal team referral 2023-03-31 (the day before birth): referred; assessment 2023-04-11
     (postnatal): 99 days; parent-infant contact on day 366 (2024-04-01): not seen.
     Partner assessed on day 365 (2024-03-31): counted.
  R3 born 2023-05-01, substance misuse, no booking, no risk date: referral on the birth date
     (not before birth); health visiting (universal) antenatal contact: not seen; a
     parent-infant contact not attended.
  R4 born 2023-06-01, both flags recorded as no: not at risk.
  R5 loss, EDD 2023-07-01, domestic abuse: not in the cohort (a loss).
  R6 ongoing, EDD 2024-03-01 (passed), risk recorded 2023-09-01, substance misuse:
     social care contact 2023-10-01 (antenatal): seen, 30 days.
  domestic abuse: R1, R2: 2 at risk, 2 referred, 1 seen, 1 parent-infant, days 41 and 99.
  substance misuse: R2, R3, R6: 3, 1 referred, 1 seen, 0 parent-infant, days 99 and 30.
  any: R1, R2, R3, R6: 4, 2 referred, 2 seen, 1 parent-infant, days 41, 99, 30 (median 41).
  Partners: women with specialist access R1 and R2; R2's partner seen: 1 of 2.

Babies (E09000003):
  T1 twins born 2023-03-01: antenatal contact on EDD - 84; new birth visit day 10 (no
     infant_number: baby 1) and day 15 for baby 2 (late); 6-8 week review day 56 for both.
     perinatal team referral day 20, assessment day 34 (14 days), intervention day 62 (42 days).
     LOAF baseline 3, end 2; HADS anxiety baseline 12, end 6 (parent-infant team).
  T2 one baby born 2023-04-01: new birth visit day 14; a 6-8 week review on day 50 recorded for
     baby 2, whom she does not have (counted for the pregnancy, not for her one baby). perinatal team referral day 300,
     assessment day 366 (66 days, after the pathway's last day: still seen), intervention day 380.
  T3 born 2024-12-31, nothing else: the latest birth recorded.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from itertools import count

import pandas as pd
import pytest
import sqlalchemy as sa

from metric_fixtures import build_warehouse, postgres_database
from pathway import journey, schema
from pathway.metrics import run_metric

ACCESS, RISK, BABIES = "E09000001", "E09000002", "E09000003"
AS_AT = "2024-12-31"
D = dt.date


def days(n):
    return dt.timedelta(days=n)


AREAS = [{"area_code": code, "area_name": name}
         for code, name in ((ACCESS, "Access"), (RISK, "Risk"), (BABIES, "Babies"))]


def _pregnancy(pid, area, outcome, *, birth=None, edd=None, booking=None, babies=None,
               risk_date=None):
    return {"pregnancy_id": pid, "person_id": f"person-{pid}", "area_code": area,
            "outcome": outcome, "birth_date": birth, "edd": edd or birth, "booking_date": booking,
            "number_of_babies": babies, "risk_identified_date": risk_date}


_ids = count(1)


def _activity(pid, service, activity_type, when, *, mode=None, subject=None, infant=None,
              attendance="attended", contact_code=None):
    tier = {"perinatal_mh": "specialist", "maternal_mh": "specialist", "mbu": "specialist",
            "parent_infant": "specialist", "family_hub": "targeted", "social_care": "targeted",
            "health_visiting": "universal"}[service]
    return {"activity_id": f"V{next(_ids):03d}", "pregnancy_id": pid, "service": service,
            "activity_type": activity_type, "activity_date": when, "contact_code": contact_code,
            "attendance": attendance, "tier": tier, "contact_mode": mode, "subject": subject,
            "infant_number": infant}


def _measure(pid, instrument, score, when, timepoint):
    return {"measure_id": f"S{next(_ids):03d}", "pregnancy_id": pid, "instrument": instrument,
            "score": score, "measure_date": when, "timepoint": timepoint,
            "service": "parent_infant"}


R1_BIRTH, R2_BIRTH = D(2023, 3, 1), D(2023, 4, 1)
T1_BIRTH, T2_BIRTH = D(2023, 3, 1), D(2023, 4, 1)

COHORT = [
    _pregnancy("W1", ACCESS, "live_birth", birth=D(2023, 1, 10)),
    _pregnancy("W2", ACCESS, "live_birth", birth=D(2022, 6, 15)),
    _pregnancy("W3", ACCESS, "live_birth", birth=D(2022, 6, 14)),
    _pregnancy("W4", ACCESS, "live_birth", birth=D(2024, 2, 1)),
    _pregnancy("W5", ACCESS, "live_birth", birth=D(2024, 3, 1)),
    _pregnancy("W6", ACCESS, "loss", edd=D(2024, 9, 1)),
    _pregnancy("W7", ACCESS, "live_birth", birth=D(2024, 5, 1)),
    _pregnancy("W8", ACCESS, "live_birth", birth=D(2024, 6, 1)),
    _pregnancy("W9", ACCESS, "live_birth", birth=D(2024, 7, 1)),
    _pregnancy("W10", ACCESS, "ongoing", edd=D(2025, 6, 1)),
    _pregnancy("W11", ACCESS, "live_birth", birth=D(2024, 8, 1)),
    _pregnancy("R1", RISK, "live_birth", birth=R1_BIRTH, booking=D(2022, 8, 1)),
    _pregnancy("R2", RISK, "live_birth", birth=R2_BIRTH, risk_date=D(2023, 1, 2)),
    _pregnancy("R3", RISK, "live_birth", birth=D(2023, 5, 1)),
    _pregnancy("R4", RISK, "live_birth", birth=D(2023, 6, 1)),
    _pregnancy("R5", RISK, "loss", edd=D(2023, 7, 1)),
    _pregnancy("R6", RISK, "ongoing", edd=D(2024, 3, 1), risk_date=D(2023, 9, 1)),
    _pregnancy("T1", BABIES, "live_birth", birth=T1_BIRTH, babies=2),
    _pregnancy("T2", BABIES, "live_birth", birth=T2_BIRTH),
    # the latest birth recorded: perinatal_access's latest month end follows it
    _pregnancy("T3", BABIES, "live_birth", birth=D(2024, 12, 31)),
]

FLAGS = [("R1", "rf_domestic_abuse", True), ("R2", "rf_domestic_abuse", True),
         ("R2", "rf_substance_misuse", True), ("R3", "rf_substance_misuse", True),
         ("R4", "rf_domestic_abuse", False), ("R4", "rf_substance_misuse", False),
         ("R5", "rf_domestic_abuse", True), ("R6", "rf_substance_misuse", True)]

ACTIVITY = [
    _activity("W1", "perinatal_mh", "contact", D(2024, 6, 1), mode="face_to_face"),
    _activity("W2", "perinatal_mh", "contact", D(2024, 6, 15), mode="video"),
    _activity("W3", "perinatal_mh", "contact", D(2024, 6, 15), mode="face_to_face"),
    _activity("W4", "perinatal_mh", "contact", D(2024, 3, 1), mode="telephone"),
    _activity("W5", "perinatal_mh", "assessment", D(2024, 4, 1)),
    _activity("W6", "perinatal_mh", "intervention", D(2024, 3, 1), mode="video"),
    _activity("W7", "maternal_mh", "contact", D(2024, 5, 20), mode="face_to_face"),
    _activity("W8", "perinatal_mh", "contact", D(2024, 6, 10), mode="face_to_face", attendance="dna"),
    _activity("W9", "perinatal_mh", "contact", D(2024, 7, 10), mode="face_to_face", subject="partner"),
    _activity("W10", "perinatal_mh", "contact", D(2024, 8, 1), mode="face_to_face"),
    _activity("W11", "mbu", "contact", D(2024, 8, 5), mode="face_to_face"),
    # risk pathway
    _activity("R1", "family_hub", "referral", D(2022, 9, 1)),
    _activity("R1", "family_hub", "contact", D(2022, 9, 11)),
    _activity("R1", "perinatal_mh", "assessment", D(2022, 10, 1)),
    _activity("R1", "parent_infant", "contact", R1_BIRTH + days(365)),
    _activity("R1", "perinatal_mh", "assessment", R1_BIRTH + days(366), subject="partner"),
    _activity("R2", "perinatal_mh", "referral", R2_BIRTH - days(1)),
    _activity("R2", "perinatal_mh", "assessment", D(2023, 4, 11)),
    _activity("R2", "parent_infant", "contact", R2_BIRTH + days(366)),
    _activity("R2", "perinatal_mh", "assessment", R2_BIRTH + days(365), subject="partner"),
    _activity("R3", "perinatal_mh", "referral", D(2023, 5, 1)),
    _activity("R3", "health_visiting", "contact", D(2023, 3, 1)),
    _activity("R3", "parent_infant", "contact", D(2023, 7, 1), attendance="dna"),
    _activity("R4", "parent_infant", "contact", D(2023, 7, 1)),
    _activity("R6", "social_care", "contact", D(2023, 10, 1)),
    # babies
    _activity("T1", "health_visiting", "contact", T1_BIRTH - days(84), contact_code="antenatal_hv_contact"),
    _activity("T1", "health_visiting", "contact", T1_BIRTH + days(10), contact_code="new_birth_visit"),
    _activity("T1", "health_visiting", "contact", T1_BIRTH + days(15), contact_code="new_birth_visit",
              infant=2),
    _activity("T1", "health_visiting", "contact", T1_BIRTH + days(56),
              contact_code="six_eight_week_review", infant=1),
    _activity("T1", "health_visiting", "contact", T1_BIRTH + days(56),
              contact_code="six_eight_week_review", infant=2),
    _activity("T2", "health_visiting", "contact", T2_BIRTH + days(14), contact_code="new_birth_visit"),
    # a review recorded for a second baby T2 does not have: no baby of hers, so not counted
    _activity("T2", "health_visiting", "contact", T2_BIRTH + days(50),
              contact_code="six_eight_week_review", infant=2),
    _activity("T1", "perinatal_mh", "referral", T1_BIRTH + days(20)),
    _activity("T1", "perinatal_mh", "assessment", T1_BIRTH + days(34)),
    _activity("T1", "perinatal_mh", "intervention", T1_BIRTH + days(62)),
    _activity("T2", "perinatal_mh", "referral", T2_BIRTH + days(300)),
    _activity("T2", "perinatal_mh", "assessment", T2_BIRTH + days(366)),
    _activity("T2", "perinatal_mh", "intervention", T2_BIRTH + days(380)),
]

MEASURES = [
    _measure("T1", "LOAF", 3, T1_BIRTH + days(60), "baseline"),
    _measure("T1", "LOAF", 2, T1_BIRTH + days(200), "end"),
    _measure("T1", "HADS_A", 12, T1_BIRTH + days(60), "baseline"),
    _measure("T1", "HADS_A", 6, T1_BIRTH + days(200), "end"),
]


@pytest.fixture(scope="module", params=[
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
])
def warehouse(request, tmp_path_factory):
    with _empty_database(request, tmp_path_factory) as url:
        built = build_warehouse(url, areas=AREAS, cohort=COHORT, activity=ACTIVITY, measures=MEASURES)
        with built.begin() as conn:
            conn.execute(sa.insert(schema.cohort_risk_factors),
                         [{"pregnancy_id": p, "risk_factor": f, "present": v} for p, f, v in FLAGS])
            journey.refresh(conn)
        yield built
        built.dispose()


@contextmanager
def _empty_database(request, tmp_path_factory):
    """The URL of an empty database on the engine the fixture is parametrised with."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path_factory.mktemp('v11')}/v11.duckdb"
        return
    with postgres_database(request.getfixturevalue("postgres_server"), "v11") as url:
        yield url


def _one(frame, **keys):
    for column, value in keys.items():
        frame = frame[frame[column] == value]
    assert len(frame) == 1, keys
    return frame.iloc[0]


# ---- perinatal_access ---------------------------------------------------------------------
def test_perinatal_access_counts_as_mhs91(warehouse):
    frame = run_metric(warehouse, "perinatal_access",
                       {"area": ACCESS, "as_at": AS_AT, "months": "1"}, suppress=False)
    december = _one(frame, month="2024-12")
    assert (str(december.window_start), str(december.month_end)) == ("2024-01-01", "2024-12-31")
    assert (december.accessed, december.mode_unknown, december.telephone_or_text_only,
            december.live_births) == (5, 1, 1, 6)
    assert december.access_rate_per_100_births == pytest.approx(100 * 5 / 6)
    # Byar's interval for 5: 5 (1 - 1/45 - 1.96 / (3 sqrt 5))^3 = 1.6114 and
    # 6 (1 - 1/54 + 1.96 / (3 sqrt 6))^3 = 11.6682, per 6 births x 100
    assert december.rate_ci_low == pytest.approx(100 * 1.6114 / 6, abs=0.01)
    assert december.rate_ci_high == pytest.approx(100 * 11.6682 / 6, abs=0.01)
    assert december.ambition_per_100_births == 10


def test_the_access_rate_is_worked_out_from_the_shown_counts():
    """Contract 7.4: 22 women of 1,302 births show as 20 and 1,300. The rate from the exact
    counts, 1.7 per 100, gave back 22 (only 22 of 1,298-1,302 makes 1.7); from the shown
    counts it is 100 x 20 / 1,300 = 1.54, shown whole under 4,000 births as 2, with Byar's
    interval for 20: 20 (1 - 1/180 - 1.96 / (3 sqrt 20))^3 = 12.21 and
    21 (1 - 1/189 + 1.96 / (3 sqrt 21))^3 = 30.89 per 1,300 x 100 = 0.94 and 2.38, shown 1 and 2.
    From 4,000 births one decimal: 402 of 4,003 show as 400 of 4,005, 9.99 -> 10.0."""
    from pathway.catalogue import METRICS
    from pathway.disclosure import apply_disclosure
    from pathway.metrics import _access_rate_from_shown
    from pathway.settings import DisclosurePolicy

    frame = pd.DataFrame({"area_code": ["E1", "E2"], "service": ["perinatal_mh"] * 2, "month": ["2025-03"] * 2,
                          "window_start": [None] * 2, "month_end": [None] * 2, "accessed": [22, 402],
                          "mode_unknown": [0, 0], "telephone_or_text_only": [0, 0], "live_births": [1302, 4003],
                          "ambition_per_100_births": [10, 10]})
    frame = _access_rate_from_shown(frame, {})  # the exact rate and interval, as the query gives them
    assert frame["access_rate_per_100_births"].iloc[0] == pytest.approx(1.69, abs=0.01)
    out = apply_disclosure(frame, METRICS["perinatal_access"].disclosure, DisclosurePolicy(),
                           recompute=lambda shown: _access_rate_from_shown(shown, {}))
    first, second = out.iloc[0], out.iloc[1]
    assert (first.accessed, first.live_births) == (20, 1300)
    assert (first.access_rate_per_100_births, first.rate_ci_low, first.rate_ci_high) == (2, 1, 2)
    assert (second.accessed, second.live_births, second.access_rate_per_100_births) == (400, 4005, 10.0)
    assert second.rate_ci_low == pytest.approx(round(100 * 361.9 / 4005, 1), abs=0.1)


def test_maternal_mental_health_access_is_counted_the_same_way(warehouse):
    frame = run_metric(warehouse, "perinatal_access",
                       {"area": ACCESS, "as_at": AS_AT, "months": "1", "service": "maternal_mh"},
                       suppress=False)
    assert (frame.iloc[0].accessed, frame.iloc[0].live_births) == (1, 6)  # W7


def test_perinatal_access_ends_at_the_latest_month_with_births_recorded(warehouse):
    # as_at months after the last birth (T3, 2024-12-31): the rolling births would be short
    frame = run_metric(warehouse, "perinatal_access",
                       {"area": ACCESS, "as_at": "2025-06-30", "months": "1"}, suppress=False)
    assert list(frame.month) == ["2024-12"]


def test_perinatal_access_rolls_over_month_ends(warehouse):
    # as_at mid-month: the latest complete month is November; June 2024's window starts
    # 2023-07-01: its births are W4, W5, W7 and W8 (W6 is a loss)
    frame = run_metric(warehouse, "perinatal_access",
                       {"area": ACCESS, "as_at": "2024-12-15", "months": "6"}, suppress=False)
    assert list(frame.month) == ["2024-06", "2024-07", "2024-08", "2024-09", "2024-10", "2024-11"]
    june = _one(frame, month="2024-06")
    # by 2024-06-30: W1, W2, W5, W6 (W11's unit stay is in August)
    assert (june.accessed, june.live_births) == (4, 4)
    assert _one(frame, month="2024-11").accessed == 5



# Two areas and women who move between them (MHS91 counts a woman once, in the area of her
# first counted contact in the window). Conception is the EDD - 266 days; window 2024.
#   P  first pregnancy in HERE, born 2023-05-01: face to face 2024-03-01 (within 24 months)
#      second pregnancy in THERE, born 2024-10-01 (conception 2024-01-09): face to face
#      2024-02-01, her first counted contact of 2024                      -> counts in THERE
#   Q  in HERE, born 2023-06-01: telephone 2024-02-01 (not counted)
#      in THERE, born 2024-11-01 (conception 2024-02-09): video 2024-04-01 -> counts in THERE
#   R  in HERE only, born 2024-03-01: face to face 2024-05-01             -> counts in HERE
#   S  in HERE, born 2024-12-31, nothing else: the latest birth recorded
# -> December 2024: HERE 1 woman (R), none telephone only (Q counts elsewhere), births R, S;
#    THERE 2 women (P, Q), births P's and Q's second.
HERE, THERE = "E09000011", "E09000012"
MOVES_AREAS = [{"area_code": HERE, "area_name": "Here"}, {"area_code": THERE, "area_name": "There"}]
MOVES_COHORT = [
    {**_pregnancy("P1", HERE, "live_birth", birth=D(2023, 5, 1)), "person_id": "P"},
    {**_pregnancy("P2", THERE, "live_birth", birth=D(2024, 10, 1)), "person_id": "P"},
    {**_pregnancy("Q1", HERE, "live_birth", birth=D(2023, 6, 1)), "person_id": "Q"},
    {**_pregnancy("Q2", THERE, "live_birth", birth=D(2024, 11, 1)), "person_id": "Q"},
    {**_pregnancy("R1", HERE, "live_birth", birth=D(2024, 3, 1)), "person_id": "R"},
    {**_pregnancy("S1", HERE, "live_birth", birth=D(2024, 12, 31)), "person_id": "S"},
]
MOVES_ACTIVITY = [
    _activity("P1", "perinatal_mh", "contact", D(2024, 3, 1), mode="face_to_face"),
    _activity("P2", "perinatal_mh", "contact", D(2024, 2, 1), mode="face_to_face"),
    _activity("Q1", "perinatal_mh", "contact", D(2024, 2, 1), mode="telephone"),
    _activity("Q2", "perinatal_mh", "contact", D(2024, 4, 1), mode="video"),
    _activity("R1", "perinatal_mh", "contact", D(2024, 5, 1), mode="face_to_face"),
]


@pytest.fixture(scope="module", params=[
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
])
def moves(request, tmp_path_factory):
    with _empty_database(request, tmp_path_factory) as url:
        built = build_warehouse(url, areas=MOVES_AREAS, cohort=MOVES_COHORT,
                                activity=MOVES_ACTIVITY, measures=[])
        with built.begin() as conn:
            journey.refresh(conn)
        yield built
        built.dispose()


@pytest.mark.parametrize("area", [HERE, THERE, "all"])
def test_a_woman_counts_once_in_the_area_of_her_first_counted_contact(moves, area):
    frame = run_metric(moves, "perinatal_access", {"area": area, "as_at": AS_AT, "months": "1"},
                       suppress=False)
    shown = {row.area_code: (row.month, row.accessed, row.telephone_or_text_only, row.live_births)
             for row in frame.itertuples()}
    expected = {HERE: ("2024-12", 1, 0, 2), THERE: ("2024-12", 2, 0, 2)}
    assert shown == (expected if area == "all" else {area: expected[area]})

# ---- risk_pathway -------------------------------------------------------------------------
def test_risk_pathway_per_risk_factor(warehouse):
    frame = run_metric(warehouse, "risk_pathway",
                       {"area": RISK, "from": "2023-01-01", "to": "2024-06-30", "as_at": AS_AT},
                       suppress=False)
    assert list(frame.risk_factor) == ["rf_domestic_abuse", "rf_substance_misuse", "any"]
    abuse = _one(frame, risk_factor="rf_domestic_abuse")
    assert (abuse.cohort, abuse.at_risk, abuse.referred_antenatal, abuse.seen_antenatal,
            abuse.parent_infant_seen, abuse.seen_after_risk) == (5, 2, 2, 1, 1, 2)
    assert abuse.median_days_to_seen == pytest.approx(70)  # 41 and 99
    assert abuse.seen_antenatal_pct == pytest.approx(50)
    substance = _one(frame, risk_factor="rf_substance_misuse")
    assert (substance.at_risk, substance.referred_antenatal, substance.seen_antenatal,
            substance.parent_infant_seen) == (3, 1, 1, 0)
    assert substance.median_days_to_seen == pytest.approx(64.5)  # 99 and 30
    assert substance.referred_antenatal_pct == pytest.approx(100 / 3)
    # Wilson 95% interval for 1 of 3: 6.15 to 79.23
    assert substance.referred_antenatal_ci_low == pytest.approx(6.149, abs=0.01)
    assert substance.referred_antenatal_ci_high == pytest.approx(79.234, abs=0.01)
    anyone = _one(frame, risk_factor="any")
    assert (anyone.at_risk, anyone.referred_antenatal, anyone.seen_antenatal,
            anyone.parent_infant_seen, anyone.seen_after_risk) == (4, 2, 2, 1, 3)
    assert anyone.median_days_to_seen == pytest.approx(41)


def test_partner_involvement_counts_to_day_365(warehouse):
    frame = run_metric(warehouse, "partner_involvement",
                       {"area": RISK, "from": "2023-01-01", "to": "2023-12-31", "as_at": AS_AT},
                       suppress=False)
    row = frame.iloc[0]
    assert (row.accessed, row.partner_seen) == (2, 1)  # R2's partner on day 365, not R1's on 366
    assert row.partner_seen_pct == pytest.approx(50)


def test_a_partners_assessment_is_not_the_womans_specialist_access(warehouse):
    # W9's only perinatal contact was her partner's; R2's partner assessment does not add to hers
    frame = run_metric(warehouse, "specialist_access",
                       {"area": RISK, "from": "2023-01-01", "to": "2023-12-31", "as_at": AS_AT},
                       suppress=False)
    assert frame.iloc[0].accessed == 2  # R1 and R2 by their own assessments


# ---- mandated_contacts per baby -----------------------------------------------------------
def test_mandated_contacts_count_twins_twice(warehouse):
    params = {"area": BABIES, "from": "2023-01-01", "to": "2023-12-31", "as_at": AS_AT}
    babies = run_metric(warehouse, "mandated_contacts", params, suppress=False)
    visit = _one(babies, contact_code="new_birth_visit")
    # T1 baby 1 on day 10 (no infant_number: baby 1), baby 2 late on day 15, T2 on day 14
    assert (visit.numerator, visit.denominator) == (2, 3)
    review = _one(babies, contact_code="six_eight_week_review")
    assert (review.numerator, review.denominator) == (2, 3)  # both twins; T2's one baby none
    antenatal = _one(babies, contact_code="antenatal_hv_contact")
    assert (antenatal.numerator, antenatal.denominator) == (1, 2)  # with the mother: per pregnancy
    pregnancies = run_metric(warehouse, "mandated_contacts", {**params, "unit": "pregnancy"},
                             suppress=False)
    assert tuple(_one(pregnancies, contact_code="new_birth_visit")[["numerator", "denominator"]]) \
        == (2, 2)
    # per pregnancy any baby's review counts, T2's "baby 2" too: T1 and T2
    assert tuple(_one(pregnancies, contact_code="six_eight_week_review")[["numerator", "denominator"]]) \
        == (2, 2)


# ---- waiting_times: NICE QS115 ------------------------------------------------------------
def test_waiting_times_qs115_and_a_contact_after_day_365(warehouse):
    frame = run_metric(warehouse, "waiting_times",
                       {"area": BABIES, "from": "2023-01-01", "to": "2023-12-31", "as_at": AS_AT},
                       suppress=False)
    team = _one(frame, service="perinatal_mh")
    # T1: assessed in 14 days, treated in 42; T2: assessed on day 366, 66 days after referral
    assert (team.referrals, team.seen, team.seen_within_28_days) == (2, 2, 1)
    assert team.median_days == pytest.approx(40)
    assert (team.assessed_within_14_days, team.treated_within_42_days) == (1, 1)
    assert team.assessed_within_14_days_pct == pytest.approx(50)
    assert team.treated_within_42_days_pct == pytest.approx(50)


# ---- outcomes without a confirmed threshold -------------------------------------------------
def test_outcomes_show_only_mean_change_without_a_threshold(warehouse):
    frame = run_metric(warehouse, "outcomes",
                       {"area": BABIES, "from": "2023-01-01", "to": "2023-12-31", "as_at": AS_AT},
                       suppress=False)
    loaf = _one(frame, instrument="LOAF")
    assert (loaf.paired, loaf.mean_baseline, loaf.mean_end, loaf.mean_change) == (1, 3, 2, -1)
    assert pd.isna(loaf.cases_at_baseline) and pd.isna(loaf.recovered_pct)
    assert pd.isna(loaf.reliable_improvement_pct)
    hads = _one(frame, instrument="HADS_A")
    # HADS's 8-or-more is not confirmed, so it has no threshold (contract 7.1): 12 to 6 is a
    # mean change of -6 and nothing about cases or recovery
    assert (hads.paired, hads.mean_change) == (1, -6)
    assert pd.isna(hads.cases_at_baseline) and pd.isna(hads.recovered) and pd.isna(hads.recovered_pct)
    assert pd.isna(hads.reliably_improved)


def test_trend_of_families_at_risk_referred_before_birth(warehouse):
    frame = run_metric(warehouse, "trend",
                       {"area": RISK, "from": "2023-01-01", "to": "2023-06-30", "as_at": AS_AT,
                        "metric": "risk_pathway.referred_antenatal"}, suppress=False)
    by_month = frame.set_index("month")
    # live births with a risk: R1 (March, referred), R2 (April, referred), R3 (May, not);
    # R4 has no flag present, R6 is not a live birth
    assert list(by_month["denominator"]) == [0, 0, 1, 1, 1, 0]
    assert list(by_month["numerator"]) == [0, 0, 1, 1, 0, 0]
    assert list(by_month.loc[["2023-03", "2023-04", "2023-05"], "value"]) == [100, 100, 0]


def test_data_quality_shows_how_complete_contact_mode_is(warehouse):
    frame = run_metric(warehouse, "data_quality", suppress=False)
    mode = _one(frame, table="activity", column="contact_mode")
    # 10 of the 38 activity rows carry a mode (W1-W4 and W6-W11): the rest count as unknown
    assert (mode.rows, mode.completeness_pct) == (38, pytest.approx(100 * 10 / 38))
    assert len(ACTIVITY) == 38


@pytest.mark.parametrize("params, message", [
    ({"months": "0"}, "parameter months='0' is outside 1 to 60"),
    ({"months": "1.5"}, "parameter months=1.5 must be a whole number of months"),
    ({"service": "talking_therapies"}, "parameter service='talking_therapies' is not one of perinatal_mh, maternal_mh"),
])
def test_perinatal_access_refuses_bad_parameters_in_words(warehouse, params, message):
    from pathway.metrics import MetricError

    with pytest.raises(MetricError) as refused:
        run_metric(warehouse, "perinatal_access", {"area": ACCESS, "as_at": AS_AT, **params})
    assert str(refused.value) == message
