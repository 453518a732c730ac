"""The area report: its HTML and PDF carry the area's figures, '*' marks, benchmarks and sources;
the summary names a planted gap; the monthly pack fails clearly on an area with no data."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathway import catalogue
from pathway.cli import app
from pathway.db import Warehouse
from pathway.demo import PLANTED_GAPS, build_demo
from pathway.export import frame_for_people
from pathway.metrics import run_metric
from pathway.published import load_benchmark_file
from pathway.report import ReportError, build_report
from pathway.report.charts import Bar, bar_chart

EASTFIELD = PLANTED_GAPS["no_parent_infant_team"]["area_code"]
RIVERHOLME = PLANTED_GAPS["twelve_month_review_lag"]["area_code"]
MSDS_HEADER = "Period,Dimension,Org_Level,Org_Code,Org_Name,Measure,Count_Of,Value"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """The small demo (3 areas) plus a small published England booking file."""
    folder = tmp_path_factory.mktemp("report")
    warehouse = Warehouse(f"duckdb:///{folder / 'w.duckdb'}")
    warehouse.ensure_schema()
    build_demo(warehouse, scale="small")
    booking = "GestAgeFormalAntenatalBookingGroup"
    published = folder / "msds-2022-23.csv"
    # England: 880 of 1,000 booked by 90 days (= 88.0%)
    published.write_text("\n".join([
        MSDS_HEADER,
        f"2022-23,{booking},National,National,ALL SUBMITTERS,0 to 70 days,Deliveries,600",
        f"2022-23,{booking},National,National,ALL SUBMITTERS,71 to 90 days,Deliveries,280",
        f"2022-23,{booking},National,National,ALL SUBMITTERS,91 to 140 days,Deliveries,120",
    ]) + "\n", encoding="utf-8")
    assert load_benchmark_file(warehouse, published).outcome == "loaded"
    warehouse.dispose()
    return folder / "w.duckdb"


@pytest.fixture(scope="module")
def warehouse(demo_db) -> Warehouse:
    return Warehouse(f"duckdb:///{demo_db}")


@pytest.fixture(scope="module")
def eastfield_html(warehouse) -> str:
    return build_report(warehouse, EASTFIELD).decode("utf-8")


def text_of(html_text: str) -> str:
    """The words a reader sees (no style sheet; charts' text kept)."""
    body = re.sub(r"<style>.*?</style>", " ", html_text, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def section(html_text: str, element_id: str) -> str:
    start = html_text.index(f"id='{element_id}'")
    return html_text[start:html_text.index("</section>", start)]


def test_report_names_area_period_cut_off_and_sources(eastfield_html):
    text = text_of(eastfield_html)
    assert "Eastfield (X60000002)" in text
    assert re.search(r"live births from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}", text)
    assert "Data cut-off" in text
    # the extract files from the load log, the published file, and reference sources
    assert "cohort.csv" in text and "msds-2022-23.csv" in text
    assert "Joint Commissioning Panel for Mental Health (2012)" in text  # ref_prevalence source
    assert "Bauer" in text  # ref_costs source


def test_report_is_self_contained(eastfield_html):
    # nothing to fetch when it is opened: no scripts, links, images or frames by address
    assert not re.search(r"<(script|link|img|iframe)\b", eastfield_html)
    assert not re.search(r"\b(src|href)\s*=", eastfield_html)
    assert eastfield_html.count("<svg") >= 4  # charts are inline SVG


def test_report_shows_the_area_figures_as_the_metrics_give_them(warehouse, eastfield_html):
    contacts = run_metric(warehouse, "mandated_contacts", {"area": EASTFIELD})
    shown = frame_for_people(contacts, "mandated_contacts")
    visit = shown[shown["contact_code"] == "new_birth_visit"].iloc[0]
    coverage = text_of(section(eastfield_html, "coverage"))
    # the row the reader sees: label, numerator, denominator and percentage as suppressed output
    assert (f"New birth visit within 14 days {visit['numerator']} {visit['denominator']} "
            f"{visit['pct']}") in coverage


def test_suppressed_counts_show_as_stars(warehouse, eastfield_html):
    reach = frame_for_people(run_metric(warehouse, "stage_reach", {"area": EASTFIELD}), "stage_reach")
    hidden = reach[reach["reached"] == "*"]
    assert len(hidden), "the small demo has hidden reach counts in Eastfield"
    flow = text_of(section(eastfield_html, "flow"))
    first = hidden.iloc[0]
    # the stage in words, as ref_stages names it before its bracket ("Pregnancy", not "antenatal")
    stage = warehouse.query("select label from ref_stages where stage = :stage",
                            {"stage": first["stage"]})["label"].iloc[0].split(" (")[0]
    assert f"{stage} {first['tier']} * {first['cohort']} * * *" in flow


def test_coverage_sets_the_area_beside_the_published_england_value_with_file_and_period(eastfield_html):
    coverage = text_of(section(eastfield_html, "coverage"))
    # 880 / 1,000 = 88.0%; Wilson 95%: centre (0.88 + z²/2000)/(1 + z²/1000) = 0.87855,
    # half-width z·sqrt(0.88·0.12/1000 + z²/4e6)/(1 + z²/1000) = 0.02016, so 85.8 to 89.9
    assert "88.0% (85.8 to 89.9), 2022-23, msds-2022-23.csv" in coverage
    assert "England 2022-23 (msds-2022-23.csv)" in coverage  # the chart's legend


def test_summary_names_the_planted_missing_parent_infant_team(eastfield_html):
    summary = text_of(section(eastfield_html, "summary"))
    assert "Parent-infant relationship team: no activity at all" in summary


def test_summary_names_riverholmes_twelve_month_review_lag(warehouse):
    summary = text_of(section(build_report(warehouse, RIVERHOLME).decode(), "summary"))
    assert "12-month review by 12 months:" in summary
    assert "Maternal mental health service: no activity at all" in summary


def test_summary_and_risk_section_show_the_v11_findings(eastfield_html):
    # the small demo's counts are mostly hidden (1 to 7): the figures are named, shown or '*'
    summary = text_of(section(eastfield_html, "summary"))
    assert "Perinatal access as NHS England counts it (MHS91 shape), 12 months to 2025-03" in summary
    assert "Women with specialist access whose partner was seen" in summary
    # Eastfield refers its families at risk before birth as other areas do (the planted gap is
    # Riverholme's): 22.0% here
    # (one decimal place only over about 4,000 people, contract 7.4: a whole percent here)
    assert re.search(r"Families with a risk recorded referred before birth \d+(\.\d)?% \(95% CI", summary)
    risk = text_of(section(eastfield_html, "risk-pathway"))
    assert "Any risk factor" in risk and "Two access figures, counted differently" in risk


def test_methods_annex_gives_stage_windows_definitions_and_suppression(eastfield_html):
    methods = text_of(section(eastfield_html, "methods"))
    assert "Infant (day 57 to day 365)" in methods  # ref_stages label
    assert catalogue.METRICS["stage_reach"].description in methods
    assert "Wilson score interval" in methods
    assert "counts from 1 to 7 are shown as *" in methods


def test_a_section_whose_metric_is_missing_says_not_available(warehouse, monkeypatch):
    metrics = dict(catalogue.METRICS)
    metrics.pop("economic_case", None)
    monkeypatch.setattr(catalogue, "METRICS", metrics)
    html_text = build_report(warehouse, EASTFIELD).decode()
    assert "economic_case not available" in text_of(section(html_text, "economic-case"))


def test_unknown_area_is_refused_by_name(warehouse):
    with pytest.raises(ReportError, match="area X69999999: not an area or ICB code"):
        build_report(warehouse, "X69999999")


def test_chart_prints_a_star_for_a_suppressed_bar_and_uses_a_pattern():
    svg = bar_chart([Bar("shown", 50.0, 40.0, 60.0, "50.0%", {"England": 45.0}),
                     Bar("hidden", None, shown="*")], title="t")
    assert ">*</text>" in svg and ">50.0%</text>" in svg
    assert 'fill="url(#hatch)"' in svg  # greyscale: a hatch, not a colour, marks the area


def test_pdf_is_a4_with_page_numbers_and_carries_figures_stars_and_sources(warehouse, tmp_path):
    from conftest import CHROMIUM_INSTALL_HINT, missing_tool

    import pypdf  # the PDF text reader, in the test extra
    if shutil.which("chromium") is None:
        missing_tool(f"printing the PDF needs Chromium: {CHROMIUM_INSTALL_HINT}")
    out = tmp_path / "eastfield.pdf"
    out.write_bytes(build_report(warehouse, EASTFIELD, fmt="pdf"))
    reader = pypdf.PdfReader(out)
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = " ".join(page.extract_text() for page in reader.pages)
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Eastfield (X60000002)" in text and "Parent-infant relationship team" in text
    assert " * " in text.replace("\n", " ")
    assert "Joint Commissioning Panel" in text and "msds-2022-23.csv" in text
    # No typographic ligatures: a reader searching or copying the PDF finds the words as written.
    assert "Data cut-off" in text and "Eastfield" in text
    assert not set(text) & set("\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"), "the PDF holds ligature glyphs"


def test_pdf_is_set_in_the_font_the_report_names(warehouse, tmp_path):
    from conftest import CHROMIUM_INSTALL_HINT, missing_tool

    import pypdf
    if shutil.which("chromium") is None:
        missing_tool(f"printing the PDF needs Chromium: {CHROMIUM_INSTALL_HINT}")
    fonts = subprocess.run(["fc-list", ":family=Liberation Sans", "family"], capture_output=True,
                           text=True) if shutil.which("fc-list") else None
    if fonts is None or "Liberation Sans" not in fonts.stdout:
        missing_tool("the report's font is missing: apt-get install -y fonts-liberation2")
    reader = pypdf.PdfReader(io.BytesIO(build_report(warehouse, EASTFIELD, fmt="pdf")))
    embedded = {str(font.get_object()["/BaseFont"]).split("+")[-1]
                for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    # the regular and bold faces at least, and no other family (an italic face may join them)
    assert {"LiberationSans", "LiberationSans-Bold"} <= embedded
    assert {font for font in embedded if not font.startswith("LiberationSans")} == set()


def test_monthly_pack_fails_naming_the_area_with_no_data(demo_db, tmp_path):
    copy = tmp_path / "pack.duckdb"
    shutil.copy(demo_db, copy)
    warehouse = Warehouse(f"duckdb:///{copy}")
    with warehouse.begin() as conn:
        conn.exec_driver_sql("insert into areas (area_code, area_name) values ('X69999999', 'Emptyshire')")
    warehouse.dispose()
    result = CliRunner().invoke(app, ["report", "--all-areas", "--out-dir", str(tmp_path / "pack"),
                                      "--db", f"duckdb:///{copy}"])
    assert result.exit_code == 1
    assert "Emptyshire (X69999999): no live births" in " ".join(result.output.split())
    written = sorted(p.name for p in (tmp_path / "pack").iterdir())
    assert written == ["report_X60000001.html", "report_X60000002.html", "report_X60000003.html"]


def test_cli_writes_one_area_report_and_refuses_a_bad_suffix(demo_db, tmp_path):
    runner = CliRunner()
    out = tmp_path / "riverholme.html"
    ok = runner.invoke(app, ["report", "--area", RIVERHOLME, "--out", str(out), "--db", f"duckdb:///{demo_db}"])
    assert ok.exit_code == 0, ok.output
    assert "Riverholme (X60000003)" in out.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["report", "--area", RIVERHOLME, "--out", str(tmp_path / "r.docx"),
                              "--db", f"duckdb:///{demo_db}"])
    assert bad.exit_code == 2


def test_the_report_prints_services_stages_and_flags_in_words_not_codes(warehouse, eastfield_html):
    """Service, stage, contact and flag codes (health_visiting, antenatal, below_benchmark) are
    printed as their reference labels; before, the tables printed the codes."""
    import re

    services = warehouse.query("select service, label from ref_services")
    for name in ("flow", "service-gaps"):
        text = text_of(section(eastfield_html, name))
        # (reference tables named as sources, ref_stages, are citations, not codes of the data)
        assert not re.findall(r"\b(?!ref_)[a-z]+(?:_[a-z]+)+\b", text), name
    flow = text_of(section(eastfield_html, "flow"))
    assert "Health visiting" in set(services["label"]) and "Health visiting" in flow
    assert "Pregnancy · " in eastfield_html  # the reach chart's bars: stage in words, then tier
    # the mood screening chart's bars too (they printed "Mood screening, antenatal")
    assert "Mood screening, pregnancy" in eastfield_html and "Mood screening, antenatal" not in eastfield_html
