"""Proves the shared test fixtures work: the throwaway PostgreSQL server, both warehouse
backends, headless Chromium under dash[testing], and the missing-tool rule (fail in CI)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from pathway import schema
from pathway.db import Warehouse
from pathway.resources import reference_dir


def test_postgres_round_trip_through_the_warehouse(fresh_postgres_url):
    warehouse = Warehouse(fresh_postgres_url)
    try:
        with warehouse.begin() as conn:
            conn.execute(sa.text("CREATE TABLE visits (area_code text, visits integer)"))
            conn.execute(sa.text("INSERT INTO visits VALUES (:area, :visits)"),
                         [{"area": "E06000001", "visits": 3}, {"area": "E06000002", "visits": 4}])
        # 3 + 4 visits over two areas
        totals = warehouse.query("SELECT count(*) AS areas, sum(visits) AS visits FROM visits")
        assert totals.to_dict("records") == [{"areas": 2, "visits": 7}]
        assert warehouse.dialect == "postgresql"
    finally:
        warehouse.dispose()


def test_fresh_postgres_database_starts_empty(fresh_postgres_url):
    warehouse = Warehouse(fresh_postgres_url)
    try:
        with warehouse.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        warehouse.dispose()


def test_ensure_schema_makes_the_same_tables_on_both_backends(duckdb_url, fresh_postgres_url):
    table_lists = {}
    for url in (duckdb_url, fresh_postgres_url):
        warehouse = Warehouse(url)
        try:
            warehouse.ensure_schema()
            warehouse.ensure_schema()  # idempotent: a second call must not fail or duplicate
            with warehouse.connect() as conn:
                table_lists[warehouse.dialect] = sorted(sa.inspect(conn).get_table_names())
        finally:
            warehouse.dispose()
    assert table_lists["duckdb"] == table_lists["postgresql"] == sorted(schema.metadata.tables)


def test_warehouse_url_runs_once_per_backend(request, warehouse_url):
    backend = request.node.callspec.params["warehouse_url"]
    warehouse = Warehouse(warehouse_url)
    try:
        warehouse.ensure_schema()
        assert warehouse.dialect == backend
        # The shipped stage windows land whole on either backend: one row per CSV line.
        expected = len(pd.read_csv(reference_dir() / "stages.csv"))
        loaded = warehouse.query("SELECT count(*) AS n FROM ref_stages")["n"].iloc[0]
        assert loaded == expected
    finally:
        warehouse.dispose()


def test_duckdb_url_is_a_file_in_the_test_folder(duckdb_url, tmp_path):
    assert duckdb_url == f"duckdb:///{tmp_path}/warehouse.duckdb"


def test_shared_data_folder_holds_the_area_lookups(shared_data):
    assert (shared_data / "area-lookups-england" / "SOURCE.md").is_file()


def test_dash_app_renders_in_headless_chromium(dash_duo, monkeypatch):
    from dash import Dash, _callback, html

    # The first Dash app to serve takes every callback registered with dash.callback so far.
    # Where an earlier test in this worker imported the dashboard's pages without serving them
    # (pytest-xdist hands a worker any order of files), this toy app would take the dashboard's
    # callbacks, fail on their missing components and leave the dashboard with none.
    monkeypatch.setattr(_callback, "GLOBAL_CALLBACK_MAP", {})
    monkeypatch.setattr(_callback, "GLOBAL_CALLBACK_LIST", [])
    app = Dash(__name__)
    app.layout = html.Div("Perinatal pathway", id="greeting")
    dash_duo.start_server(app)
    dash_duo.wait_for_text_to_equal("#greeting", "Perinatal pathway")
    assert dash_duo.get_logs() == []


# ---- the missing-tool rule, checked in a separate pytest run with no PostgreSQL --------
NEEDS_POSTGRES = """
def test_needs_postgres(postgres_server):
    pass
"""


@pytest.fixture
def session_without_postgres(pytester, monkeypatch, tmp_path):
    """A pytest run using our conftest on a machine whose PostgreSQL cannot be found."""
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text())
    pytester.makepyfile(test_needs_postgres=NEEDS_POSTGRES)
    monkeypatch.setenv("PATHWAY_TEST_PG_BIN", str(tmp_path / "no-postgres-here"))
    return pytester


def test_missing_postgres_fails_in_ci(session_without_postgres, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = session_without_postgres.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*PostgreSQL binaries (initdb, pg_ctl) not found*CI is set*"])


NEEDS_SHARED_DATA = """
import pytest
from conftest import shared_file


def test_needs_the_shared_folder(shared_data):
    pass


def test_needs_a_shared_file():
    shared_file("msds/*.csv")


def test_skips_of_its_own_accord():
    pytest.skip("no reason")
"""


@pytest.fixture
def session_without_shared_data(pytester, monkeypatch, tmp_path):
    """A pytest run using our conftest where the shared published data folder is missing."""
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text())
    pytester.makepyfile(test_needs_shared=NEEDS_SHARED_DATA)
    monkeypatch.setenv("PATHWAY_SHARED_DATA", str(tmp_path / "no-shared-data-here"))
    return pytester


def test_missing_shared_data_and_any_skip_fail_in_ci(session_without_shared_data, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = session_without_shared_data.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1, failed=2)
    result.stdout.fnmatch_lines(["*shared published data not found at*no-shared-data-here*CI is set*",
                                 "*'msds/*.csv' not found under*CI is set*",
                                 "*skipped, but CI is set, so this is a failure*no reason*"])


def test_missing_shared_data_skips_outside_ci(session_without_shared_data, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = session_without_shared_data.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=3)


def test_missing_postgres_skips_outside_ci(session_without_postgres, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = session_without_postgres.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*apt-get install -y postgresql*"])
