"""Contract 7.2: read-only commands open an embedded warehouse read-only, beside a dashboard that
writes to it, and never create one; the default file lives under PATHWAY_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest_fixtures import new_warehouse, write_activity, write_areas, write_cohort
from pathway.ingest import load_files

REPO = Path(__file__).resolve().parent.parent


def _pathway(*args: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess:
    """`pathway ...` in its own process, as people run it."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PATHWAY_DB_URL", "PATHWAY_HOME")}
    environment.update(env, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "pathway.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)


def _loaded(folder: Path) -> str:
    warehouse = new_warehouse(folder)
    load_files(warehouse, [write_areas(folder), write_cohort(folder), write_activity(folder)])
    warehouse.dispose()
    return warehouse.url.render_as_string()


def test_a_missing_warehouse_is_reported_with_its_full_path_and_not_created(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = _pathway("query", "births", cwd=tmp_path, PATHWAY_HOME=str(home))
    expected = home.resolve() / "data" / "pathway.duckdb"
    assert result.returncode == 1
    said = " ".join(result.stderr.split())
    assert f"Warehouse: {expected}" in said
    assert f"there is no warehouse at {expected}: load data first" in said
    assert not (home / "data").exists() and not (tmp_path / "data").exists()
    for command in (["report", "--area", "E06000001", "--out", str(tmp_path / "r.html")],
                    ["reference", "list"]):
        other = _pathway(*command, cwd=tmp_path, PATHWAY_HOME=str(home))
        assert other.returncode == 1 and str(expected) in " ".join(other.stderr.split())
    assert not (home / "data").exists()


def test_the_default_warehouse_is_data_pathway_duckdb_in_the_current_folder(tmp_path):
    result = _pathway("load", str(write_areas(tmp_path)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "pathway.duckdb").exists()
    assert f"Warehouse: {tmp_path.resolve() / 'data' / 'pathway.duckdb'}" in result.stderr


def test_an_empty_warehouse_is_reported_and_exits_1(tmp_path):
    warehouse = new_warehouse(tmp_path)          # the schema, but nothing loaded
    warehouse.dispose()
    path = (tmp_path / "w.duckdb").resolve()
    result = _pathway("query", "births", "--db", warehouse.url.render_as_string())
    assert result.returncode == 1
    assert f"the warehouse {path} is empty: nothing has been loaded into it yet" in \
        " ".join(result.stderr.split())
    listed = _pathway("reference", "list", "--db", warehouse.url.render_as_string())
    assert listed.returncode == 0 and "stages:" in listed.stdout


_DASHBOARD = """
import sys
from pathway.web.server import create_app
app = create_app(sys.argv[1], open_access=True)   # read-write, as `python app.py` runs it
client = app.server.test_client()
print(client.get("/health").status_code, flush=True)
for line in sys.stdin:                          # one request per line, until stdin closes
    print(client.get("/health").status_code, client.get("/data").status_code, flush=True)
"""


def test_query_works_while_the_writing_dashboard_is_serving(tmp_path):
    url = _loaded(tmp_path)
    dashboard = subprocess.Popen([sys.executable, "-c", _DASHBOARD, url], cwd=REPO,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert dashboard.stdout.readline().split() == ["200"]
        result = _pathway("query", "births", "--param", "area=E06000001", "--param", "from=2024-01-01",
                          "--param", "to=2024-12-31", "--format", "csv", "--no-suppress", "--db", url)
        assert result.returncode == 0, result.stderr
        # (--no-suppress says so in a first '#' line, contract 7.4)
        header, row = [line for line in result.stdout.strip().splitlines() if not line.startswith("#")]
        values = dict(zip(header.split(","), row.split(",")))
        assert (values["live_births"], values["pregnancies"]) == ("1", "2")   # P1 born; P1, P2
        dashboard.stdin.write("again\n")
        dashboard.stdin.flush()
        assert dashboard.stdout.readline().split() == ["200", "200"]   # and the dashboard goes on
    finally:
        dashboard.stdin.close()
        dashboard.wait(timeout=60)


_WRITER = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])         # holds the file for writing
connection.execute("SELECT 1")
print("holding", flush=True)
sys.stdin.readline()
"""


def test_a_file_held_by_a_writer_is_reported_in_words(tmp_path):
    url = _loaded(tmp_path)
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path / "w.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "holding"
        result = _pathway("query", "births", "--db", url, PATHWAY_LOCK_WAIT_SECONDS="0.2")
        assert result.returncode == 1
        said = " ".join(result.stderr.split())
        assert (f"the warehouse {(tmp_path / 'w.duckdb').resolve()} is in use by another "
                f"process (process {writer.pid}): a DuckDB file takes one process writing or "
                "several reading, not both") in said
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)


def test_running_out_of_duckdb_memory_says_which_setting_to_raise(tmp_path, monkeypatch):
    """A national journey rebuild after a further 10M-row load needs about 2GB: it used to say
    the database was 'not reachable'. Here a tiny limit and a sort too big for it."""
    from pathway.db import Warehouse, WarehouseError
    from pathway.settings import load_settings

    monkeypatch.setenv("PATHWAY_DUCKDB_MEMORY", "2MB")
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'small.duckdb'}", settings=load_settings())
    with pytest.raises(WarehouseError) as raised:
        with warehouse.begin() as conn:
            conn.execute(sa.text("set threads = 1; set temp_directory = ''"))
            conn.execute(sa.text("create table big as select range as n, repeat('x', 200) as t "
                                 "from range(200000) order by t desc, n desc"))
    said = str(raised.value)
    assert f"the warehouse {(tmp_path / 'small.duckdb').resolve()} needed more memory" in said
    assert "(PATHWAY_DUCKDB_MEMORY, now 2MB): set PATHWAY_DUCKDB_MEMORY higher" in said
    assert "not reachable" not in said
    warehouse.dispose()
