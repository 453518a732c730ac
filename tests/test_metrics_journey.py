"""The journey tables: stage placement of events (contract section 2) and one row per pregnancy."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from metric_fixtures import (COHORT, P1_BIRTH, P2_BIRTH, build_warehouse,  # noqa: F401
                             fixture_warehouse)
from pathway import journey
from pathway.journey import JourneyError


def stage_of(warehouse, pregnancy_id, event_date):
    frame = warehouse.query(
        "select stage from placed_events where pregnancy_id = :p and event_date = :d",
        {"p": pregnancy_id, "d": event_date})
    return set(frame.stage)


def test_events_are_placed_by_the_stage_windows(fixture_warehouse):
    # P1: conception = 2023-03-01 - 266 = 2022-06-08
    assert stage_of(fixture_warehouse, "P1", dt.date(2022, 1, 10)) == {"preconception"}
    assert stage_of(fixture_warehouse, "P1", P1_BIRTH - dt.timedelta(84)) == {"antenatal"}
    assert stage_of(fixture_warehouse, "P1", P1_BIRTH + dt.timedelta(56)) == {"postnatal"}
    assert stage_of(fixture_warehouse, "P1", P1_BIRTH + dt.timedelta(365)) == {"infant"}


def test_review_on_day_57_falls_in_the_infant_stage(fixture_warehouse):
    assert stage_of(fixture_warehouse, "P2", P2_BIRTH + dt.timedelta(57)) == {"infant"}


def test_event_after_day_365_is_outside(fixture_warehouse):
    assert stage_of(fixture_warehouse, "P2", P2_BIRTH + dt.timedelta(380)) == {"outside"}


def test_ongoing_pregnancy_is_antenatal_before_its_edd(fixture_warehouse):
    # P7, EDD 2025-02-01: conception 2024-05-11; a contact on 2024-06-01 is antenatal
    assert stage_of(fixture_warehouse, "P7", dt.date(2024, 6, 1)) == {"antenatal"}


def test_every_activity_and_measure_is_in_events_once(fixture_warehouse):
    counts = fixture_warehouse.query(
        "select source, count(*) as n, count(distinct event_id) as ids from placed_events group by source "
        "order by source")
    assert counts.values.tolist() == [["activity", 31, 31], ["measures", 9, 9]]


def test_journey_has_one_row_per_pregnancy(fixture_warehouse):
    frame = fixture_warehouse.query("select * from journey order by pregnancy_id")
    assert list(frame.pregnancy_id) == sorted(p["pregnancy_id"] for p in COHORT)
    p1 = frame.set_index("pregnancy_id").loc["P1"]
    assert p1.conception_date == dt.date(2022, 6, 8)
    assert p1.gestation_at_booking_days == 51
    assert p1.specialist_access_date == P1_BIRTH + dt.timedelta(71)
    # only live births with a birth date are live births
    assert frame.set_index("pregnancy_id").is_live_birth.to_dict() == {
        "P1": True, "P2": True, "P3": True, "P4": True, "P5": False, "P6": False, "P7": False,
        "Q1": True, "Q2": True}


def test_refresh_again_rebuilds_without_duplicates(warehouse_url):
    warehouse = build_warehouse(warehouse_url)
    try:
        with warehouse.begin() as conn:
            journey.refresh(conn)
        assert warehouse.query("select count(*) as n from journey").n[0] == len(COHORT)
        assert warehouse.query("select count(*) as n from placed_events").n[0] == 40
    finally:
        warehouse.dispose()


def test_refresh_picks_up_new_rows(warehouse_url):
    warehouse = build_warehouse(warehouse_url, activity=[], measures=[])
    try:
        assert warehouse.query("select count(*) as n from placed_events").n[0] == 0
        with warehouse.begin() as conn:
            conn.execute(sa.text(
                "insert into activity (activity_id, pregnancy_id, service, activity_type, "
                "activity_date, attendance, tier) values ('X1', 'P1', 'gp', 'contact', "
                ":d, 'attended', 'universal')"), {"d": P1_BIRTH + dt.timedelta(20)})
            journey.refresh(conn)
        assert stage_of(warehouse, "P1", P1_BIRTH + dt.timedelta(20)) == {"postnatal"}
    finally:
        warehouse.dispose()


def test_refresh_restores_a_shipped_parameter_an_older_database_lacks(warehouse_url):
    warehouse = build_warehouse(warehouse_url)
    try:
        with warehouse.begin() as conn:
            conn.execute(sa.text("delete from ref_parameters "
                                 "where name = 'conception_days_before_edd'"))
            journey.refresh(conn)
        restored = warehouse.query("select value from ref_parameters "
                                   "where name = 'conception_days_before_edd'")
        assert restored.value.tolist() == [266]
        # and P1's conception is still EDD - 266 days
        conception = warehouse.query("select conception_date from journey where pregnancy_id = 'P1'")
        assert conception.conception_date[0] == dt.date(2022, 6, 8)
    finally:
        warehouse.dispose()


def test_refresh_refuses_when_no_conception_rule_can_be_found(warehouse_url, tmp_path, monkeypatch):
    warehouse = build_warehouse(warehouse_url)
    shipped = tmp_path / "parameters.csv"
    lines = (journey.reference_dir() / "parameters.csv").read_text().splitlines()
    shipped.write_text("\n".join(l for l in lines if not l.startswith("conception_days")) + "\n")
    monkeypatch.setattr(journey, "reference_dir", lambda: tmp_path)
    try:
        with pytest.raises(JourneyError, match="conception_days_before_edd"):
            with warehouse.begin() as conn:
                conn.execute(sa.text("delete from ref_parameters "
                                     "where name = 'conception_days_before_edd'"))
                journey.refresh(conn)
    finally:
        warehouse.dispose()
