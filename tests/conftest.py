"""Shared test fixtures: a throwaway PostgreSQL server, warehouse URLs for both backends,
headless Chromium for dash[testing] browser tests, and the shared published data folder.

A test that needs a tool the machine lacks (PostgreSQL, Chromium, the shared data) FAILS when the CI
environment variable is set and is skipped, with how to install it, everywhere else.
PATHWAY_TEST_PG_BIN names a PostgreSQL bin folder when it is not under /usr/lib/postgresql
(e.g. Homebrew); PATHWAY_SHARED_DATA names the shared published data folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from metric_fixtures import postgres_database
from pathway.throwaway_postgres import (INSTALL_HINT, PostgresSetupError, ThrowawayPostgres,
                                        find_bin_dir, free_loopback_port)

# pytester runs an inner session with this conftest to prove the missing-tool rule.
pytest_plugins = ["pytester"]

REPO_ROOT = Path(__file__).resolve().parent.parent

POSTGRES_INSTALL_HINT = INSTALL_HINT
CHROMIUM_INSTALL_HINT = "install Chromium: apt-get install -y chromium chromium-driver"

# Fixtures that open a browser; tests using them get the `browser` mark and the tool check.
BROWSER_FIXTURES = {"dash_duo", "dash_br", "dash_duo_mp"}
POSTGRES_FIXTURES = {"postgres_server", "fresh_postgres_url"}

# The machine has no internet: without these Chromium stalls on update, sync and
# safe-browsing lookups before it renders anything.
CHROMIUM_ARGUMENTS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers give /dev/shm 64 MB; Chromium crashes in it
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def missing_tool(message: str) -> None:
    """A missing tool fails the test in CI (it must never pass unnoticed) and skips elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


# ---- markers --------------------------------------------------------------------------
def pytest_collection_modifyitems(config, items):
    """Mark tests by what they need, so `-m "not postgres and not browser"` runs the rest."""
    for item in items:
        needs = set(getattr(item, "fixturenames", ()))
        if needs & POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if needs & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a browser test builds its fixtures: check Chromium, and give its server a free port."""
    if not set(getattr(item, "fixturenames", ())) & BROWSER_FIXTURES:
        return
    if not (_chromium_binary() and shutil.which("chromedriver")):
        missing_tool(f"{item.nodeid} needs Chromium and chromedriver: {CHROMIUM_INSTALL_HINT}")
    # dash's runner counts ports up from 58050 in every process, so two xdist workers (or two
    # engineers' sessions) would collide; start each test's count at a port free right now.
    from dash.testing.application_runners import BaseDashRunner

    BaseDashRunner._next_port = free_loopback_port()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skip of any kind is a failure: CI installs every tool, so nothing may skip."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI is set, so this is a failure: {reason}"


# ---- PostgreSQL -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_server():
    """Base URL (no database) of a PostgreSQL server started for this test session."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        missing_tool(f"PostgreSQL binaries (initdb, pg_ctl) not found: {POSTGRES_INSTALL_HINT}")
    try:
        with ThrowawayPostgres(bin_dir, prefix="pathway-test-pg-") as url:
            yield url
    except PostgresSetupError as error:
        pytest.fail(f"test {error}", pytrace=False)


@pytest.fixture
def fresh_postgres_url(postgres_server):
    """URL of a new, empty database on the test server, dropped after the test."""
    with postgres_database(postgres_server) as url:
        yield url


# ---- warehouse URLs -------------------------------------------------------------------
@pytest.fixture
def duckdb_url(tmp_path) -> str:
    return f"duckdb:///{tmp_path}/warehouse.duckdb"


@pytest.fixture(params=[
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
])
def warehouse_url(request) -> str:
    """A fresh warehouse URL on each backend in turn: a test written once checks parity."""
    if request.param == "duckdb":
        return request.getfixturevalue("duckdb_url")
    return request.getfixturevalue("fresh_postgres_url")


# ---- browser (dash[testing]) ----------------------------------------------------------
def _chromium_binary() -> str | None:
    return os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium")


@pytest.hookimpl(optionalhook=True)
def pytest_setup_options():
    """dash[testing] asks this hook for the webdriver options (it uses the first answer)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = _chromium_binary() or "/usr/bin/chromium"
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    return options


# ---- shared published data ------------------------------------------------------------
def shared_data_folder() -> Path:
    """The shared published data: PATHWAY_SHARED_DATA, else ../shared/data beside the repository."""
    return Path(os.environ.get("PATHWAY_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


def shared_file(relative: str) -> Path:
    """One published file (a path or glob under the shared data folder); missing_tool when absent."""
    folder = shared_data_folder()
    found = sorted(folder.glob(relative)) if folder.is_dir() else []
    if not found:
        missing_tool(f"shared published data {relative!r} not found under {folder} "
                     "(set PATHWAY_SHARED_DATA to its folder)")
    return found[0]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared published data folder; missing, it fails under CI and skips elsewhere."""
    folder = shared_data_folder()
    if not folder.is_dir():
        missing_tool(f"shared published data not found at {folder} "
                     "(set PATHWAY_SHARED_DATA to its folder)")
    return folder
