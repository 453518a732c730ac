"""`pathway serve` and the first start: the demo is announced once, and gunicorn stops cleanly.

The stop test runs the real command in a subprocess (gunicorn forks its workers), as a user
would, and reads what it printed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

from conftest import free_loopback_port
from test_web_fixtures import build_fixture_warehouse

from pathway.web.server import prepare_database

WAIT_SECONDS = 120  # an upper bound on waiting for the server, never a sleep of a fixed length


def test_the_first_start_says_once_that_it_builds_the_demo(tmp_path, capfd):
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    assert prepare_database(url, scale="small", seed=7) is True
    captured = capfd.readouterr()
    said = (captured.out + captured.err).lower()
    assert said.count("building the small demo data set (seed 7)") == 1
    assert prepare_database(url, scale="small", seed=7) is False   # built: not again


def test_a_start_after_an_upgrade_rebuilds_a_journey_built_by_older_sql(tmp_path, monkeypatch, capfd):
    """Another version's journey SQL (here: this one's with a line added) built the tables: the
    start rebuilds them before the read-only workers open the file, and a second start does not."""
    from pathway import journey

    warehouse = build_fixture_warehouse(tmp_path)
    url = str(warehouse.url)
    warehouse.dispose()
    assert prepare_database(url) is False
    capfd.readouterr()
    shipped = journey.named_sql

    def next_version(name, *args, **kw):
        sql = shipped(name, *args, **kw)
        return sql + "\n-- the next version" if name == "_journey.sql" else sql
    monkeypatch.setattr(journey, "named_sql", next_version)
    assert prepare_database(url) is False
    assert "Rebuilding the journey tables" in capfd.readouterr().out
    assert prepare_database(url) is False
    assert "Rebuilding the journey tables" not in capfd.readouterr().out


def wait_for_health(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[0]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)   # polling for the server to come up, not timing it
    raise AssertionError(f"pathway serve did not answer /health within {WAIT_SECONDS} s")


def test_sigterm_stops_serve_and_its_workers_without_an_abort(tmp_path):
    warehouse = build_fixture_warehouse(tmp_path)
    url = str(warehouse.url)
    warehouse.dispose()
    port = free_loopback_port()
    server = subprocess.Popen([sys.executable, "-m", "pathway.cli", "serve", "--port", str(port),
                               "--workers", "2", "--db", url],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_health(port, server)
        # every worker answers at least once with its own read-only warehouse open
        for _ in range(4):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as answer:
                assert answer.status == 200
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=WAIT_SECONDS)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, output
    for sign_of_a_crash in ("SIGABRT", "SIGSEGV", "terminate called", "Traceback"):
        assert sign_of_a_crash not in output, output
    assert output.count("Worker exiting") == 2 and "Shutting down: Master" in output
