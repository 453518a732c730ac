"""The journey rebuilt after a load for only the pregnancies the load touched equals a full
rebuild, row for row, on both engines (pathway.journey.refresh_after_load)."""

from __future__ import annotations

import csv
import re
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from metric_fixtures import (ACTIVITY, ALPHA, AREAS, BETA, COHORT, MEASURES, P1_BIRTH, P3_BIRTH,
                             P4_BIRTH, days)
from pathway import journey
from pathway.db import Warehouse
from pathway.ingest import load_file, load_files


def write_rows(path: Path, rows: list[dict]) -> Path:
    """The rows as an extract file would hold them (dates ISO, missing values empty)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else str(v) for k, v in row.items()} for row in rows)
    return path


def changed(rows: list[dict], key: str, value: str, **new) -> dict:
    return {**next(row for row in rows if row[key] == value), **new}


def by_type(pregnancy_id: str, activity_type: str, service: str | None = None) -> dict:
    return next(row for row in ACTIVITY if row["pregnancy_id"] == pregnancy_id
                and row["activity_type"] == activity_type
                and (service is None or row["service"] == service))


def new_birth_visit(pregnancy_id: str) -> dict:
    return next(row for row in ACTIVITY if row["pregnancy_id"] == pregnancy_id
                and row["contact_code"] == "new_birth_visit")


def epds(pregnancy_id: str) -> dict:
    return next(row for row in MEASURES if row["pregnancy_id"] == pregnancy_id
                and row["instrument"] == "EPDS")


P8 = {**COHORT[0], "pregnancy_id": "P8", "person_id": "person-P8", "edd": dt.date(2024, 5, 1),
      "birth_date": dt.date(2024, 4, 28), "booking_date": dt.date(2023, 10, 2)}
P8_ACTIVITY = [
    {**ACTIVITY[0], "activity_id": "A901", "pregnancy_id": "P8", "service": "health_visiting",
     "activity_type": "contact", "activity_date": dt.date(2024, 5, 10),
     "contact_code": "new_birth_visit", "tier": "universal"},
    # later than every other activity: the data cut-off moves
    {**ACTIVITY[0], "activity_id": "A902", "pregnancy_id": "P8", "service": "perinatal_mh",
     "activity_type": "assessment", "activity_date": dt.date(2024, 9, 1), "contact_code": None,
     "tier": "specialist"},
]


def first_load(url: str, folder: Path) -> Warehouse:
    warehouse = Warehouse(url)
    summaries = load_files(warehouse, [write_rows(folder / "areas.csv", AREAS),
                                       write_rows(folder / "cohort.csv", COHORT),
                                       write_rows(folder / "activity.csv", ACTIVITY),
                                       write_rows(folder / "measures.csv", MEASURES)])
    assert [(s.outcome, s.rows_rejected) for s in summaries] == [("loaded", 0)] * 4
    return warehouse


def load_changes(warehouse: Warehouse, folder: Path) -> None:
    """Loads that touch P1, P2, Q1 (an activity row moves from P2 to Q1), P3, P4, and P8,
    whose activity arrives before its cohort row; each file in its own transaction."""
    files = [
        # P8's activity waits for its pregnancy
        ("activity_p8.csv", "activity", P8_ACTIVITY),
        # P1's new birth visit six days later; P3's perinatal contact becomes an assessment;
        # P2's family hub referral belongs to Q1
        ("activity_changes.csv", "activity", [
            {**new_birth_visit("P1"), "activity_date": P1_BIRTH + days(20)},
            {**by_type("P3", "contact", "perinatal_mh"), "activity_type": "assessment"},
            {**by_type("P2", "referral", "family_hub"), "pregnancy_id": "Q1"},
            # unchanged: touches nothing
            ACTIVITY[5]]),
        # P1's EPDS score replaced
        ("measures_changes.csv", "measures", [{**epds("P1"), "score": 9}]),
        # P4 born eleven days early; P8 arrives and releases its activity
        ("cohort_changes.csv", "cohort", [changed(COHORT, "pregnancy_id", "P4",
                                                  birth_date=dt.date(2024, 2, 20)), P8]),
    ]
    for name, table, rows in files:
        summary = load_file(warehouse, write_rows(folder / name, rows), table=table,
                            refresh_journey=False)
        assert (summary.outcome, summary.rows_rejected) == ("loaded", 0), summary.describe()


def derived_tables(warehouse: Warehouse) -> dict[str, pd.DataFrame]:
    """Every derived table, rows in one order whatever order they were written in."""
    frames = {}
    for table in journey.DERIVED_TABLES:
        # table names come from journey.DERIVED_TABLES, never from input
        frame = warehouse.query(f"select * from {table}")
        frames[table] = frame.sort_values(list(frame.columns), na_position="first",
                                          ignore_index=True)
    return frames


@pytest.fixture
def every_share(monkeypatch):
    """Rebuild incrementally however much of the (nine-pregnancy) fixture a load touches."""
    monkeypatch.setattr(journey, "FULL_REBUILD_SHARE", 1.0)


def test_incremental_rebuild_equals_full_rebuild(warehouse_url, tmp_path, every_share):
    warehouse = first_load(warehouse_url, tmp_path)
    try:
        load_changes(warehouse, tmp_path)
        pending = warehouse.query("select distinct pregnancy_id from journey_pending")
        assert sorted(pending.pregnancy_id) == ["P1", "P2", "P3", "P4", "P8", "Q1"]
        with warehouse.begin() as conn:
            assert journey.refresh_after_load(conn) == "incremental"
            assert journey.is_current(conn)
        incremental = derived_tables(warehouse)
        with warehouse.begin() as conn:
            journey.refresh(conn)
        full = derived_tables(warehouse)
        for table in journey.DERIVED_TABLES:
            pd.testing.assert_frame_equal(incremental[table], full[table], obj=table)
        # the changes reached the tables, so the comparison compared something
        assert len(full["journey"]) == len(COHORT) + 1
        assert full["data_extent"].latest_activity_date[0] == dt.date(2024, 9, 1)
    finally:
        warehouse.dispose()


def test_touched_pregnancies_have_their_new_values(warehouse_url, tmp_path, every_share):
    warehouse = first_load(warehouse_url, tmp_path)
    try:
        load_changes(warehouse, tmp_path)
        with warehouse.begin() as conn:
            assert journey.refresh_after_load(conn) == "incremental"
        rows = warehouse.query("select * from journey where pregnancy_id in ('P3', 'P4', 'P8') "
                               "order by pregnancy_id").set_index("pregnancy_id")
        # P4: EDD 2024-03-01 unchanged, so conception = 2024-03-01 - 266 days = 2023-06-09;
        # born 2024-02-20, which is now its pathway birth date
        assert rows.loc["P4", "conception_date"] == dt.date(2023, 6, 9)
        assert rows.loc["P4", "pathway_birth_date"] == dt.date(2024, 2, 20)
        # P3: its perinatal contact on day 39 (2023-12-29) is now an attended assessment
        assert rows.loc["P3", "specialist_access_date"] == P3_BIRTH + days(39)
        # P8: booked 2023-10-02, LMP = 2024-05-01 - 280 = 2023-07-26, so 68 days' gestation
        assert rows.loc["P8", "gestation_at_booking_days"] == 68
        assert rows.loc["P8", "specialist_access_date"] == dt.date(2024, 9, 1)
        # P4's new birth visit, four days after the EDD, is fourteen days after the birth
        visit = warehouse.query("select days_from_birth, stage from placed_events where event_id = :id",
                                {"id": new_birth_visit("P4")["activity_id"]})
        assert visit.values.tolist() == [[14, "postnatal"]]
        assert P4_BIRTH + days(4) - dt.date(2024, 2, 20) == days(14)
        # P1's EPDS score is the new one; the referral moved to Q1 left P2
        score = warehouse.query("select score from placed_events where event_id = :id",
                                {"id": epds("P1")["measure_id"]})
        assert score.score.tolist() == [9.0]
        referral = warehouse.query("select pregnancy_id from placed_events where event_id = :id",
                                   {"id": by_type("P2", "referral", "family_hub")["activity_id"]})
        assert referral.pregnancy_id.tolist() == ["Q1"]
        assert warehouse.query("select count(*) as n from journey_pending").n[0] == 0
    finally:
        warehouse.dispose()


def test_the_loader_rebuilds_incrementally_after_each_file(warehouse_url, tmp_path, every_share):
    warehouse = first_load(warehouse_url, tmp_path)
    try:
        summary = load_file(warehouse, write_rows(tmp_path / "a.csv", [
            {**new_birth_visit("P1"), "activity_date": P1_BIRTH + days(20)}]))
        assert summary.outcome == "loaded"
        visit = warehouse.query("select days_from_birth from placed_events where event_id = :id",
                                {"id": new_birth_visit("P1")["activity_id"]})
        assert visit.days_from_birth.tolist() == [20]
        assert warehouse.query("select count(*) as n from journey").n[0] == len(COHORT)
        with warehouse.connect() as conn:
            assert journey.is_current(conn)
    finally:
        warehouse.dispose()


def test_an_area_change_touches_its_pregnancies(duckdb_url, tmp_path, every_share):
    warehouse = first_load(duckdb_url, tmp_path)
    try:
        renamed = [changed(AREAS, "area_code", BETA, area_name="Beta and District")]
        assert load_file(warehouse, write_rows(tmp_path / "areas2.csv", renamed), table="areas",
                         refresh_journey=False).outcome == "loaded"
        pending = warehouse.query("select pregnancy_id from journey_pending order by 1")
        assert pending.pregnancy_id.tolist() == [p["pregnancy_id"] for p in COHORT
                                                 if p["area_code"] == BETA]
        assert ALPHA not in set(warehouse.query("select area_code from journey_pending p "
                                                "join cohort c using (pregnancy_id)").area_code)
    finally:
        warehouse.dispose()


def test_a_large_share_touched_rebuilds_everything(duckdb_url, tmp_path, monkeypatch):
    warehouse = first_load(duckdb_url, tmp_path)
    monkeypatch.setattr(journey, "FULL_REBUILD_SHARE", 0.3)
    try:
        # 3 of 9 pregnancies (a third, more than 0.3) touched
        moved = [{**new_birth_visit(p), "activity_date": new_birth_visit(p)["activity_date"] + days(1)}
                 for p in ("P1", "P2", "P3")]
        load_file(warehouse, write_rows(tmp_path / "a.csv", moved), refresh_journey=False)
        with warehouse.begin() as conn:
            assert journey.refresh_after_load(conn) == "full"
    finally:
        warehouse.dispose()


@pytest.mark.parametrize("change", [
    # as a load by a version before incremental rebuilds leaves it
    "delete from journey_pending_loads",
    # as a warehouse built by an earlier version of queries/_journey.sql
    "update journey_state set journey_sql = 'earlier'",
    # a reference row changed without a rebuild: every pregnancy's stages move, not only P1's
    "update ref_stages set end_offset_days = end_offset_days + 1 where stage = 'postnatal'",
], ids=["load that did not record its pregnancies", "changed journey SQL", "changed reference rows"])
def test_what_an_incremental_rebuild_cannot_trust_rebuilds_everything(duckdb_url, tmp_path,
                                                                      every_share, change):
    warehouse = first_load(duckdb_url, tmp_path)
    try:
        load_file(warehouse, write_rows(tmp_path / "a.csv", [
            {**new_birth_visit("P1"), "activity_date": P1_BIRTH + days(20)}]),
            refresh_journey=False)
        with warehouse.begin() as conn:
            conn.execute(sa.text(change))
            assert journey.refresh_after_load(conn) == "full"
    finally:
        warehouse.dispose()


def test_duckdb_builds_from_coded_events_the_tables_the_view_of_events_builds(duckdb_url, tmp_path,
                                                                             monkeypatch):
    """DuckDB's whole build reads the placed events from a table of ENUM codes
    (queries/_journey_events.duckdb.sql); the tables it makes hold text as before, row for row
    what reading the text view of events for every table makes, and no type outlives the build."""
    warehouse = first_load(duckdb_url, tmp_path)
    try:
        with warehouse.begin() as conn:
            journey.refresh(conn)
        coded = derived_tables(warehouse)
        enum_columns = warehouse.query(
            "select table_name, column_name from information_schema.columns "
            "where data_type like 'ENUM%'")
        assert enum_columns.empty, enum_columns
        assert warehouse.query("select type_name from duckdb_types() "
                               "where type_name like 'journey_%'").empty
        # the fixture's measures and contacts reach the tables built from coded columns
        assert len(coded["journey_mood_screens"]) and len(coded["journey_scores"])
        assert len(coded["journey_baby_contacts"]) and len(coded["journey_funnel"])
        # never matching the events statement, refresh makes _journey.sql's view of events
        monkeypatch.setattr(journey, "_EVENTS_VIEW", re.compile(r"(?!)"))
        with warehouse.begin() as conn:
            journey.refresh(conn)
        through_view = derived_tables(warehouse)
        for table in journey.DERIVED_TABLES:
            pd.testing.assert_frame_equal(coded[table], through_view[table], obj=table)
    finally:
        warehouse.dispose()
