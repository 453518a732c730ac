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

from pathway.disclosure_audit import walk_components
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

    return create_app(warehouse=fixture_warehouse, open_access=True)


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
    found = [node.data["rows"] for node in walk_components(component)
             if getattr(node, "id", None) == {"type": ids.CARD_DATA_TYPE, "card": card}]
    assert found, f"no figure card {card!r}"
    return found[0]


def test_coverage_compares_northtown_postnatal_reach_with_the_service_gaps_benchmark(app):
    from pathway.web.pages import coverage, service_gaps

    rows = _card_rows(coverage.layout(area=NORTHTOWN, **PERIOD), "coverage-stage-reach")
    postnatal = next(r for r in rows if r["stage"] == "postnatal" and r["tier"] == "universal")
    # Northtown 10 of 20 = 50% (Wilson 29.9-70.1). The benchmark is Service gaps' own: the median of
    # Northtown 50% and Southvale 100% = 75%, above the interval, so lower on both views.
    # Percentages reach people as text, whole percent under a denominator of 4,000
    # (contract 7.4; pathway.disclosure.format_for_people).
    assert (postnatal["reached"], postnatal["cohort"], str(postnatal["pct"])) == (10, 20, "50")
    assert postnatal["benchmark_pct"] == 75.0 and postnatal["comparison"] == "lower"
    gaps, _ = service_gaps.gap_rows({"area": NORTHTOWN, **PERIOD})
    same = gaps[(gaps.stage == "postnatal") & (gaps.tier == "universal")].iloc[0]
    assert (same.benchmark_pct, same.flag) == (75.0, "below_benchmark")


def test_coverage_names_the_stages_in_words_on_its_axis_and_in_its_sentence(app):
    """ref_stages' labels (the report's words), never the codes: 'Pregnancy', not 'antenatal'."""
    from pathway.web.pages import coverage

    card = coverage.stage_reach_card({"area": NORTHTOWN, **PERIOD}, "Northtown")
    figure = next(n.figure for n in walk_components(card) if getattr(n, "figure", None))
    assert list(dict.fromkeys(x for trace in figure["data"] for x in trace["x"])) == [
        "Preconception", "Pregnancy", "Postnatal", "Infant"]
    text = " ".join(n.children for n in walk_components(card) if isinstance(getattr(n, "children", None), str))
    # Northtown's postnatal universal reach, 10 of 20 (the test above)
    assert "Postnatal, universal 50%" in text and "antenatal" not in text


def test_coverage_for_southvale_is_similar_to_the_benchmark(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(area=SOUTHVALE, **PERIOD), "coverage-stage-reach")
    postnatal = next(r for r in rows if r["stage"] == "postnatal" and r["tier"] == "universal")
    # 10 of 10 = 100%, interval 72.2-100 holds the 75% benchmark: similar.
    assert str(postnatal["pct"]) == "100" and postnatal["comparison"] == "similar"


def test_coverage_for_the_icb_adds_its_two_areas(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(area=ICB, **PERIOD), "coverage-stage-reach")
    postnatal = next(r for r in rows if r["stage"] == "postnatal" and r["tier"] == "universal")
    assert (postnatal["reached"], postnatal["cohort"], str(postnatal["pct"])) == (20, 30, "67")


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
    assert [(r["stage"], r["tier"], r["reached"], str(r["pct"])) for r in rows] == [("antenatal", "specialist", 10, "50")]


def test_specialist_access_lists_each_area_against_need(app):
    from pathway.web.pages import coverage

    rows = _card_rows(coverage.layout(**PERIOD), "coverage-specialist-access")
    access = {r["area_code"]: (r["accessed"], r["live_births"], str(r["access_pct"])) for r in rows}
    assert access == {NORTHTOWN: (10, 20, "50"), SOUTHVALE: (0, 10, "0")}


def test_overview_funnel_counts_births_then_universal_reach_by_stage(app):
    from pathway.web.pages import overview

    rows = _card_rows(overview.layout(area=NORTHTOWN, **PERIOD), "overview-funnel")
    assert [(r["step"], r["people"]) for r in rows] == [
        ("Births in the period", 20), ("Reached, Preconception", 0), ("Reached, Pregnancy", 0),
        ("Reached, Postnatal", 10), ("Reached, Infant", 0)]


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


# ---- trends: the SPC chart -------------------------------------------------------------------
def _figure(component, card: str):
    """The figure of a card's graph."""
    found = [node.figure for node in walk_components(component)
             if getattr(node, "id", None) == {"type": ids.CARD_GRAPH_TYPE, "card": card}]
    assert found, f"no graph in card {card!r}"
    return found[0]


def test_trend_of_births_marks_march_and_the_run_after_it_as_special_cause(app):
    from pathway.web.pages import trends

    card = trends.trend_card({"area": NORTHTOWN, **PERIOD}, "births")
    rows = _card_rows(card, "trend")
    # Northtown's 20 births all fall in March 2024: 0, 0, 20, then 9 months of 0. Mean 20 / 12 = 1.67;
    # moving ranges 0, 20, 20 and eight 0s, mean 40 / 11 = 3.64; limits 1.67 ± 2.66 × 3.64 = -8.0 to 11.3,
    # shown to whole births (contract 7.4: twelve times a mean to one decimal would give the total back).
    assert [r["value"] for r in rows] == [0, 0, 20] + [0] * 9
    # A count cannot fall below 0, so the lower limit (-8.0) is shown at 0, as the Making Data Count tools do.
    assert (rows[0]["mean"], rows[0]["lower_limit"], rows[0]["upper_limit"]) == (2, 0, 11)
    # March is outside the limits; April to December are a run of 9 (7 or more) below the mean.
    assert [r["month"] for r in rows if r["special_cause"] == "yes"] == [f"2024-{m:02d}" for m in range(3, 13)]
    text = text_of(card)
    assert "2024-03 (outside the limits)" in text and "2024-04 (a run of 7 on one side of the mean)" in text
    # Births have no better direction: the latest month's icon says 'lower', neither better nor worse.
    assert "Special cause variation: significantly lower (neither better nor worse for this measure)" in text


def test_trend_special_cause_points_differ_by_shape_and_colour_from_the_series(app):
    from pathway.web.pages import trends

    figure = _figure(trends.trend_card({"area": NORTHTOWN, **PERIOD}, "births"), "trend")
    # Figures are plain dicts, as dcc.Graph receives them.
    by_name = {trace["name"]: trace for trace in figure["data"]}
    assert set(by_name) == {"Monthly value", "Mean", "Process limits", "Lower process limit", "Special cause"}
    # The two limits share one legend entry: two entries drawn alike could not be told apart.
    assert by_name["Process limits"]["showlegend"] and not by_name["Lower process limit"]["showlegend"]
    special = by_name["Special cause"]
    assert special["marker"]["symbol"] == "square"
    assert special["marker"]["color"] != by_name["Monthly value"]["marker"]["color"]
    assert len(special["x"]) == 10 and by_name["Process limits"]["line"]["dash"] == "dash"


def test_trend_for_all_areas_pools_the_areas_month_by_month(app):
    from pathway.web.pages import trends

    card = trends.trend_card({"area": "all", **PERIOD}, "births")
    rows = _card_rows(card, "trend")
    # Northtown's 20 and Southvale's 10 births all fall in March 2024: 0, 0, 30, then 9 months of 0.
    # Mean 30 / 12 = 2.5; moving ranges 0, 30, 30 and eight 0s, mean 60 / 11 = 5.45;
    # limits 2.5 ± 2.66 × 5.45 = -12.0 to 17.0.
    assert [r["value"] for r in rows] == [0, 0, 30] + [0] * 9
    assert (rows[0]["mean"], rows[0]["lower_limit"], rows[0]["upper_limit"]) == (2.5, 0, 17.0)  # -12.0 shown at 0
    text = text_of(card)
    assert "All areas are pooled" in text and "nan" not in text


def test_trend_of_waiting_times_for_all_areas_asks_for_one_area_in_words(app):
    from pathway.web.pages import trends

    text = text_of(trends.trend_card({"area": "all", **PERIOD}, "waiting_times"))
    assert "Choose an area or ICB in the filter" in text and "wider period" not in text


# ---- economic case -------------------------------------------------------------------------------
# Northtown, 2012/13 prices, middle prevalence, effect 0.5, targets 10% (specialist) and 12.5% (targeted).
# Expected cases = 20 births x per 1,000 / 1,000: depression 1.9 (GBP 74,000 a case), anxiety alone 1.6
# (35,000), psychosis 0.04 (53,000); PTSD 0.6 and adjustment disorders 4.5 are not costed.
# Cost of illness 140,600 + 56,000 + 2,120 = 198,720 (GBP 199k); public sector x 0.2099 = 41,711.
# Specialist: 10 of 20 treated (50%), above the 10% target: no one added. Targeted: none treated, so
# 12.5% x 20 = 2.5 extra, shared 95 : 80 : 30 among depression, anxiety and PTSD; episode GBP 546 in
# 2024/25 prices = 546 x 72.6 / 103.4 = 383.36 in 2012/13: extra spend 2.5 x 383.36 = 958.40.
# Avoided (society) = 0.5 x 2.5 x (95 x 74,000 + 80 x 35,000) / 205 = 59,939.02; public x 0.2099 = 12,581.20.
# Return: public 12,581.20 / 958.40 = 13.13, society 62.54; net public 11,622.80, society 58,980.62.
R_2012 = 72.6 / 103.4


def test_economic_case_totals_for_northtown_match_the_hand_arithmetic(app):
    from pathway import economics
    from pathway.web.pages import economic_case
    from pathway.web.warehouse import fetch_metric

    params = economic_case.scenario_params({"area": NORTHTOWN, **PERIOD}, 10, 0.5, "2012/13", "mid")
    totals = economics.totals(economics.evaluate(fetch_metric("economic_case", params).frame))
    assert round(totals["cost_of_illness"]) == 198_720
    # Mother 1.9 x 23,000 + 1.6 x 21,000 = 77,300; child 1.9 x 51,000 + 1.6 x 14,000 = 119,300 (psychosis unsplit).
    assert (round(totals["mother_cost"]), round(totals["child_cost"])) == (77_300, 119_300)
    assert totals["public_sector_cost"] == pytest.approx(198_720 * 0.2099)
    assert totals["current_service_spend"] == pytest.approx(10 * 2080 * R_2012)
    assert totals["extra_spend"] == pytest.approx(2.5 * 546 * R_2012)
    assert totals["avoided_cost"] == pytest.approx(0.5 * 2.5 * 9_830_000 / 205)
    assert round(totals["roi_public"], 2) == 13.13 and round(totals["roi_society"], 2) == 62.54


def test_the_page_leads_with_the_public_sector_and_says_a_met_target_in_words(app):
    from pathway.web.pages import economic_case

    text = text_of(economic_case.change_scenario(10, 0.5, "2012/13", "mid", None, {},
                                                 f"?area={NORTHTOWN}&from=2024-01-01&to=2024-12-31"))
    assert ("returns \u00a313.13 avoided for every \u00a31 spent to the public sector" in text
            or "returns £13.13 avoided for every £1 spent to the public sector" in text)
    assert text.index("13.13") < text.index("62.54")  # the public sector first, society beside it
    assert "already treat 50% of live births (10 of 20), at or above the 10% target" in text
    assert "0.0 more people" not in text
    # money to 3 significant figures, never to the pound
    assert "199k" in text and "198,720" not in text
    # every assumption with its status: the effect is the reader's own, episode costs illustrative,
    # the psychosis cost and the deflator to be checked
    assert "your setting (this session)" in text and "illustrative: replace with your own" in text
    assert "check: a shipped default to confirm" in text and "Joint Commissioning Panel" in text
    assert "Totals count all 5 rows (no count is hidden)" in text


def test_session_assumptions_change_the_figures_without_touching_the_warehouse(app):
    from pathway.web.pages import economic_case

    search = f"?area={NORTHTOWN}&from=2024-01-01&to=2024-12-31"
    # the public-sector share raised to 0.5: the public return 59,939.02 x 0.5 / 958.40 = 31.27
    text = text_of(economic_case.change_scenario(10, 0.5, "2012/13", "mid", None, {"public_share": 0.5}, search))
    assert "31.27" in text and "public share = 0.5" in text
    stored = economic_case.session_assumptions([None, 0.5], [
        {"type": ids.ECONOMIC_EDIT_TYPE, "key": "per_1000:ptsd"}, {"type": ids.ECONOMIC_EDIT_TYPE, "key": "public_share"}])
    assert stored == {"public_share": 0.5}


def test_the_tornado_ranks_the_effect_first_for_northtown(app):
    from pathway.web.pages import economic_case

    text = text_of(economic_case.economic_results({"area": NORTHTOWN, **PERIOD}, 10, 0.5, "2012/13", "mid"))
    assert "How sure is the return?" in text
    assert "moves most with effect (share of cost avoided)" in text


def test_all_areas_show_the_return_by_area_not_an_empty_chart(app):
    from pathway.web.pages import economic_case

    text = text_of(economic_case.economic_results({"area": "all", **PERIOD}, 10, 0.5, "2012/13", "mid"))
    # every loaded area (tests above may load more than the two), each with its own return
    assert re.search(r"The return per £1 in each of \d+ areas, public sector beside society: from "
                     r"£[\d.]+ to £[\d.]+ for the public sector", text)
    assert "economic-scenario" in text and "figure={" in text


def test_targets_already_met_everywhere_are_said_in_words_not_drawn_as_an_empty_chart(app):
    from pathway.web.pages import economic_case

    text = text_of(economic_case.economic_results({"area": "all", **PERIOD}, 0, 0.5, "2012/13", "mid", 0))
    assert re.search(r"Specialist perinatal services: (\d+) of \1 areas already treat at least 0% of live births "
                     r"\(the scenario adds no one there\)", text)
    assert "The return per £1 in each" not in text and "no extra spend, so no return to work out" in text


def test_an_effect_outside_0_to_1_is_refused_in_words(app):
    from pathway.web.pages import economic_case

    text = text_of(economic_case.economic_results({"area": NORTHTOWN, **PERIOD}, 10, 1.5, "2012/13", "mid"))
    assert "effect" in text and "This could not be shown" in text and "Traceback" not in text


# ---- overview: the three largest gaps come from service_gaps and link on --------------------------
def test_overview_lists_the_service_gaps_flags_and_links_to_the_gaps_page_with_filters(app):
    from pathway.web.pages import overview

    text = text_of(overview.layout(**PERIOD))
    # service_gaps against the median of the two areas' shown percentages (contract 7.4): Northtown
    # postnatal universal 50% against 75% (below benchmark) and Southvale antenatal specialist 0%
    # against 25% (no service). Each unmet count (5 and 2.5 people) is small, so hidden. Northtown's
    # infant universal 0% is no longer among them: Southvale's infant reach (5) is hidden, so the
    # benchmark there rests on Northtown alone (0%) and the gap is listed as one every area shares.
    links = re.findall(r"href='([^']+)'", text.split(ids.OVERVIEW_GAPS)[0].rsplit("Ol(", 1)[-1])
    assert links == [
        f"/service-gaps?area={NORTHTOWN}&from=2024-01-01&to=2024-12-31&stage=postnatal&tier=universal",
        f"/service-gaps?area={SOUTHVALE}&from=2024-01-01&to=2024-12-31&stage=antenatal&tier=specialist"]
    assert "reach 50% against a benchmark of 75% (below the benchmark; people unmet: * (hidden" in text
    # No area has any preconception reach: a gap they share, said apart from the three
    assert "No area reaches anyone with universal services in the preconception stage" in text


def test_service_gaps_table_sorts_by_reach_and_shows_only_gaps(app):
    from pathway.web.pages import service_gaps

    frame, _ = service_gaps.gap_rows({"area": ICB, **PERIOD})
    rows = service_gaps.sorted_gap_rows(frame, {}, "reach", "gaps")
    # The flagged cells against a benchmark above 0, lowest reach first (0%, then 50%); Northtown's
    # infant universal 0% is measured against its own 0% (Southvale's 5 is hidden, contract 7.4).
    # Stages read as ref_stages names them.
    assert [(r.area_code, r.stage, r.tier) for r in rows.itertuples()] == [
        (SOUTHVALE, "Pregnancy", "specialist"), (NORTHTOWN, "Postnatal", "universal")]
    assert len(service_gaps.sorted_gap_rows(frame, {}, "area", "all")) == 24  # 2 areas x 4 stages x 3 tiers


# ---- the area report ----------------------------------------------------------------------------------
def test_report_download_needs_an_area_and_says_so(app):
    from pathway.web.components.report_download import CHOOSE_AN_AREA, report_download

    assert report_download({"area": "all"}, "html") == (None, CHOOSE_AN_AREA)


def test_report_download_gives_the_areas_html_report_for_the_period(app):
    from pathway.web.components.report_download import report_download

    payload, message = report_download(filters_from_query(f"?area={NORTHTOWN}&from=2024-01-01&to=2024-12-31"), "html")
    name = f"pathway-report-{NORTHTOWN}-2024-01-01-to-2024-12-31.html"
    assert payload["filename"] == name and message == f"Downloaded {name}."
    html_text = base64.b64decode(payload["content"]).decode("utf-8")
    assert "Northtown" in html_text and "<html" in html_text.lower()


def test_every_page_carries_the_report_buttons(app):
    from pathway.web.pages import coverage, data, trends

    for module in (coverage, data, trends):
        assert ids.REPORT_HTML in text_of(module.layout(**PERIOD))


# ---- page weight -------------------------------------------------------------------------------------
def test_the_vendored_plotly_bundle_matches_plotly_py_and_has_every_trace_the_pages_draw():
    from plotly.offline import get_plotlyjs_version

    from pathway.resources import assets_dir

    bundle = (assets_dir() / "plotly-cartesian.min.js").read_text(encoding="utf-8")
    # Figures are written by plotly.py for its own plotly.js version: a mismatch can draw wrongly.
    assert re.search(r"plotly\.js \(cartesian - minified\) v([\d.]+)", bundle[:300]).group(1) == get_plotlyjs_version()
    # dcc.Graph uses window.Plotly when a script has set it, instead of fetching the 4.8 MB full bundle.
    assert "window.Plotly = Plotly" in bundle[-200:]


def test_the_funnel_is_drawn_with_bars_the_cartesian_bundle_has():
    from pathway.web.components.charts import funnel_steps

    figure = funnel_steps(["Births", "Reached"], [20, 10])
    # 10 of 20 = 50% of the first step.
    assert [t["type"] for t in figure["data"]] == ["bar"] and figure["data"][0]["text"] == ["20 (100%)", "10 (50%)"]


def test_the_funnel_wraps_long_step_names_on_its_axis_only_and_keeps_numbers_one_size():
    from pathway.web.components.charts import funnel_steps

    step = "Seen by the parent-infant team by the first birthday"
    figure = funnel_steps([step, "Reached"], [20, 9])
    trace, axis = figure["data"][0], figure["layout"]["yaxis"]
    # the data keeps the name whole (hover, tests); the axis shows it in lines of up to 18 characters
    assert trace["y"] == [step, "Reached"]
    assert axis["tickvals"] == [step, "Reached"]
    assert axis["ticktext"] == ["Seen by the<br>parent-infant team<br>by the first<br>birthday", "Reached"]
    # 20 is the longest bar: its number inside; 9 is under half of it, so just past its end, unturned
    assert trace["textposition"] == ["inside", "outside"] and trace["textangle"] == 0
    assert trace["text"] == ["20 (100%)", "9 (45%)"]


def test_layouts_and_callback_answers_are_sent_compressed(app):
    client = app.server.test_client()
    response = client.get("/_dash-layout", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers.get("Content-Encoding") == "gzip"


# ---- kept answers: each metric once per request, and a new load seen at once ---------------------------
def _counting_metric_runs(monkeypatch) -> list[tuple]:
    """Every run_metric call from now on, as (metric, parameters)."""
    from pathway import metrics

    runs, real = [], metrics.run_metric

    def counted(warehouse, name, params=None, **kwargs):
        runs.append((name, tuple(sorted((params or {}).items()))))
        return real(warehouse, name, params, **kwargs)

    monkeypatch.setattr(metrics, "run_metric", counted)
    return runs


def test_a_page_runs_each_metric_once_however_many_figures_use_it(app, monkeypatch):
    from pathway.web.pages import coverage

    runs = _counting_metric_runs(monkeypatch)
    with app.server.test_request_context():
        coverage.layout(area=NORTHTOWN, **PERIOD)
    # Coverage for one area: stage reach, mandated contacts and mood screening for the area and for all
    # areas (the benchmark), specialist access for all areas (the specialist card and the funnel
    # plot share it), and for the published-figures card the area's births and the benchmarks
    # (it reuses the area's mandated contacts), perinatal access for the area (beside the
    # specialist access run it shares) and partners seen for all areas: 11 distinct runs for 9 figures.
    assert len(runs) == len(set(runs)) == 11
    # The same view again (a filter changed back) runs nothing: its answers are kept.
    with app.server.test_request_context():
        coverage.layout(area=NORTHTOWN, **PERIOD)
    assert len(runs) == 11


def test_a_load_from_another_process_is_shown_at_the_next_request(tmp_path, monkeypatch):
    from pathway.ingest import load_file
    from pathway.web import warehouse as web_data

    warehouse = build_fixture_warehouse(tmp_path)
    web_data.configure(warehouse=warehouse)
    try:
        runs = _counting_metric_runs(monkeypatch)
        before = web_data.fetch_metric("births", PERIOD).frame
        assert dict(zip(before["area_code"], before["live_births"])) == {NORTHTOWN: 20, SOUTHVALE: 10}
        assert web_data.fetch_metric("births", PERIOD).ok and len(runs) == 1  # kept
        # `pathway load` elsewhere adds an area: the dashboard is not told, but the load log moves on.
        extract = tmp_path / "areas_more.csv"
        extract.write_text("area_code,area_name,icb_code,icb_name\nE06000905,Westmere,QX1,North ICB\n")
        assert load_file(warehouse, extract).outcome == "loaded"
        after = web_data.fetch_metric("births", PERIOD).frame
        # One row per area, an area with no births included (0 reached, not missing).
        assert dict(zip(after["area_code"], after["live_births"])) == {NORTHTOWN: 20, SOUTHVALE: 10,
                                                                       "E06000905": 0}
        assert len(runs) == 2
    finally:
        warehouse.dispose()


def test_coverage_sets_the_local_figure_beside_the_published_england_value(tmp_path):
    # Issue 5: the coverage view shows the local figure beside the England value, naming the
    # published file and period. The MSDS fixture of test_benchmarks publishes England booking
    # by 12 weeks 6 days as 600 + 200 of 1,000 deliveries with a known gestation = 80%.
    from test_benchmarks import msds_file

    from pathway.published import load_benchmark_file
    from pathway.web import warehouse as web_data
    from pathway.web.pages import coverage

    warehouse = build_fixture_warehouse(tmp_path)
    assert load_benchmark_file(warehouse, msds_file(tmp_path)).outcome == "loaded"
    web_data.configure(warehouse=warehouse)
    rows = _card_rows(coverage.layout(area=NORTHTOWN, **PERIOD), "coverage-published")
    (england,) = [r for r in rows if r["figure"] == "Booked by 12 weeks 6 days"]
    assert (england["published"], england["published value"], england["period"]) == ("England", "80.0%", "2022-23")
    assert england["file"] == "hosp-epis-stat-mat-msdscsv-2022-23.csv"
    # Northtown booked all 20 of its pregnancies by 12 weeks 6 days: 100%, above England's
    # interval around 80% (Wilson on 800 of 1,000: 77.4 to 82.4).
    assert (england["this area"], england["compared"]) == ("100%", "higher")
    warehouse.dispose()


def test_coverage_says_how_to_load_published_figures_when_there_are_none(app):
    from pathway.web.pages import coverage

    assert "pathway load --table benchmarks FILE" in text_of(coverage.layout(area=NORTHTOWN, **PERIOD))


# ---- contract v1.1: perinatal access and the risk pathway ------------------------------------
def test_coverage_shows_nhs_englands_access_measure_beside_the_pathway_measure(app):
    from pathway.web.pages import coverage

    with app.server.test_request_context():
        text = text_of(coverage.perinatal_access_card({"area": NORTHTOWN, **PERIOD}, "Northtown"))
    # Northtown's 10 antenatal assessments in January 2024 have no contact mode: counted, and
    # said to be of unknown mode; the births recorded end in March 2024, so the latest whole
    # month is February, whose 12 months hold no births (the rate is not shown)
    assert "In the 12 months to 2024-02, Northtown: 10 women in contact, * per 100 live births" in text
    assert "the pathway measure (specialist access, births from 1 January 2024 to 31 December 2024) is 50%" in text
    assert "Counted by contacts of unknown mode: 10 (comparable with the published figure only when this is 0)" in text
    assert "face to face or by video" in text  # each figure says what it counts


def test_risk_pathway_page_and_trend_picker(app):
    from pathway.web.pages import risk_pathway, trends
    from pathway.web.pages._pickers import metric_choices

    with app.server.test_request_context():
        text = text_of(risk_pathway.layout(area=NORTHTOWN, **PERIOD))
    assert "Where families at risk fall out of the pathway" in text
    assert "risk recorded in pregnancy: 0" in text  # the fixture records no rf_ flags
    assert risk_pathway.risk_factor_words("rf_domestic_abuse") == "Domestic abuse"
    labels = [o["label"] for o in metric_choices("trend")]
    assert "Risk-based pathway (referred antenatal)" in labels


# ---- pickers kept in the URL -------------------------------------------------------------------
def test_the_economic_scenario_is_written_to_the_url_and_read_back_from_it(app):
    from pathway.web.pages import economic_case

    search = economic_case.keep_scenario_in_url(12.5, 20, 0.2, "high", "2023/24", f"?area={NORTHTOWN}")
    assert search == (f"?area={NORTHTOWN}&target=12.5&targeted=20&effect=0.2&need=high&price_year=2023%2F24")
    filters = filters_from_query(search)
    scenario = economic_case.scenario_from_url({"target_access_pct": 10.0, "targeted_target_pct": 15.0,
                                                "effect": 0.1, "need": "mid", "price_year": "2012/13"}, filters)
    assert scenario == {"target_access_pct": 12.5, "targeted_target_pct": 20.0, "effect": 0.2, "need": "high",
                        "price_year": "2023/24"}


def test_a_measure_picker_writes_its_choice_to_the_url_and_the_page_reads_it(app):
    from pathway.web.pages import _pickers, equity

    options = _pickers.metric_choices("equity")
    assert _pickers.chosen_measure({"measure": "mood_screening"}, options) == "mood_screening"
    # A measure this page does not offer (carried from another page's link) falls back to its first.
    assert _pickers.chosen_measure({"measure": "births"}, options) == options[0]["value"]
    assert "Mood screening by deprivation quintile" in text_of(equity.layout(measure="mood_screening", **PERIOD))


# ---- issue 14: the readability rules, one behaviour each -----------------------------------------
def test_all_stages_and_all_tiers_are_choices_that_clear_the_filter():
    from pathway.web.components.filter_bar import ANY, search_for_filters

    ids_ = [{"type": ids.FILTER_TYPE, "name": "stage"}, {"type": ids.FILTER_TYPE, "name": "tier"}]
    # "All stages" has a value a native <select> shows (not ""), and choosing it removes the filter.
    assert ANY == "all"
    assert search_for_filters([ANY, "universal"], ids_, "?stage=postnatal&tier=targeted") == "?tier=universal"
    assert read_filters("?stage=all&tier=all")[0] == {"area": "all"}


def test_a_download_names_its_area_and_period_and_carries_them_in_every_row():
    frame = pd.DataFrame({"stage": ["postnatal"], "pct": [50.0]})
    context = {"area_code": NORTHTOWN, "area_name": "Northtown", "from": "2024-01-01", "to": "2024-12-31",
               "as_at": "2025-12-31"}
    assert exports.download_name("coverage-stage-reach", "csv", context) == \
        f"pathway-coverage-stage-reach-{NORTHTOWN}-2024-01-01-to-2024-12-31.csv"
    rows = exports.with_context(frame, context)
    assert list(rows.columns) == ["filter_area_code", "filter_area_name", "births_from", "births_to", "data_cut_off",
                                  "stage", "pct"]
    assert rows.iloc[0].tolist() == [NORTHTOWN, "Northtown", "2024-01-01", "2024-12-31", "2025-12-31", "postnatal", 50.0]


def test_tables_print_counts_with_thousands_separators():
    from pathway.web.components.tables import display

    assert [display(v) for v in (13490, 1000, 999, 3.456, "13490", "2024-01-01", None)] == \
        ["13,490", "1,000", "999", "3.5", "13,490", "2024-01-01", ""]


def test_the_first_36_series_never_share_both_colour_and_pattern():
    from pathway.web.components.charts import series_style

    pairs = [tuple(series_style(i).values()) for i in range(36)]
    assert len(set(pairs)) == 36


def test_a_hidden_reference_group_gives_ratios_against_everyone_instead():
    from pathway.web.pages.equity import with_ratio_to_everyone

    rows = pd.DataFrame({"group": ["1", "2", "5"], "pct": [4.0, 2.0, float("nan")],
                         "rate_ratio": [float("nan")] * 3, "reference_group": ["5"] * 3})
    out, used = with_ratio_to_everyone(rows, everyone_pct=3.0)
    # 4 / 3 = 1.33 and 2 / 3 = 0.67; the hidden reference group stays hidden.
    assert used and out["ratio_to_everyone"].tolist()[:2] == [1.33, 0.67] and pd.isna(out["ratio_to_everyone"].iloc[2])
    shown = rows.assign(pct=[4.0, 2.0, 2.5], rate_ratio=[1.6, 0.8, 1.0])
    assert with_ratio_to_everyone(shown, everyone_pct=3.0)[1] is False


def test_the_demo_geography_is_one_reproducible_polygon_per_area_inside_the_oval():
    from pathway.demo.areas import county_areas
    from pathway.demo.geography import HEIGHT, WIDTH, demo_boundaries

    pairs = [(a.area_code, a.icb_code) for a in county_areas()]
    first, again = demo_boundaries(pairs), demo_boundaries(list(reversed(pairs)))
    assert first == again and set(first) == {code for code, _ in pairs}
    for rings in first.values():
        (ring,) = rings
        assert ring[0] == ring[-1] and len(ring) >= 4
        assert all((x / (WIDTH / 2)) ** 2 + (y / (HEIGHT / 2)) ** 2 <= 1.005 for x, y in ring)


def test_real_area_codes_find_the_shipped_ons_boundaries_with_no_setting():
    from pathway.web.pages import map as map_page

    # Hartlepool and Middlesbrough (unitary authorities) are in the district and county layers.
    rings, name = map_page.shipped_boundaries(["E06000001", "E06000002", "X60000001"])
    assert set(rings) == {"E06000001", "E06000002"} and name.endswith(".geojson")
    icbs, icb_file = map_page.shipped_boundaries(["E54000050", "E54000008"])
    assert set(icbs) == {"E54000050", "E54000008"} and icb_file == "icb.geojson"
    # England lies between 49.8 and 55.9 degrees north, 6.4 west and 1.8 east.
    points = [p for parts in icbs.values() for ring in parts for p in ring]
    assert all(-6.5 < x < 1.9 and 49.8 < y < 56.0 for x, y in points)


def test_the_map_legend_shows_the_colour_scale_and_marks_all_areas_figure():
    from pathway.web.pages import map as map_page

    values = pd.DataFrame({"area_code": ["A", "B"], "value": [2.0, 6.0], "ci_low": [1.0, 5.0], "ci_high": [3.0, 7.0],
                           "comparison": ["worse", "better"], "benchmark": [4.0, 4.0]})
    square = [[[0, 0], [1, 0], [1, 1], [0, 0]]]
    figure = map_page.choropleth(values, {"A": "Alpha", "B": "Beta"}, {"A": square, "B": square}, "all")
    bar = next(t for t in figure["data"] if t.get("marker", {}).get("showscale"))
    assert bar["marker"]["colorbar"]["tickvals"] == [2.0, 6.0, 4.0]
    assert bar["marker"]["colorbar"]["ticktext"] == ["2%", "6%", "◀ all areas 4%"]
    by_comparison = map_page.choropleth(values, {}, {"A": square, "B": square}, "all", colour_by="comparison")
    fills = [t["fillcolor"] for t in by_comparison["data"] if t.get("fill") == "toself"]
    assert fills == ["#C00000", "#3D9A3F"]  # Fingertips' worse and better


def test_a_map_label_is_black_or_white_for_its_fill_and_has_room_and_a_halo_past_its_area():
    from pathway.web.pages import map as map_page

    values = pd.DataFrame({"area_code": ["A", "B"], "value": [2.0, 6.0], "ci_low": [1.0, 5.0], "ci_high": [3.0, 7.0],
                           "comparison": ["worse", "better"], "benchmark": [4.0, 4.0]})
    square = [[[0, 0], [1, 0], [1, 1], [0, 0]]]
    figure = map_page.choropleth(values, {"A": "Alpha", "B": "Beta"}, {"A": square, "B": square}, "all")
    labels = next(t for t in figure["data"] if t.get("mode") == "text")
    assert labels["text"] == ["Alpha<br>2%", "Beta<br>6%"]
    # the lowest value is the lightest fill (black text), the highest the darkest (white text)
    assert labels["textfont"]["color"] == [map_page.NHS_BLACK, "#ffffff"]
    # a long name on a dark area near the edge was white text on the white page (the demo's Harrowdene)
    assert labels["textfont"]["shadow"] == "auto" and labels["cliponaxis"] is False
    # and the map leaves 8% of its width free either side, so a name centred near the edge is not
    # cut off where the map fills a phone's width: the squares span 0 to 1
    assert figure["layout"]["xaxis"]["range"] == pytest.approx([-0.08, 1.08])


def test_the_spine_chart_centres_the_benchmark_and_puts_worse_on_the_left():
    from pathway.web.pages.compare import _scaled

    # Benchmark 50, areas from 30 to 60: the half-width is the further extreme, 20 points.
    assert _scaled(50, 50, 20, flip=False) == 0.5
    assert _scaled(30, 50, 20, flip=False) == 0.0 and _scaled(60, 50, 20, flip=False) == 0.75
    # Lower is better: the scale turns round, so the worse (higher) value is on the left.
    assert _scaled(60, 50, 20, flip=True) == 0.25


def test_the_area_profile_sets_northtown_against_englands_published_value_when_loaded(tmp_path):
    from test_benchmarks import FINGERTIPS_HEADER, fingertips_row, write

    from pathway.ingest import load_file
    from pathway.web import warehouse as web_data
    from pathway.web.pages import compare

    warehouse = build_fixture_warehouse(tmp_path)
    published = write(tmp_path / "fingertips.csv", FINGERTIPS_HEADER, [fingertips_row(
        90001, "New birth visits (NBVs) completed within 14 days", "E92000001", "England", "England",
        86.4, 86.2, 86.5, 120000, 138889)])
    assert load_file(warehouse, published, table="benchmarks").outcome == "loaded"
    web_data.configure(warehouse=warehouse)
    try:
        rows = compare.profile_rows({"area": NORTHTOWN, **PERIOD}).set_index("key")
        visit = rows.loc["new_birth_visit"]
        # Northtown: 10 of 20 births visited by day 14 = 50% (Wilson 29.9-70.1), below England's 86.4%:
        # worse (higher is better). The range of areas: Northtown 50% to Southvale 100% (10 of 10).
        assert (visit.value, visit.benchmark, visit.benchmark_is) == (50.0, 86.4, "England (published)")
        assert (visit.comparison, visit.lowest, visit.highest) == ("worse", 50.0, 100.0)
        # With no published figure, specialist access is set against all areas pooled: 10 of 30 = 33.3%,
        # shown to whole percent (33) as any percentage of fewer than 4,000 is (contract 7.4).
        access = rows.loc["specialist_access"]
        assert access.benchmark_is == "All areas" and access.benchmark == 33
        assert "England's published figure: 86.4% (2023/24)" in text_of(
            compare.compare_card({"area": NORTHTOWN, **PERIOD}, "new_birth_visit"))
    finally:
        warehouse.dispose()
