"""The same loading rules on both warehouses: staging and validation in DuckDB, the valid rows
copied to PostgreSQL and upserted there with the same SQL (warehouse_url runs each backend)."""

from __future__ import annotations

from ingest_fixtures import (ACTIVITY_ROWS, COHORT_ROWS, count, rows, write_activity,
                             write_areas, write_cohort, write_measures)
from pathway.db import Warehouse
from pathway.ingest import load_file


def test_load_rules_give_the_same_answers_on_both_warehouses(tmp_path, warehouse_url):
    warehouse = Warehouse(warehouse_url)
    warehouse.ensure_schema()
    try:
        assert load_file(warehouse, write_areas(tmp_path)).rows_loaded == 2
        assert load_file(warehouse, write_cohort(tmp_path)).rows_loaded == 3
        activity = [r[:] for r in ACTIVITY_ROWS] + [
            ["A8", "P8", "gp", "contact", "2024-05-01", "", "", "", "", ""]]
        activity[1][4] = "31/02/2024"   # line 3 rejected
        first = load_file(warehouse, write_activity(tmp_path, rows=activity), max_reject_rate=1.0)
        assert (first.rows_loaded, first.rows_rejected, first.rows_waiting) == (3, 1, 1)
        again = load_file(warehouse, tmp_path / "activity.csv", max_reject_rate=1.0)
        assert (again.rows_loaded, again.rows_unchanged) == (0, 3)
        assert load_file(warehouse, write_measures(tmp_path)).rows_loaded == 2

        changed = [r[:] for r in COHORT_ROWS] + [
            ["P8", "M8", "E06000002", "", "2024-12-01", "", "", "", "", "", "yes", ""]]
        changed[0][11] = "yes"          # P1's previous-loss flag changes
        cohort = load_file(warehouse, write_cohort(tmp_path, "cohort_v2.csv", changed))
        assert (cohort.rows_loaded, cohort.rows_replaced, cohort.rows_unchanged,
                cohort.rows_released) == (1, 1, 2, 1)
        assert count(warehouse, "activity") == 4 and count(warehouse, "waiting_activity") == 0
        # P1, changed in its flags alone, is written again whole, not lost
        assert count(warehouse, "cohort") == 4
        assert rows(warehouse, "SELECT risk_factor, present FROM cohort_risk_factors "
                               "WHERE pregnancy_id IN ('P1', 'P8') ORDER BY pregnancy_id, 1") == [
            ("rf_domestic_abuse", True), ("rf_previous_loss", True), ("rf_domestic_abuse", True)]
        assert rows(warehouse, "SELECT line_number, column_name, status FROM rejects "
                               "ORDER BY line_number") == [
            (3, "activity_date", "rejected"),       # the reload replaced, not repeated, it
            (6, "pregnancy_id", "released")]
        assert rows(warehouse, "SELECT outcome, count(*) FROM load_log GROUP BY outcome") == [
            ("loaded", 6)]
    finally:
        warehouse.dispose()
