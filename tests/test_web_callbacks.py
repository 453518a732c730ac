"""The dashboard's callbacks and views without a browser: plain functions called on the fixture
warehouse of test_web_fixtures (two areas, numbers worked out there by hand)."""

from __future__ import annotations

import base64
import io
import re

import openpyxl
import pandas as pd
import pytest

from test_web_fixtures import ICB, NORTHTOWN, PERIOD, SOUTHVALE, build_fixture_warehouse

from pathway.web import exports, ids
from pathway.web.filters import filters_from_query, merge_query, query_string, read_filters


@pytest.fixture(scope="module")
def fixture_warehouse(tmp_path_factory):
    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("web"))
    yield warehouse
    warehouse.dispose()


@pytest.fixture(scope="module")
def app(fixture_warehouse):
    from pathway.web.server import create_app

    return create_app(warehouse=fixture_warehouse)


@pytest.fixture(autouse=True)
def read_the_fixture(app, fixture_warehouse):
    """Every test starts with the dashboard reading the fixture (some point it elsewhere)."""
    from pathway.web import warehouse as web_data

    web_data.configure(warehouse=fixture_warehouse)
    yield
    web_data.configure(warehouse=fixture_warehouse)


def text_of(component) -> str:
    """All the text a layout shows, for asserting on what people read."""
    return str(component)


# ---- the filter parser ---------------------------------------------------------------
def test_query_string_becomes_metric_filters():
    assert filters_from_query("?area=E06000901&from=2024-01-01&to=2024-12-31&tier=universal") == {
        "area": "E06000901", "from": "2024-01-01", "to": "2024-12-31", "tier": "universal"}


def test_no_area_means_all_areas_and_layout_keywords_are_read_too():
    assert filters_from_query({"stage": "postnatal"}) == {"area": "all", "stage": "postnatal"}


def test_a_bad_date_is_ignored_and_said_in_words():
    filters, problems = read_filters("?from=31/02/2024&area=E06000901")
    assert filters == {"area": "E06000901"}
    assert problems == ["The period from date '31/02/2024' is not a date (use YYYY-MM-DD); it was ignored."]


def test_a_period_that_runs_backwards_is_dropped():
    filters, problems = read_filters("?from=2024-12-31&to=2024-01-01")
    assert "from" not in filters and "to" not in filters and len(problems) == 1


def test_query_string_round_trips_and_leaves_out_defaults():
    assert query_string({"area": "all", "from": "2024-01-01"}) == "?from=2024-01-01"
    assert merge_query("?area=E06000901&from=2024-01-01", {"area": None, "tier": "targeted"}) == \
        "?from=2024-01-01&tier=targeted"


def test_filter_bar_change_rewrites_the_url(app):
    from pathway.web.components.filter_bar import write_filters_to_url

    control_ids = [{"type": ids.FILTER_TYPE, "name": n} for n in ("area", "from", "to")]
    new = write_filters_to_url([SOUTHVALE, "2024-01-01", None], control_ids, "?area=E06000901&tier=universal")
    # The hidden tier filter is kept; the area changes; a blank 'to' stays out.
    assert new == f"?area={SOUTHVALE}&from=2024-01-01&tier=universal"


def test_navigation_links_keep_the_filters_and_mark_the_page(app):
    from pathway.web.shell import navigation_state

    hrefs, active = navigation_state("/coverage", "?area=X", ["/", "/coverage"])
    assert hrefs == ["/?area=X", "/coverage?area=X"] and active == [False, True]


# ---- downloads -------------------------------------------------------------------------
def test_cells_a_spreadsheet_would_run_are_written_inert():
    assert exports.inert("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert [exports.inert(v) for v in ("+1+1", "@SUM(A1)", "-2+3", "\tx")] == ["'+1+1", "'@SUM(A1)", "'-2+3", "'\tx"]
    # Plain numbers are data, not formulas: a negative gap stays a number.
    assert exports.inert("-3.5") == "-3.5" and exports.inert(-3.5) == -3.5


def test_xlsx_download_holds_text_not_a_formula():
    frame = pd.DataFrame({"area_name": ["=cmd|' /C calc'!A0"], "reached": ["*"]})
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame)))
    sheet = book.active
    # Stored as text ('s'), not as a formula ('f'), with the apostrophe that makes it inert.
    assert sheet["A2"].value == "'=cmd|' /C calc'!A0" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == "*"


def test_card_download_gives_the_suppressed_rows_as_csv_and_xlsx():
    from pathway.web.components.figure_card import card_download

    stored = {"columns": ["area_code", "reached"], "rows": [{"area_code": "A", "reached": "*"},
                                                            {"area_code": "B", "reached": 10}]}
    csv = card_download("csv", "coverage-stage-reach", stored)
    assert csv["filename"] == "pathway-coverage-stage-reach.csv"
    assert base64.b64decode(csv["content"]).decode("utf-8-sig").splitlines() == ["area_code,reached", "A,*", "B,10"]
    xlsx = card_download("xlsx", "coverage-stage-reach", stored)
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(xlsx["content"]))).active
    assert [c.value for c in sheet[2]] == ["A", "*"]


# ---- views on the fixture's known numbers ------------------------------------------
def _card_rows(component, card: str) -> list[dict]:
    """The rows in a figure card's download store (what CSV/XLSX downloads contain)."""
    found = []

    def walk(node):
        if getattr(node, "id", None) == {"type": ids.CARD_DATA_TYPE, "card": card}:
            found.append(node.data["rows"])
        for child in (getattr(node, "children", None) or []) if isinstance(getattr(node, "children", None), list) \
                else [getattr(node, "children", None)]:
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)

    walk(component)
    assert found, f"no figure card {card!r}"
    return found[0]


def test_coverage_shows_northtown_postnatal_reach_and_compares_it_with_both_areas(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(area=NORTHTOWN, **PERIOD), "coverage-stage-reach")
    postnatal = next(r for r in rows if r["stage"] == "postnatal" and r["tier"] == "universal")
    # Northtown 10 of 20 = 50%; all areas pooled 20 of 30 = 66.7%, inside Northtown's interval 29.9-70.1.
    # Percentages reach people as text with one decimal place (pathway.disclosure.format_for_people).
    assert (postnatal["reached"], postnatal["cohort"], str(postnatal["pct"])) == (10, 20, "50.0")
    assert postnatal["benchmark_pct"] == 66.7 and postnatal["comparison"] == "similar"


def test_coverage_for_southvale_is_higher_than_all_areas(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(area=SOUTHVALE, **PERIOD), "coverage-stage-reach")
    postnatal = next(r for r in rows if r["stage"] == "postnatal" and r["tier"] == "universal")
    # 10 of 10 = 100%, interval 72.2-100 lies above the pooled 66.7%.
    assert str(postnatal["pct"]) == "100.0" and postnatal["comparison"] == "higher"


def test_coverage_for_the_icb_adds_its_two_areas(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(area=ICB, **PERIOD), "coverage-stage-reach")
    postnatal = next(r for r in rows if r["stage"] == "postnatal" and r["tier"] == "universal")
    assert (postnatal["reached"], postnatal["cohort"], str(postnatal["pct"])) == (20, 30, "66.7")


def test_small_counts_reach_the_page_and_downloads_as_stars(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(area=SOUTHVALE, **PERIOD), "coverage-stage-reach")
    infant = next(r for r in rows if r["stage"] == "infant" and r["tier"] == "universal")
    # 5 GP contacts in the infant stage: a count from 1 to 7, shown as * with its percentage.
    assert infant["reached"] == "*" and infant["pct"] == "*"


def test_stage_and_tier_filters_narrow_the_reach_table(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(area=NORTHTOWN, stage="antenatal", tier="specialist", **PERIOD),
                      "coverage-stage-reach")
    assert [(r["stage"], r["tier"], r["reached"], str(r["pct"])) for r in rows] == [("antenatal", "specialist", 10, "50.0")]


def test_specialist_access_lists_each_area_against_need(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(**PERIOD), "coverage-specialist-access")
    access = {r["area_code"]: (r["accessed"], r["live_births"], str(r["access_pct"])) for r in rows}
    assert access == {NORTHTOWN: (10, 20, "50.0"), SOUTHVALE: (0, 10, "0.0")}


def test_overview_funnel_counts_births_then_universal_reach_by_stage(app):
    from pathway.web.pages import overview

    rows = _card_rows(overview.layout(area=NORTHTOWN, **PERIOD), "overview-funnel")
    assert [(r["step"], r["people"]) for r in rows] == [
        ("Births in the period", 20), ("Reached, preconception", 0), ("Reached, antenatal", 0),
        ("Reached, postnatal", 10), ("Reached, infant", 0)]


def test_map_tiles_show_each_area_and_a_click_chooses_it(app):
    from pathway.web.pages import map as map_page

    values, _ = map_page.map_values(dict(area="all", **PERIOD), "specialist_access")
    assert dict(zip(values["area_code"], values["value"])) == {NORTHTOWN: 50.0, SOUTHVALE: 0.0}
    click = {"points": [{"customdata": SOUTHVALE}]}
    assert map_page.choose_area_on_map(click, "?from=2024-01-01") == f"?area={SOUTHVALE}&from=2024-01-01"


def test_map_draws_polygons_from_a_boundary_file_matched_on_codes(app, tmp_path):
    import json
    from pathway.web.pages import map as map_page

    square = [[[-1.0, 54.0], [-0.9, 54.0], [-0.9, 54.1], [-1.0, 54.0]]]
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"CTYUA23CD": NORTHTOWN}, "geometry": {"type": "Polygon", "coordinates": square}},
        {"type": "Feature", "properties": {"CTYUA23CD": "W06000001"}, "geometry": {"type": "Polygon", "coordinates": square}},
    ]}))
    rings = map_page.boundaries_for([NORTHTOWN, SOUTHVALE], path)
    assert list(rings) == [NORTHTOWN] and rings[NORTHTOWN][0][0] == [-1.0, 54.0]


def test_a_view_with_no_rows_says_so_in_words(tmp_path):
    from pathway.db import Warehouse
    from pathway.web import warehouse as web_data
    from pathway.web.pages import coverage

    empty = Warehouse(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    empty.ensure_schema()
    web_data.configure(warehouse=empty)
    try:
        assert "No data for this filter." in text_of(coverage.stage_reach_card({"area": "all"}, "all areas"))
    finally:
        empty.dispose()


def test_an_unreachable_database_is_explained_not_a_traceback(tmp_path):
    from pathway.web import warehouse as web_data
    from pathway.web.pages import coverage

    # A read-only DuckDB file that does not exist cannot be opened.
    web_data.configure(f"duckdb:///{tmp_path / 'missing' / 'none.duckdb'}", read_only=True)
    text = text_of(coverage.stage_reach_card({"area": "all"}, "all areas"))
    assert "The database is not reachable" in text and "Traceback" not in text


def test_health_reports_the_database_and_its_rows(app):
    response = app.server.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "reachable", "rows": {"cohort": 30, "activity": 36}}


def test_uploading_an_extract_loads_it_and_shows_rejects(app, tmp_path):
    from pathway.web.pages import data

    csv = ("area_code,area_name\nE06000903,Eastmere\n").encode()
    summary, message = data.load_uploaded_file("data:text/csv;base64," + base64.b64encode(csv).decode(),
                                               "areas_extra.csv")
    assert message is None and summary.outcome == "loaded" and summary.rows_loaded == 1
    log = text_of(data.load_log_block())
    assert "areas_extra.csv" in log


def test_upload_is_refused_in_words_when_serving_read_only(tmp_path):
    from pathway.web import warehouse as web_data
    from pathway.web.pages import data

    web_data.configure(f"duckdb:///{tmp_path / 'w.duckdb'}", read_only=True)
    summary, message = data.load_uploaded_file("data:text/csv;base64,YQ==", "cohort.csv")
    assert summary is None and "read-only" in message
