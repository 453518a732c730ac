"""Sign-in, sign-out and each role in headless Chromium, under the real Content Security Policy
(the console must stay clean), and hostile area, ICB, service and file names that must run no
script and inject no element in the dashboard or in the downloaded report. No test sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from hostile_fixtures import ATTRIBUTE_BREAKOUT, HOSTILE_ICB, HOSTILE_NAMES, STYLE_BREAKOUT, build_hostile_warehouse
from test_browser_dashboard import AREA_SELECT, PERIOD_QUERY, WAIT, open_page, wait_until
from test_web_fixtures import NORTHTOWN, SOUTHVALE, build_fixture_warehouse

VIEWER, MANAGER = ("vera", "viewer-password-1"), ("dana", "manager-password-1")
# Runs before any page script (and outside the page's CSP): records alerts instead of showing them.
ALERT_TRAP = "window.__alerts = []; window.alert = window.confirm = window.prompt = m => { window.__alerts.push(String(m)); };"
# Elements a hostile name would add (Dash's own inline scripts sit outside the app's entry point).
INJECTED = "img[src='x'], svg[onload], [onerror], [onload], #react-entry-point script, body > script:not([src]):not([id])"


@pytest.fixture(scope="module")
def accounts_warehouse(tmp_path_factory):
    from pathway import accounts

    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("browser-access"))
    accounts.add_user(warehouse, VIEWER[0], "viewer", VIEWER[1])
    accounts.add_user(warehouse, MANAGER[0], "data_manager", MANAGER[1])
    yield warehouse
    warehouse.dispose()


@pytest.fixture
def served(dash_duo, accounts_warehouse):
    """The dashboard as `pathway serve` runs it: sign-in required."""
    from pathway.web.server import create_app

    # dash[testing] waits for the dashboard itself at start, so it starts open; then sign-in is turned on.
    dash_duo.start_server(create_app(warehouse=accounts_warehouse, open_access=True))
    dash_duo.driver.get("about:blank")  # leave the open page before anything more is fetched
    create_app(warehouse=accounts_warehouse, open_access=False)
    dash_duo.driver.delete_all_cookies()
    dash_duo.get_logs()  # start with an empty console log
    yield dash_duo
    from pathway.answers import BACKGROUND

    assert BACKGROUND.wait(timeout=300), "the upload's precompute did not finish in 300 s"


def sign_in(duo, who: tuple[str, str], path: str = "/") -> None:
    duo.driver.get(duo.server_url + path)
    duo.wait_for_text_to_equal("h1", "Sign in", timeout=WAIT)
    duo.driver.find_element(By.ID, "user_name").send_keys(who[0])
    duo.driver.find_element(By.ID, "password").send_keys(who[1] + Keys.ENTER)


def nav_links(duo) -> list[str]:
    return [link.text for link in duo.driver.find_elements(By.CSS_SELECTOR, "#site-navigation a")]


def test_sign_in_returns_to_the_page_asked_for_and_sign_out_ends_it(served):
    sign_in(served, VIEWER, f"/coverage?area={NORTHTOWN}&{PERIOD_QUERY}")
    served.wait_for_text_to_equal("h1", "Coverage", timeout=WAIT)
    served.wait_for_contains_text("#coverage-stage-reach-description", "in Northtown", timeout=WAIT)
    served.wait_for_contains_text("#signed-in-as", "Signed in as vera (viewer)", timeout=WAIT)
    served.driver.find_element(By.ID, "sign-out").send_keys(Keys.ENTER)
    served.wait_for_text_to_equal("h1", "Sign in", timeout=WAIT)
    served.driver.get(served.server_url + "/coverage")
    served.wait_for_text_to_equal("h1", "Sign in", timeout=WAIT)
    assert served.get_logs() == []


def test_a_wrong_password_is_said_in_words(served):
    sign_in(served, (VIEWER[0], "not-the-password"))
    served.wait_for_contains_text("#sign-in-error", "The user name or password is not right.", timeout=WAIT)
    # The browser logs the 401 answer itself; nothing else may appear.
    assert all("401" in entry["message"] for entry in served.get_logs())


def test_a_viewer_has_no_data_page(served):
    sign_in(served, VIEWER)
    served.wait_for_text_to_equal("h1", "Overview", timeout=WAIT)
    wait_until(served, lambda d: "Coverage" in nav_links(served), "the navigation did not render")
    assert "Data" not in nav_links(served)
    open_page(served, "/data", "Data")
    served.wait_for_contains_text(".pathway-page-body", "Your account is a viewer", timeout=WAIT)
    assert not served.driver.find_elements(By.ID, "data-upload")
    assert served.get_logs() == []


def test_a_data_manager_loads_files_and_reads_the_audit_log(served, tmp_path):
    sign_in(served, MANAGER)
    served.wait_for_text_to_equal("h1", "Overview", timeout=WAIT)
    wait_until(served, lambda d: "Data" in nav_links(served), "no Data page for a data manager")
    open_page(served, "/data", "Data")
    served.wait_for_contains_text("#data-audit-log", "dana", timeout=WAIT)
    extract = tmp_path / "areas_from_browser.csv"
    extract.write_text("area_code,area_name\nE06000905,Eastbrook\n")
    served.driver.find_element(By.CSS_SELECTOR, "#data-upload input[type=file]").send_keys(str(extract))
    served.wait_for_contains_text("#data-upload-result", "areas_from_browser.csv: loaded into areas", timeout=WAIT)
    assert served.get_logs() == []


# ---- hostile names -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory):
    warehouse = build_hostile_warehouse(tmp_path_factory.mktemp("browser-hostile"))
    yield warehouse
    warehouse.dispose()


@pytest.fixture
def hostile(dash_duo, hostile_warehouse):
    from pathway.web.server import create_app

    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ALERT_TRAP})
    dash_duo.start_server(create_app(warehouse=hostile_warehouse, open_access=True))
    return dash_duo


def assert_nothing_ran(duo) -> None:
    assert duo.driver.execute_script("return window.__alerts") == []
    assert [e.get_attribute("outerHTML")[:200] for e in duo.driver.find_elements(By.CSS_SELECTOR, INJECTED)] == []


@pytest.mark.parametrize("path, heading", [("/", "Overview"), ("/coverage", "Coverage"), ("/equity", "Equity"),
                                           ("/service-gaps", "Service gaps"), ("/map", "Map"),
                                           ("/pathway-flow", "Pathway flow"), ("/risk-pathway", "Risk pathway")])
def test_hostile_names_show_as_text_and_run_nothing_in_the_dashboard(hostile, path, heading):
    open_page(hostile, f"{path}?{PERIOD_QUERY}", heading)
    wait_until(hostile, lambda d: d.find_element(By.CSS_SELECTOR, ".pathway-page-body").text.strip(),
               f"{path} has an empty body")
    options = [o.text for o in Select(hostile.driver.find_element(By.XPATH, AREA_SELECT)).options]
    assert any(HOSTILE_NAMES[NORTHTOWN] in o for o in options)
    assert any(HOSTILE_NAMES[SOUTHVALE] in o for o in options) and any(HOSTILE_ICB in o for o in options)
    Select(hostile.driver.find_element(By.XPATH, AREA_SELECT)).select_by_value(SOUTHVALE)
    wait_until(hostile, lambda d: f"area={SOUTHVALE}" in d.current_url, "the area filter did not apply")
    wait_until(hostile, lambda d: d.find_element(By.CSS_SELECTOR, ".pathway-page-body").text.strip(),
               f"{path} has an empty body")
    assert_nothing_ran(hostile)
    assert hostile.get_logs() == []


def test_the_downloaded_report_with_hostile_names_runs_nothing_in_chromium(hostile):
    hostile.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                   {"behavior": "allow", "downloadPath": hostile.download_path})
    open_page(hostile, f"/coverage?area={NORTHTOWN}&{PERIOD_QUERY}", "Coverage")
    hostile.driver.find_element(By.ID, "report-download-html").send_keys(Keys.ENTER)
    folder = Path(hostile.download_path)  # named for the area and the births period it covers

    def downloaded() -> Path | None:
        found = [f for f in folder.glob(f"pathway-report-{NORTHTOWN}-*.html") if f.stat().st_size > 0]
        return found[0] if found else None

    wait_until(hostile, lambda d: downloaded() is not None, "the report was not downloaded")
    report = downloaded()
    hostile.driver.get(report.as_uri())
    hostile.wait_for_contains_text("h1", "Perinatal and infant mental health pathway", timeout=WAIT)
    assert f"{HOSTILE_NAMES[NORTHTOWN]} ({NORTHTOWN})" in hostile.driver.find_element(By.TAG_NAME, "header").text
    assert_nothing_ran(hostile)
    assert STYLE_BREAKOUT not in report.read_text() and ATTRIBUTE_BREAKOUT not in report.read_text()


def test_a_page_whose_session_ends_goes_back_to_sign_in_at_its_next_callback(served, accounts_warehouse):
    from pathway import accounts
    from pathway.web import access

    accounts.add_user(accounts_warehouse, "short", "viewer", "short-lived-password")
    sign_in(served, ("short", "short-lived-password"), f"/coverage?{PERIOD_QUERY}")
    served.wait_for_text_to_equal("h1", "Coverage", timeout=WAIT)
    served.wait_for_contains_text("#coverage-stage-reach-description", "in all areas", timeout=WAIT)
    accounts.remove_user(accounts_warehouse, "short")
    access.forget_accounts()
    Select(served.driver.find_element(By.XPATH, AREA_SELECT)).select_by_value(NORTHTOWN)
    served.wait_for_text_to_equal("h1", "Sign in", timeout=WAIT)
    # Only the refused callback is in the console: its 401 and, when the page is slow to leave
    # (a busy machine), dash's renderer reporting that callback's failure ("dash_renderer ...
    # Object"); no other error.
    logs = served.get_logs()
    assert all("401" in entry["message"] or "dash_renderer" in entry["message"] for entry in logs), logs
