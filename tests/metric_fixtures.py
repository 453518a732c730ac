"""A small hand-built warehouse whose metric answers are worked out by hand below.

Three areas: Alpha (E06000001) and Beta (E06000002) in ICB QAA, and Gamma (E06000003) in ICB
QBB with no pregnancies at all. Dates are written as offsets from each pregnancy's own
anchors (day 14 after birth, EDD - 84, ...) so each boundary reads as the contract states it.

The tests use the period 2023-01-01..2024-06-30 and as_at 2024-12-31 unless they test defaults.
Conception = EDD - 266 (birth - 266 without an EDD); gestation at booking from EDD - 280.

Alpha (E06000001)
  P1 live birth 2023-03-01 (EDD the same). Booked 2022-07-15: 51 days from EDD - 280 -> booked.
     preconception advice 2022-01-10 (preconception, universal)
     maternity booking contact 2022-07-15 (antenatal, universal); EPDS screen 14 by maternity
     antenatal HV contact on EDD - 84 exactly (counts) (antenatal, universal)
     talking therapies: referral 2022-10-01, assessment 2022-10-21 (20 days), intervention
       2022-11-01, discharge 2023-01-10 (antenatal, targeted); PHQ-9 baseline 15 on
       2022-10-21, end 7 on 2023-01-10 (improved by 8 >= 6; a case (>= 10) recovered)
     new birth visit day 14 (counts), WHOOLEY screen 0 that day (postnatal)
     6-8 week review day 56 (counts; still postnatal)
     perinatal MH: referral day 31 (postnatal), assessment DNA day 40, assessment attended
       day 71 (infant, specialist): 40 days from referral; specialist access
     12-month review day 365 = 2024-02-29 (counts by 12 and by 15 months; infant)
  P2 live birth 2023-06-10, EDD 2023-06-17, booked 2022-12-09 = exactly 90 days -> booked.
     antenatal HV contact on EDD - 85 (too early, not counted; antenatal universal reach)
     new birth visit day 15 (late; postnatal universal reach)
     GAD-2 screen 3 (positive) by health visiting, day 10 (postnatal)
     family hub contact cancelled day 21, family hub referral day 25 (never seen): no reach
     parent-infant PIR-GAS baseline 60 day 21, second baseline 30 day 52 (ignored: the first
       counts), end 45 day 113: higher is better, so 60 -> 45 is a fall of 15 >= 10, a reliable
       deterioration; 60 > 40 is not a case
     6-8 week review day 57 (late; infant universal reach)
     12-month review DNA day 326 (not counted); attended day 400 (late for 12 months, on time
       for 15 months; outside every stage, so no reach)
     voluntary contact day 380 (outside every stage: counts nowhere)
  P3 live birth 2023-11-20 (EDD the same), booked 2023-05-15 = 91 days -> not booked.
     maternity booking contact DNA (antenatal): no reach
     new birth visit day 3 (counts; postnatal universal)
     perinatal MH referral day 11 (2023-12-01), contact attended day 39 (28 days later: within
       28 days; postnatal specialist reach; a contact, so not specialist access)
     follow-up: born 2023-11-20 + 456 days = 2025-02-18 > as_at, so out of the by-15-months
       denominator only
  P4 live birth 2024-03-01 (EDD the same), no booking date. Born + 365 > as_at: out of every
     365-day metric; in mood screening (56 days) and the 14- and 56-day contacts.
     new birth visit DNA day 4 (not counted); EPDS screen 5 day 9 (postnatal)
  P5 stillbirth 2023-05-01: a pregnancy, not a live birth; maternity contact at birth - 30
  P6 loss, EDD 2023-08-01, no birth date: a pregnancy dated by its EDD, not a live birth;
     maternity contact 2023-05-01 (antenatal: before the EDD)
  P7 ongoing, EDD 2025-02-01: due after as_at, so in no count; maternity contact 2024-06-01
Beta (E06000002)
  Q1 live birth 2023-04-15 (EDD the same), no booking, no events at all
  Q2 live birth 2023-09-01 with no EDD (conception and the antenatal window hang on the birth
     date): maternity contact birth - 100, antenatal HV contact birth - 30 (counts)
Gamma (E06000003): no pregnancies, no events.
"""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import contextmanager
from itertools import count

import pytest
import sqlalchemy as sa

from pathway import journey, schema
from pathway.db import Warehouse

ALPHA, BETA, GAMMA = "E06000001", "E06000002", "E06000003"
ICB_AB, ICB_C = "QAA", "QBB"

PERIOD = {"from": "2023-01-01", "to": "2024-06-30", "as_at": "2024-12-31"}

D = dt.date
DEFAULT_TIER = {"preconception": "universal", "maternity": "universal",
                "health_visiting": "universal", "gp": "universal", "family_hub": "targeted",
                "talking_therapies": "targeted", "social_care": "targeted",
                "voluntary": "targeted", "perinatal_mh": "specialist",
                "maternal_mh": "specialist", "parent_infant": "specialist", "mbu": "specialist"}


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


P1_BIRTH = D(2023, 3, 1)
P2_BIRTH, P2_EDD = D(2023, 6, 10), D(2023, 6, 17)
P3_BIRTH = D(2023, 11, 20)
P4_BIRTH = D(2024, 3, 1)
Q2_BIRTH = D(2023, 9, 1)

AREAS = [
    {"area_code": ALPHA, "area_name": "Alpha", "icb_code": ICB_AB, "icb_name": "North ICB"},
    {"area_code": BETA, "area_name": "Beta", "icb_code": ICB_AB, "icb_name": "North ICB"},
    {"area_code": GAMMA, "area_name": "Gamma", "icb_code": ICB_C, "icb_name": "South ICB"},
]


def _pregnancy(pregnancy_id, area, outcome, *, edd=None, birth=None, booking=None):
    return {"pregnancy_id": pregnancy_id, "person_id": f"person-{pregnancy_id}",
            "area_code": area, "outcome": outcome, "edd": edd, "birth_date": birth,
            "booking_date": booking, "parent_age": 30, "ethnic_group": "White", "imd_decile": 5}


COHORT = [
    _pregnancy("P1", ALPHA, "live_birth", edd=P1_BIRTH, birth=P1_BIRTH, booking=D(2022, 7, 15)),
    _pregnancy("P2", ALPHA, "live_birth", edd=P2_EDD, birth=P2_BIRTH, booking=D(2022, 12, 9)),
    _pregnancy("P3", ALPHA, "live_birth", edd=P3_BIRTH, birth=P3_BIRTH, booking=D(2023, 5, 15)),
    _pregnancy("P4", ALPHA, "live_birth", edd=P4_BIRTH, birth=P4_BIRTH),
    _pregnancy("P5", ALPHA, "stillbirth", edd=D(2023, 5, 1), birth=D(2023, 5, 1)),
    _pregnancy("P6", ALPHA, "loss", edd=D(2023, 8, 1)),
    _pregnancy("P7", ALPHA, "ongoing", edd=D(2025, 2, 1)),
    _pregnancy("Q1", BETA, "live_birth", edd=D(2023, 4, 15), birth=D(2023, 4, 15)),
    _pregnancy("Q2", BETA, "live_birth", birth=Q2_BIRTH),
]

_ids = count(1)


def _activity(pregnancy_id, service, activity_type, when, contact_code=None,
              attendance="attended", tier=None):
    return {"activity_id": f"A{next(_ids):03d}", "pregnancy_id": pregnancy_id, "service": service,
            "activity_type": activity_type, "activity_date": when, "contact_code": contact_code,
            "attendance": attendance, "tier": tier or DEFAULT_TIER[service],
            "referral_source": None, "provider_code": None}


def _measure(pregnancy_id, instrument, score, when, timepoint, service):
    return {"measure_id": f"M{next(_ids):03d}", "pregnancy_id": pregnancy_id,
            "instrument": instrument, "score": score, "measure_date": when,
            "timepoint": timepoint, "service": service}


ACTIVITY = [
    # P1
    _activity("P1", "preconception", "contact", D(2022, 1, 10), "preconception_advice"),
    _activity("P1", "maternity", "contact", D(2022, 7, 15), "booking"),
    _activity("P1", "health_visiting", "contact", P1_BIRTH - days(84), "antenatal_hv_contact"),
    _activity("P1", "talking_therapies", "referral", D(2022, 10, 1)),
    _activity("P1", "talking_therapies", "assessment", D(2022, 10, 21)),
    _activity("P1", "talking_therapies", "intervention", D(2022, 11, 1)),
    _activity("P1", "talking_therapies", "discharge", D(2023, 1, 10)),
    _activity("P1", "health_visiting", "contact", P1_BIRTH + days(14), "new_birth_visit"),
    _activity("P1", "health_visiting", "contact", P1_BIRTH + days(56), "six_eight_week_review"),
    _activity("P1", "perinatal_mh", "referral", P1_BIRTH + days(31)),
    _activity("P1", "perinatal_mh", "assessment", P1_BIRTH + days(40), attendance="dna"),
    _activity("P1", "perinatal_mh", "assessment", P1_BIRTH + days(71)),
    _activity("P1", "health_visiting", "contact", P1_BIRTH + days(365), "twelve_month_review"),
    # P2
    _activity("P2", "health_visiting", "contact", P2_EDD - days(85), "antenatal_hv_contact"),
    _activity("P2", "health_visiting", "contact", P2_BIRTH + days(15), "new_birth_visit"),
    _activity("P2", "family_hub", "contact", P2_BIRTH + days(21), attendance="cancelled"),
    _activity("P2", "family_hub", "referral", P2_BIRTH + days(25)),
    _activity("P2", "health_visiting", "contact", P2_BIRTH + days(57), "six_eight_week_review"),
    _activity("P2", "health_visiting", "contact", P2_BIRTH + days(326), "twelve_month_review",
              attendance="dna"),
    _activity("P2", "health_visiting", "contact", P2_BIRTH + days(400), "twelve_month_review"),
    _activity("P2", "voluntary", "contact", P2_BIRTH + days(380)),
    # P3
    _activity("P3", "maternity", "contact", D(2023, 5, 15), "booking", attendance="dna"),
    _activity("P3", "health_visiting", "contact", P3_BIRTH + days(3), "new_birth_visit"),
    _activity("P3", "perinatal_mh", "referral", P3_BIRTH + days(11)),
    _activity("P3", "perinatal_mh", "contact", P3_BIRTH + days(39)),
    # P4
    _activity("P4", "health_visiting", "contact", P4_BIRTH + days(4), "new_birth_visit",
              attendance="dna"),
    # P5, P6, P7: not live births (P7 due after as_at)
    _activity("P5", "maternity", "contact", D(2023, 5, 1) - days(30)),
    _activity("P6", "maternity", "contact", D(2023, 5, 1)),
    _activity("P7", "maternity", "contact", D(2024, 6, 1)),
    # Q2: no EDD
    _activity("Q2", "maternity", "contact", Q2_BIRTH - days(100)),
    _activity("Q2", "health_visiting", "contact", Q2_BIRTH - days(30), "antenatal_hv_contact"),
]

MEASURES = [
    _measure("P1", "EPDS", 14, D(2022, 7, 15), "screen", "maternity"),
    _measure("P1", "PHQ9", 15, D(2022, 10, 21), "baseline", "talking_therapies"),
    _measure("P1", "PHQ9", 7, D(2023, 1, 10), "end", "talking_therapies"),
    _measure("P1", "WHOOLEY", 0, P1_BIRTH + days(14), "screen", "health_visiting"),
    _measure("P2", "GAD2", 3, P2_BIRTH + days(10), "screen", "health_visiting"),
    _measure("P2", "PIRGAS", 60, P2_BIRTH + days(21), "baseline", "parent_infant"),
    _measure("P2", "PIRGAS", 30, P2_BIRTH + days(52), "baseline", "parent_infant"),
    _measure("P2", "PIRGAS", 45, P2_BIRTH + days(113), "end", "parent_infant"),
    _measure("P4", "EPDS", 5, P4_BIRTH + days(9), "screen", "health_visiting"),
]

# The latest activity date: P2's 12-month review on day 400.
LATEST_ACTIVITY = P2_BIRTH + days(400)


def insert_rows(conn, *, areas=AREAS, cohort=COHORT, activity=ACTIVITY, measures=MEASURES) -> None:
    """Insert contract rows directly, as a loaded extract would leave them, then refresh."""
    for table, rows in ((schema.areas, areas), (schema.cohort, cohort),
                        (schema.activity, activity), (schema.measures, measures)):
        if rows:
            conn.execute(sa.insert(table), [_complete(table, row) for row in rows])
    journey.refresh(conn)


def _complete(table: sa.Table, row: dict) -> dict:
    return {column.name: row.get(column.name) for column in table.columns}


def build_warehouse(url: str, **rows) -> Warehouse:
    """A warehouse on `url` holding the fixture (or the given rows), journey refreshed."""
    warehouse = Warehouse(url)
    warehouse.ensure_schema()
    with warehouse.begin() as conn:
        insert_rows(conn, **rows)
        # one published figure (as pathway.published imports it), for the benchmarks metric
        conn.execute(sa.insert(schema.benchmarks), [_complete(schema.benchmarks, PUBLISHED_BENCHMARK)])
    return warehouse


# 880 of 1,000 deliveries booked by 12 weeks 6 days, Wilson 95% interval 85.8 to 89.9
PUBLISHED_BENCHMARK = {
    "metric": "births.booked_by_13_weeks", "category": "", "population": "",
    "source_file": "msds-fixture.csv", "layout": "msds", "period": "2022-23",
    "org_level": "national", "org_code": "England", "org_name": "ALL SUBMITTERS",
    "numerator": 880.0, "denominator": 1000.0, "pct": 88.0, "ci_low": 85.839, "ci_high": 89.870,
    "ci_method": "wilson", "value": 88.0, "suppressed": False, "missing_excluded": 0.0,
}


# ---- one fixture warehouse per backend for a test module ------------------------------
@pytest.fixture(scope="module", params=[
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
])
def fixture_warehouse(request, tmp_path_factory):
    """The hand-built fixture on each backend, built once per test module (read-only tests).

    The same parity as conftest's `warehouse_url`, at module scope so forty read-only tests
    do not rebuild forty databases; tests that change data use `warehouse_url` itself.
    """
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('metrics')}/fixture.duckdb"
        warehouse = build_warehouse(url)
        yield warehouse
        warehouse.dispose()
        return
    with postgres_database(request.getfixturevalue("postgres_server"), "metrics") as url:
        warehouse = build_warehouse(url)
        try:
            yield warehouse
        finally:
            warehouse.dispose()


@contextmanager
def postgres_database(server: str, prefix: str = "test"):
    """The URL of a new, empty database on the test server (`server` has no database in it),
    dropped on leaving, with any connection a test's engine still holds to it."""
    # The name is made here from a uuid, never from input, so it is safe as an identifier.
    name = f"{prefix}_{uuid.uuid4().hex}"
    admin = Warehouse(f"{server}/postgres")
    try:
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text(f'CREATE DATABASE "{name}"'))
        yield f"{server}/{name}"
        with admin.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            # A test's engine may still hold pooled connections; they would block the drop.
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :name AND pid <> pg_backend_pid()"),
                         {"name": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()
