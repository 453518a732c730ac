"""The dashboard in real headless Chromium (dash[testing]): pages load cleanly, filters live in the
URL, downloads carry suppressed figures, uploads reach the load log, the map draws, and axe-core
finds no serious or critical accessibility violations. Tests wait for text; none sleeps.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import shared_file
from test_web_fixtures import NORTHTOWN, PERIOD, SOUTHVALE, build_fixture_warehouse

PAGES = {"/compare": "Compare areas", "/": "Overview", "/coverage": "Coverage", "/pathway-flow": "Pathway flow", "/outcomes": "Outcomes",
         "/equity": "Equity", "/service-gaps": "Service gaps", "/risk-pathway": "Risk pathway",
         "/trends": "Trends", "/map": "Map",
         "/economic-case": "Economic case", "/data": "Data"}
PERIOD_QUERY = f"from={PERIOD['from']}&to={PERIOD['to']}"
AREA_SELECT = "//select[@id='{\"name\":\"area\",\"type\":\"filter\"}']"
WAIT = 30  # seconds: an upper bound on waiting for text, never a sleep


@pytest.fixture(scope="module")
def fixture_warehouse(tmp_path_factory):
    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("browser"))
    yield warehouse
    warehouse.dispose()


@pytest.fixture
def dashboard(dash_duo, fixture_warehouse):
    from pathway.web.server import create_app

    app = create_app(warehouse=fixture_warehouse, open_access=True)
    dash_duo.start_server(app)
    yield dash_duo
    _let_an_uploads_precompute_finish()


def _let_an_uploads_precompute_finish() -> None:
    """An upload starts a precompute thread; dash's runner kills every thread it did not start
    when the test ends, so let it finish first rather than die inside a write."""
    from pathway.answers import BACKGROUND

    assert BACKGROUND.wait(timeout=300), "the upload's precompute did not finish in 300 s"


def open_page(duo, path: str, heading: str) -> None:
    duo.driver.get(duo.server_url + path)
    duo.wait_for_text_to_equal("h1", heading, timeout=WAIT)


def wait_until(duo, condition, message: str):
    # A page re-rendered from the URL replaces its elements: a stale one is looked up again.
    return WebDriverWait(duo.driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda driver: condition(driver), message)


def selected_area(driver) -> str:
    return Select(driver.find_element(By.XPATH, AREA_SELECT)).first_selected_option.get_attribute("value")


def test_every_page_loads_with_no_console_errors(dashboard):
    for path, heading in PAGES.items():
        open_page(dashboard, f"{path}?{PERIOD_QUERY}", heading)
        # Each page shows its figures or says in words why not: never an empty page body.
        wait_until(dashboard, lambda d: d.find_element(By.CSS_SELECTOR, ".pathway-page-body").text.strip(),
                   f"{path} has an empty body")
    assert dashboard.get_logs() == []


def test_changing_the_area_changes_figures_and_url_and_back_restores_them(dashboard):
    open_page(dashboard, f"/coverage?{PERIOD_QUERY}", "Coverage")
    dashboard.wait_for_contains_text("#coverage-stage-reach-description", "in all areas", timeout=WAIT)
    Select(dashboard.driver.find_element(By.XPATH, AREA_SELECT)).select_by_value(SOUTHVALE)
    dashboard.wait_for_contains_text("#coverage-stage-reach-description", "in Southvale", timeout=WAIT)
    assert f"area={SOUTHVALE}" in dashboard.driver.current_url
    dashboard.driver.back()
    dashboard.wait_for_contains_text("#coverage-stage-reach-description", "in all areas", timeout=WAIT)
    assert "area=" not in dashboard.driver.current_url
    dashboard.driver.forward()
    dashboard.wait_for_contains_text("#coverage-stage-reach-description", "in Southvale", timeout=WAIT)
    assert dashboard.get_logs() == []


def test_a_copied_link_opens_the_same_view(dashboard):
    open_page(dashboard, f"/coverage?area={NORTHTOWN}&stage=postnatal&{PERIOD_QUERY}", "Coverage")
    # Northtown's postnatal universal reach: 10 of 20 = 50% (see test_web_fixtures).
    dashboard.wait_for_contains_text("#coverage-stage-reach-description", "Postnatal, universal 50%", timeout=WAIT)
    wait_until(dashboard, lambda d: selected_area(d) == NORTHTOWN, "the area filter is not Northtown")
    wait_until(dashboard, lambda d: d.find_element(By.CSS_SELECTOR, "input[type=date]").get_attribute("value")
               == PERIOD["from"], "the period is not restored")
    assert dashboard.get_logs() == []


def _download(duo, card: str, kind: str, area: str = "all") -> Path:
    button = duo.driver.find_element(By.XPATH, f"//button[@id='{{\"card\":\"{card}\",\"type\":\"figure-card-{kind}\"}}']")
    # By keyboard, as a keyboard user would (and immune to overlapping elements at a click point).
    button.send_keys(Keys.ENTER)
    folder = Path(duo.download_path)
    # The file says what it covers: the figure, the area and the births period.
    name = f"pathway-{card}-{area}-{PERIOD['from']}-to-{PERIOD['to']}.{kind}"
    wait_until(duo, lambda d: (folder / name).exists() and (folder / name).stat().st_size > 0,
               f"{name} was not downloaded")
    return folder / name


def test_csv_and_xlsx_downloads_contain_the_suppressed_figures(dashboard):
    import openpyxl

    dashboard.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                     {"behavior": "allow", "downloadPath": dashboard.download_path})
    open_page(dashboard, f"/coverage?area={SOUTHVALE}&{PERIOD_QUERY}", "Coverage")
    dashboard.wait_for_contains_text("#coverage-stage-reach-description", "in Southvale", timeout=WAIT)
    rows = _download(dashboard, "coverage-stage-reach", "csv", SOUTHVALE).read_text(encoding="utf-8-sig").splitlines()
    # Every row starts with what it covers: the area chosen, the births period and the data cut-off.
    assert rows[0].startswith("filter_area_code,filter_area_name,births_from,births_to,data_cut_off,area_code,")
    # Southvale's infant universal reach is 5 people: suppressed, with its percentage.
    context = f"{SOUTHVALE},Southvale,{PERIOD['from']},{PERIOD['to']},"
    infant = next(line for line in rows if line.startswith(context) and f",{SOUTHVALE},infant,universal," in line)
    assert infant.split(",")[8:11] == ["*", "10", "*"]
    book = openpyxl.load_workbook(_download(dashboard, "coverage-stage-reach", "xlsx", SOUTHVALE))
    cells = [[c.value for c in row] for row in book.active.iter_rows(min_row=2)]
    assert [SOUTHVALE, "Southvale", PERIOD["from"], PERIOD["to"]] == cells[0][:4]
    assert [SOUTHVALE, "infant", "universal", "*", 10, "*"] in [row[5:11] for row in cells]
    assert dashboard.get_logs() == []


def test_an_uploaded_extract_appears_in_the_load_log(dashboard, tmp_path):
    extract = tmp_path / "areas_from_browser.csv"
    extract.write_text("area_code,area_name\nE06000904,Westbrook\n")
    open_page(dashboard, "/data", "Data")
    dashboard.driver.find_element(By.CSS_SELECTOR, "#data-upload input[type=file]").send_keys(str(extract))
    dashboard.wait_for_contains_text("#data-upload-result", "areas_from_browser.csv: loaded into areas", timeout=WAIT)
    dashboard.wait_for_contains_text("#data-load-log", "areas_from_browser.csv", timeout=WAIT)
    assert dashboard.get_logs() == []


def test_the_map_draws_tiles_without_a_boundary_file(dashboard):
    open_page(dashboard, f"/map?{PERIOD_QUERY}", "Map")
    dashboard.wait_for_contains_text("#map-card", "drawn as tiles", timeout=WAIT)
    dashboard.wait_for_element("#map-card .main-svg", timeout=WAIT)
    # Northtown 50%, Southvale 0% (specialist access, see test_web_fixtures), in the text alternative.
    dashboard.wait_for_contains_text("#map-description", "Northtown 50%", timeout=WAIT)
    assert dashboard.get_logs() == []


def test_clicking_an_area_on_the_map_sets_the_area_filter_and_the_url(dashboard):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(dashboard, f"/map?{PERIOD_QUERY}", "Map")
    dashboard.wait_for_contains_text("#map-description", "Northtown 50%", timeout=WAIT)
    # Tiles are ordered by ICB then name: the first square is Northtown.
    tile = dashboard.wait_for_element("#map-card .scatterlayer .point", timeout=WAIT)
    ActionChains(dashboard.driver).move_to_element(tile).click().perform()
    wait_until(dashboard, lambda d: f"area={NORTHTOWN}" in d.current_url, "the click did not reach the URL")
    wait_until(dashboard, lambda d: selected_area(d) == NORTHTOWN, "the area filter did not follow the click")
    assert PERIOD_QUERY in dashboard.driver.current_url
    assert dashboard.get_logs() == []


def test_the_report_button_downloads_the_areas_report(dashboard):
    dashboard.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                     {"behavior": "allow", "downloadPath": dashboard.download_path})
    open_page(dashboard, f"/coverage?area={NORTHTOWN}&{PERIOD_QUERY}", "Coverage")
    dashboard.wait_for_contains_text("#coverage-stage-reach-description", "in Northtown", timeout=WAIT)
    dashboard.driver.find_element(By.ID, "report-download-html").send_keys(Keys.ENTER)
    report = Path(dashboard.download_path) / f"pathway-report-{NORTHTOWN}-{PERIOD['from']}-to-{PERIOD['to']}.html"
    dashboard.wait_for_contains_text("#report-download-message", f"Downloaded {report.name}", timeout=WAIT)
    wait_until(dashboard, lambda d: report.exists() and report.stat().st_size > 0, f"{report.name} was not downloaded")
    assert "Northtown" in report.read_text(encoding="utf-8")
    assert dashboard.get_logs() == []


def test_the_map_draws_ons_boundaries_filtered_to_england(dash_duo, tmp_path):
    from pathway.web.server import create_app

    boundaries = shared_file("boundaries-england/Counties_and_Unitary_Authorities*.geojson")
    # Hartlepool and Middlesbrough: real codes in the ONS file, which also holds Welsh and Scottish areas.
    warehouse = build_fixture_warehouse(tmp_path, codes=("E06000001", "E06000002"), boundaries=boundaries)
    try:
        dash_duo.start_server(create_app(warehouse=warehouse, open_access=True))
        open_page(dash_duo, f"/map?{PERIOD_QUERY}", "Map")
        dash_duo.wait_for_contains_text("#map-card", f"Boundaries from {boundaries.name}", timeout=WAIT)
        # One filled shape per area, nothing from Wales or Scotland (the colour scale and labels have no code).
        traces = dash_duo.driver.execute_script(
            "const g = document.querySelector('#map-card .js-plotly-plot');"
            "return g.data.filter(t => t.customdata).map(t => t.customdata[0]);")
        assert set(traces) == {"E06000001", "E06000002"}
        assert dash_duo.get_logs() == []
    finally:
        warehouse.dispose()


# ---- accessibility -----------------------------------------------------------------------
# axe-core is vendored (tests/vendor/axe-core, MPL-2.0), so the scan needs no npm at test time.
AXE_CORE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_CORE_VERSION = "4.14.1"
# The Subresource Integrity hash axe-core publishes for this version (its sri-history.json).
AXE_CORE_SHA256 = "KTSJmUUM3yhJqOcLeRL8LahahJ2jnA0NU5T1HUqe2Vw="


@pytest.fixture(scope="session")
def axe_script() -> str:
    """axe-core's axe.min.js, the vendored copy checked against its published hash."""
    script = AXE_CORE.read_bytes()
    assert base64.b64encode(hashlib.sha256(script).digest()).decode() == AXE_CORE_SHA256, (
        f"{AXE_CORE} is not axe-core {AXE_CORE_VERSION} as published")
    return script.decode("utf-8")


def test_the_vendored_axe_core_is_the_version_noted_beside_it():
    assert AXE_CORE.read_text(encoding="utf-8").startswith(f"/*! axe v{AXE_CORE_VERSION}")
    notes = (AXE_CORE.parent / "README.md").read_text(encoding="utf-8")
    assert f"axe-core {AXE_CORE_VERSION}" in notes and AXE_CORE_SHA256 in notes
    assert "Mozilla Public License" in (AXE_CORE.parent / "LICENSE").read_text(encoding="utf-8")


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
  .then(r => done(r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
      .map(v => ({rule: v.id, impact: v.impact, help: v.help,
                  where: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
  .catch(e => done([{rule: 'axe failed', help: String(e)}]));
"""


def test_no_page_has_serious_or_critical_accessibility_violations(dashboard, axe_script):
    dashboard.driver.set_script_timeout(120)
    found = {}
    for path, heading in PAGES.items():
        open_page(dashboard, f"{path}?area={NORTHTOWN}&{PERIOD_QUERY}", heading)
        wait_until(dashboard, lambda d: d.find_element(By.CSS_SELECTOR, ".pathway-page-body").text.strip(),
                   f"{path} has an empty body")
        dashboard.driver.execute_script(axe_script)
        violations = dashboard.driver.execute_async_script(AXE_RUN)
        if violations:
            found[path] = violations
    assert found == {}, "\n".join(f"{p}: {v}" for p, vs in found.items() for v in vs)
