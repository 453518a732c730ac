"""A DuckDB journey with more events than its memory builds at once is built a share of the
pregnancies at a time (pathway.journey._refresh_in_parts): the same rows as one build, in as
many parts as the events and DuckDB's memory limit call for."""

from __future__ import annotations

import pandas as pd
import pytest

from metric_fixtures import ACTIVITY, COHORT, MEASURES
from pathway import journey
from pathway.db import Warehouse
from test_journey_incremental import derived_tables, first_load


@pytest.fixture
def one_gib(monkeypatch):
    monkeypatch.setenv("PATHWAY_DUCKDB_MEMORY", "1GiB")


def test_the_fixture_has_forty_events():
    # the counts the expectations below are worked from: 31 activity and 9 measures rows
    assert (len(ACTIVITY), len(MEASURES), len(COHORT)) == (31, 9, 9)


def parts_needed(url: str) -> int:
    warehouse = Warehouse(url)
    try:
        with warehouse.begin() as conn:
            return journey._parts_needed(conn)
    finally:
        warehouse.dispose()


def test_parts_follow_the_events_and_the_memory_limit(duckdb_url, tmp_path, one_gib, monkeypatch):
    first_load(duckdb_url, tmp_path).dispose()
    monkeypatch.setattr(journey, "WHOLE_BUILD_EVENTS_PER_GIB", 40)
    assert parts_needed(duckdb_url) == 1            # 40 events, 40 allowed at once
    monkeypatch.setattr(journey, "WHOLE_BUILD_EVENTS_PER_GIB", 39)
    monkeypatch.setattr(journey, "PART_EVENTS_PER_GIB", 20)
    assert parts_needed(duckdb_url) == 2            # 40 / 20
    monkeypatch.setattr(journey, "PART_EVENTS_PER_GIB", 15)
    assert parts_needed(duckdb_url) == 3            # 40 / 15 = 2.7
    # half the memory, parts of half the size: 40 / 7.5 = 5.3
    monkeypatch.setenv("PATHWAY_DUCKDB_MEMORY", "512MiB")
    assert parts_needed(duckdb_url) == 6
    # a decimal gigabyte is 0.931 GiB (DuckDB reports 953.6 MiB): 40 / (20 x 0.931) = 2.1
    monkeypatch.setattr(journey, "PART_EVENTS_PER_GIB", 20)
    monkeypatch.setenv("PATHWAY_DUCKDB_MEMORY", "1GB")
    assert parts_needed(duckdb_url) == 3


def test_a_build_in_parts_equals_one_build(duckdb_url, tmp_path, one_gib, monkeypatch):
    warehouse = first_load(duckdb_url, tmp_path)   # loading built the journey in one go
    try:
        whole = derived_tables(warehouse)
        monkeypatch.setattr(journey, "WHOLE_BUILD_EVENTS_PER_GIB", 1)
        monkeypatch.setattr(journey, "PART_EVENTS_PER_GIB", 15)   # 3 parts, as above
        sizes = []
        rebuild_pregnancies = journey._rebuild_pregnancies

        def counted(conn, pregnancies, **options):
            sizes.append(conn.exec_driver_sql(f"select count(*) from ({pregnancies})").scalar())
            rebuild_pregnancies(conn, pregnancies, **options)

        monkeypatch.setattr(journey, "_rebuild_pregnancies", counted)
        with warehouse.begin() as conn:
            journey.refresh(conn)
            assert journey.is_current(conn)
            # the build's temporary tables, views and types are gone
            leftovers = conn.exec_driver_sql(
                "select table_name from information_schema.tables where table_catalog = 'temp' "
                "union all select type_name from duckdb_types() where database_name = 'temp' "
                "and starts_with(type_name, 'journey_')").fetchall()
            assert leftovers == []
        # every pregnancy in exactly one part, and more than one part holding some
        assert len(sizes) == 3 and sum(sizes) == len(COHORT)
        assert sum(size > 0 for size in sizes) >= 2, sizes
        in_parts = derived_tables(warehouse)
        for table in journey.DERIVED_TABLES:
            pd.testing.assert_frame_equal(in_parts[table], whole[table], obj=table)
        assert len(in_parts["journey_reach_measures"]) > len(COHORT)   # rows were compared
    finally:
        warehouse.dispose()
