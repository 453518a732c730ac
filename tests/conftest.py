"""Shared test fixtures: a throwaway PostgreSQL server, warehouse URLs for both backends,
headless Chromium for dash[testing] browser tests, and the shared published data folder.

A test that needs a tool the machine lacks (PostgreSQL, Chromium, the shared data) FAILS when the CI
environment variable is set and is skipped, with how to install it, everywhere else.
PATHWAY_TEST_PG_BIN names a PostgreSQL bin folder when it is not under /usr/lib/postgresql
(e.g. Homebrew); PATHWAY_SHARED_DATA names the shared published data folder.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from glob import glob
from pathlib import Path

import pytest
import sqlalchemy as sa

from pathway.db import Warehouse

# pytester runs an inner session with this conftest to prove the missing-tool rule.
pytest_plugins = ["pytester"]

REPO_ROOT = Path(__file__).resolve().parent.parent

POSTGRES_INSTALL_HINT = ("install PostgreSQL: apt-get install -y postgresql "
                         "(or set PATHWAY_TEST_PG_BIN to the folder holding initdb and pg_ctl)")
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


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
def _postgres_bin_dir() -> Path | None:
    """The folder with initdb and pg_ctl: PATHWAY_TEST_PG_BIN, else the newest Debian install, else PATH."""
    configured = os.environ.get("PATHWAY_TEST_PG_BIN")
    if configured:
        folder = Path(configured)
        return folder if (folder / "initdb").exists() and (folder / "pg_ctl").exists() else None

    def major_version(folder: str) -> int:
        match = re.search(r"/postgresql/(\d+)/bin", folder)
        return int(match.group(1)) if match else 0

    for folder in sorted(glob("/usr/lib/postgresql/*/bin"), key=major_version, reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


class _PostgresCluster:
    """One initdb'd cluster in a temporary folder, run as an unprivileged user when we are root."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="pathway-test-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = 0
        self.run_as: str | None = None
        # PostgreSQL refuses to run as root; Debian's package creates the `postgres` user.
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root needs the `postgres` system user to run the test "
                            f"server: {POSTGRES_INSTALL_HINT}", pytrace=False)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self.run_as = "postgres"

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        # cwd inside our folder: the unprivileged user may not be able to enter the caller's.
        return subprocess.run(argv, cwd=self.folder, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, env=_clean_postgres_env())

    def _check(self, result: subprocess.CompletedProcess, step: str) -> None:
        if result.returncode != 0:
            server_log = self.log.read_text(errors="replace") if self.log.exists() else ""
            pytest.fail(f"test PostgreSQL {step} failed (exit {result.returncode}) in "
                        f"{self.folder}:\n{result.stdout}\n{result.stderr}\n{server_log}",
                        pytrace=False)

    def start(self) -> str:
        self._check(self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                              "-E", "UTF8", "--locale=C", "--no-sync"), "initdb")
        # A port taken between our probe and the server's bind is retried with a new one.
        for attempt in range(3):
            self.port = free_loopback_port()
            # fsync off: the data is thrown away, and tests should not wait on the disk.
            options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log),
                               "-o", options, "-w", "-t", "60", "start")
            if result.returncode == 0:
                return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"
            if attempt == 2:
                self._check(result, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _clean_postgres_env() -> dict[str, str]:
    """The caller's environment without PG* variables that would point pg_ctl elsewhere."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PG")}


@pytest.fixture(scope="session")
def postgres_server():
    """Base URL (no database) of a PostgreSQL server started for this test session."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        missing_tool(f"PostgreSQL binaries (initdb, pg_ctl) not found: {POSTGRES_INSTALL_HINT}")
    cluster = _PostgresCluster(bin_dir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def fresh_postgres_url(postgres_server):
    """URL of a new, empty database on the test server, dropped after the test."""
    # The name is made here from a uuid, never from input, so it is safe as an identifier.
    name = f"test_{uuid.uuid4().hex}"
    admin = Warehouse(f"{postgres_server}/postgres")
    try:
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text(f'CREATE DATABASE "{name}"'))
        yield f"{postgres_server}/{name}"
        with admin.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            # A test's engine may still hold pooled connections; they would block the drop.
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :name AND pid <> pg_backend_pid()"),
                         {"name": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


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
