"""Loading semantics (contract section 3): keyed upserts, orphans that wait, the NHS-number
guard, one transaction per file (even when killed) and a load-log row for every load."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from ingest_fixtures import (ACTIVITY_ROWS, COHORT_ROWS, count, loaded_warehouse,
                             new_warehouse, rows, write_activity, write_areas, write_cohort,
                             write_measures)
from pathway.ingest import load_file, load_files

REPO = Path(__file__).resolve().parent.parent


def test_reload_is_idempotent(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    path = write_activity(tmp_path)
    first, again = load_file(warehouse, path), load_file(warehouse, path)
    assert (first.rows_loaded, first.rows_unchanged) == (4, 0)
    assert (again.rows_loaded, again.rows_replaced, again.rows_unchanged) == (0, 0, 4)
    assert count(warehouse, "activity") == 4
    cohort_again = load_file(warehouse, tmp_path / "cohort.csv")
    assert (cohort_again.rows_loaded, cohort_again.rows_replaced, cohort_again.rows_unchanged) == (0, 0, 3)
    assert count(warehouse, "cohort") == 3 and count(warehouse, "cohort_risk_factors") == 4


def test_changed_row_replaces_and_is_counted(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    load_file(warehouse, write_activity(tmp_path))
    changed = [r[:] for r in ACTIVITY_ROWS]
    changed[2][6] = "attended"                      # A3 was dna
    changed.append(["A5", "P3", "gp", "contact", "2024-10-02", "", "", "", "", ""])
    summary = load_file(warehouse, write_activity(tmp_path, "activity_v2.csv", changed))
    assert (summary.rows_loaded, summary.rows_replaced, summary.rows_unchanged) == (1, 1, 3)
    assert rows(warehouse, "SELECT attendance FROM activity WHERE activity_id = 'A3'") == [("attended",)]
    assert count(warehouse, "activity") == 5
    assert rows(warehouse, "SELECT rows_loaded, rows_replaced, rows_unchanged FROM load_log "
                           "WHERE load_id = :i", i=summary.load_id) == [(1, 1, 3)]


def test_changed_risk_factors_replace_the_pregnancy(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    changed = [r[:] for r in COHORT_ROWS]
    changed[0][10], changed[0][11] = "", "yes"   # P1: domestic abuse now blank, previous loss yes
    summary = load_file(warehouse, write_cohort(tmp_path, "cohort_v2.csv", changed))
    assert (summary.rows_loaded, summary.rows_replaced, summary.rows_unchanged) == (0, 1, 2)
    assert rows(warehouse, "SELECT risk_factor, present FROM cohort_risk_factors "
                           "WHERE pregnancy_id = 'P1'") == [("rf_previous_loss", True)]
    assert count(warehouse, "cohort_risk_factors") == 3
    # replaced, not lost: a pregnancy changed in its flags alone is written again whole
    assert count(warehouse, "cohort") == 3
    assert rows(warehouse, "SELECT area_code FROM cohort WHERE pregnancy_id = 'P1'") == \
        [(COHORT_ROWS[0][2],)]


def test_orphan_waits_and_loads_when_cohort_arrives(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    orphans = [r[:] for r in ACTIVITY_ROWS] + [
        ["A8", "P8", "gp", "contact", "2024-05-01", "", "", "", "", ""]]
    summary = load_file(warehouse, write_activity(tmp_path, rows=orphans))
    # the orphan is not a reject: 0 rejected, so the 5% rule is not broken by 1 of 5 rows
    assert (summary.outcome, summary.rows_loaded, summary.rows_waiting, summary.rows_rejected) == \
        ("loaded", 4, 1, 0)
    assert rows(warehouse, "SELECT activity_id, line_number, file_name FROM waiting_activity") == [
        ("A8", 6, "activity.csv")]
    assert rows(warehouse, "SELECT line_number, column_name, status FROM rejects") == [
        (6, "pregnancy_id", "waiting")]
    waiting_measure = load_file(warehouse, write_measures(
        tmp_path, rows=[["S8", "P8", "EPDS", "4", "2024-05-01", "screen", ""]]))
    assert waiting_measure.rows_waiting == 1

    cohort = load_file(warehouse, write_cohort(tmp_path, "cohort_p8.csv", [
        ["P8", "M8", "E06000002", "", "2024-12-01", "", "", "", "", "", "", ""]]))
    assert (cohort.rows_loaded, cohort.rows_released) == (1, 2)   # A8 and S8
    assert count(warehouse, "activity") == 5 and count(warehouse, "measures") == 1
    assert count(warehouse, "waiting_activity") == 0 and count(warehouse, "waiting_measures") == 0
    assert rows(warehouse, "SELECT DISTINCT status FROM rejects") == [("released",)]
    assert rows(warehouse, "SELECT rows_released FROM load_log WHERE load_id = :i",
                i=cohort.load_id) == [(2,)]


def test_reloaded_orphan_still_waits_once(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    path = write_activity(tmp_path, rows=[["A8", "P8", "gp", "contact", "2024-05-01"] + [""] * 5])
    load_file(warehouse, path)
    load_file(warehouse, path)
    assert count(warehouse, "waiting_activity") == 1
    assert rows(warehouse, "SELECT count(*) FROM rejects WHERE status = 'waiting'") == [(1,)]


def _with_check_digit(first_nine: str) -> str:
    """Modulus 11: weights 10..2, check = 11 - (sum mod 11), 11 -> 0."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1)))
    check = 11 - total % 11
    assert check != 10
    return first_nine + str(0 if check == 11 else check)


def test_nhs_number_refuses_file(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    # 401023213: 4*10+0*9+1*8+0*7+2*6+3*5+2*4+1*3+3*2 = 92; 92 mod 11 = 4; 11-4 = 7
    nhs_number = _with_check_digit("401023213")
    assert nhs_number == "4010232137"
    cohort = [r[:] for r in COHORT_ROWS]
    cohort[0][0] = "P7"
    cohort[1][0] = "4010232138"        # 10 digits, wrong check digit: a pseudonym may look so
    cohort[2][0], cohort[2][1] = "P9", nhs_number
    summary = load_file(warehouse, write_cohort(tmp_path, "cohort_nhs.csv", cohort))
    assert summary.outcome == "refused"
    assert "cohort_nhs.csv line 4, column person_id" in summary.message
    assert "extracts must be pseudonymised" in summary.message
    assert nhs_number not in summary.message and "'401*******'" in summary.message
    assert count(warehouse, "cohort") == 3 and count(warehouse, "rejects") == 0
    logged = rows(warehouse, "SELECT outcome, message, rows_read FROM load_log WHERE load_id = :i",
                  i=summary.load_id)
    assert logged[0][0] == "refused" and nhs_number not in logged[0][1]
    assert logged[0][2] == len(cohort)  # the refused file's rows are still counted (was 0)


def test_load_log_records_every_load(tmp_path):
    warehouse = new_warehouse(tmp_path)
    areas = write_areas(tmp_path)
    (tmp_path / "cohort_bad.csv").write_text("pregnancy_id\nP1\n")
    load_file(warehouse, areas)
    load_file(warehouse, tmp_path / "cohort_bad.csv")
    log = rows(warehouse, "SELECT load_id, file_name, sha256, table_name, rows_read, rows_loaded, "
                          "outcome, started_at <= ended_at FROM load_log ORDER BY load_id")
    assert log == [
        (1, "areas.csv", hashlib.sha256(areas.read_bytes()).hexdigest(), "areas", 2, 2,
         "loaded", True),
        (2, "cohort_bad.csv", hashlib.sha256(b"pregnancy_id\nP1\n").hexdigest(), "cohort", 0, 0,
         "refused", True),
    ]
    assert rows(warehouse, "SELECT message FROM load_log WHERE load_id = 2")[0][0].startswith(
        "cohort_bad.csv: missing required columns person_id, area_code")


def test_load_files_loads_areas_then_cohort_then_activity(tmp_path):
    warehouse = new_warehouse(tmp_path)
    paths = [write_measures(tmp_path), write_activity(tmp_path), write_cohort(tmp_path),
             write_areas(tmp_path)]
    summaries = load_files(warehouse, paths)
    assert [s.file_name for s in summaries] == ["measures.csv", "activity.csv", "cohort.csv", "areas.csv"]
    assert [(s.rows_loaded, s.rows_waiting) for s in summaries] == [(2, 0), (4, 0), (3, 0), (2, 0)]
    assert [s.load_id for s in summaries] == [4, 3, 2, 1]


def test_display_name_is_used_in_messages_and_log(tmp_path):
    warehouse = new_warehouse(tmp_path)
    path = tmp_path / "upload-1234.csv"
    path.write_text("area_code\nE06000001\n")
    summary = load_file(warehouse, path, table="areas", display_name="my areas.csv")
    assert summary.message.startswith("my areas.csv: missing required column area_name")
    assert rows(warehouse, "SELECT file_name FROM load_log") == [("my areas.csv",)]


_KILLED_LOAD = """
import sys
from pathway.db import Warehouse
from pathway.ingest import load_file
warehouse = Warehouse(sys.argv[1])
warehouse.ensure_schema()
print("loading", flush=True)
load_file(warehouse, sys.argv[2])
print("finished", flush=True)
"""


def test_killed_load_leaves_database_unchanged(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    load_file(warehouse, write_activity(tmp_path))
    before = [count(warehouse, t) for t in ("activity", "rejects", "load_log", "waiting_activity")]
    warehouse.dispose()
    big = tmp_path / "activity_big.csv"
    with duckdb.connect() as writer:   # 2M valid rows for P1: seconds to load, not instant
        writer.execute(
            "COPY (SELECT 'B' || i AS activity_id, 'P1' AS pregnancy_id, 'gp' AS service, "
            "'contact' AS activity_type, '2024-03-01' AS activity_date FROM range(2000000) t(i)) "
            "TO '" + str(big) + "' (HEADER)")
    # killed (SIGKILL) once its rows are written and before its commit: not a guessed delay
    child = subprocess.Popen([sys.executable, "-c", _KILLED_LOAD, warehouse.url.render_as_string(),
                              str(big)], cwd=REPO, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PATHWAY_KILL_AT": "upserting"})
    assert child.stdout.readline().strip() == "loading"
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert "finished" not in child.stdout.read()
    reopened = type(warehouse)(warehouse.url.render_as_string())
    assert [count(reopened, t) for t in ("activity", "rejects", "load_log", "waiting_activity")] == before
    # and the warehouse still takes loads afterwards
    assert load_file(reopened, write_activity(tmp_path, "activity_more.csv", [
        ["A9", "P2", "gp", "contact", "2024-03-01"] + [""] * 5])).rows_loaded == 1


def test_batch_rebuilds_the_journey_once_and_metrics_rebuild_a_stale_one(tmp_path):
    # A batch rebuilds the journey after its last file; a single file loaded afterwards without
    # a rebuild (as if killed between its commit and the rebuild) leaves it stale, and the
    # next metric run rebuilds it before answering.
    from pathway import journey
    from pathway.metrics import run_metric

    warehouse = new_warehouse(tmp_path)
    load_files(warehouse, [write_areas(tmp_path), write_cohort(tmp_path)])
    with warehouse.connect() as conn:
        assert journey.is_current(conn)
    load_file(warehouse, write_activity(tmp_path), refresh_journey=False)
    with warehouse.connect() as conn:
        assert not journey.is_current(conn)
    run_metric(warehouse, "births", suppress=False)
    with warehouse.connect() as conn:
        assert journey.is_current(conn)
    assert count(warehouse, "placed_events") == 4  # A1..A4 placed on the pathway (or outside it)


def test_code_columns_go_in_as_text_with_their_defaults_and_no_load_type_stays(tmp_path):
    """load_valid holds activity's codes as ENUMs of every value they can take
    (validation.code_types_sql); the table gets text, blanks given their defaults, and the
    types go with the load's other temporary objects."""
    warehouse = loaded_warehouse(tmp_path)
    extra = [["A5", "P3", "GP", "Contact", "2024-10-02", "", "", "", "", ""]]   # codes in any case
    summary = load_file(warehouse, write_activity(tmp_path, rows=ACTIVITY_ROWS + extra))
    assert (summary.outcome, summary.rows_loaded, summary.rows_rejected) == ("loaded", 5, 0)
    # blank attendance -> attended, blank tier -> the service's default tier (gp: universal),
    # blank subject -> birthing_parent; given values canonical
    assert rows(warehouse, "SELECT activity_id, service, activity_type, attendance, tier, subject "
                           "FROM activity WHERE activity_id IN ('A3', 'A5') ORDER BY 1") == [
        ("A3", "perinatal_mh", "assessment", "dna", "specialist", "birthing_parent"),
        ("A5", "gp", "contact", "attended", "universal", "birthing_parent")]
    assert rows(warehouse, "SELECT count(*) FROM information_schema.columns "
                           "WHERE table_name = 'activity' AND data_type <> 'VARCHAR' "
                           "AND column_name NOT IN ('activity_date', 'infant_number')") == [(0,)]
    assert rows(warehouse, "SELECT type_name FROM duckdb_types() "
                           "WHERE starts_with(type_name, 'load_code_')") == []
