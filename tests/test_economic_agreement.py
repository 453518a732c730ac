"""The economic case says the same thing everywhere: `pathway query economic_case`, the dashboard
page and the area report give the same figures for one area of the county demo (issue 10's 'done
when'; the small demo's treated counts are all small, so its scenario is hidden everywhere).

The arithmetic itself is worked by hand in tests/test_metrics_economic.py and on the dashboard
fixture in tests/test_web_callbacks.py; here the three outputs are held against each other.
"""

from __future__ import annotations

import json
from html import unescape

import pytest
from typer.testing import CliRunner

from pathway import economics
from pathway.cli import app as cli
from pathway.db import Warehouse
from pathway.demo import PLANTED_GAPS, build_demo
from pathway.metrics import run_metric
from pathway.report import build_report
from pathway.report.build import ReportContext

AREA = PLANTED_GAPS["no_parent_infant_team"]["area_code"]  # Eastfield


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("economic")
    url = f"duckdb:///{folder / 'demo.duckdb'}"
    warehouse = Warehouse(url)
    warehouse.ensure_schema()
    build_demo(warehouse, scale="county")
    warehouse.dispose()
    return url


@pytest.fixture(scope="module")
def period(demo_url) -> dict:
    warehouse = Warehouse(demo_url)
    try:
        return ReportContext.open(warehouse).params
    finally:
        warehouse.dispose()


def test_query_page_and_report_give_the_same_economic_figures(demo_url, period):
    warehouse = Warehouse(demo_url)
    frame = run_metric(warehouse, "economic_case", {**period, "area": AREA})
    totals = economics.totals(economics.evaluate(frame))
    report = unescape(build_report(warehouse, AREA).decode("utf-8"))
    warehouse.dispose()
    # the figures a commissioner reads, as every output prints them
    public = economics.roi_words(totals["roi_public"])
    society = economics.roi_words(totals["roi_society"])
    assert totals["extra_spend"] > 0 and public.startswith("£")
    shown = [public, society, economics.money_text(totals["net_benefit_public"]),
             economics.money_text(totals["net_benefit"]), economics.money_text(totals["cost_of_illness"])]

    # 1. pathway query: the same rows, to the figure
    result = CliRunner().invoke(cli, ["query", "economic_case", "--param", f"area={AREA}",
                                      "--param", f"from={period['from']}", "--param", f"to={period['to']}",
                                      "--param", f"as_at={period['as_at']}", "--format", "json", "--db", demo_url])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output[result.output.index("["):])
    by_condition = {row["condition"]: row for row in rows}
    for row in frame.itertuples():
        queried = by_condition[row.condition]
        for column in ("cost_of_illness", "public_sector_cost", "extra_spend", "avoided_public_cost", "roi_public",
                       "roi_society"):
            value = getattr(row, column)
            assert (queried[column] is None) if value != value else queried[column] == pytest.approx(value), column

    # 2. the report prints the same totals
    for text in shown:
        assert text in report, text

    # 3. the page prints the same totals
    from pathway.web import warehouse as web_data
    from pathway.web.server import create_app

    page_warehouse = Warehouse(demo_url)
    create_app(warehouse=page_warehouse)
    web_data.configure(warehouse=page_warehouse)
    try:
        from pathway.web.pages import economic_case

        defaults = economic_case.default_scenario()
        page = str(economic_case.economic_results(
            {"area": AREA, "from": period["from"], "to": period["to"]}, defaults["target_access_pct"],
            defaults["effect"], defaults["price_year"], defaults["need"], defaults["targeted_target_pct"]))
    finally:
        web_data.configure()
        page_warehouse.dispose()
    for text in shown:
        assert text in page, text
