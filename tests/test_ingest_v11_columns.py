"""Contract v1.1 section 7.1: the new optional columns load with their defaults and rules,
and a v1 extract (without them) loads as before."""

from __future__ import annotations

from ingest_fixtures import (ACTIVITY_HEADER, ACTIVITY_ROWS, COHORT_HEADER, COHORT_ROWS,
                             MEASURES_HEADER, MEASURES_ROWS, loaded_warehouse,
                             rows, write_activity, write_areas, write_cohort, write_csv,
                             write_measures)
from pathway.ingest import load_file

LENIENT = 1.0


def _rejects(warehouse, load_id):
    return rows(warehouse, "SELECT line_number, column_name, reason FROM rejects "
                           "WHERE load_id = :load_id ORDER BY line_number, column_name",
                load_id=load_id)


def test_a_v1_extract_loads_with_the_v11_defaults(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    for path in (write_activity(tmp_path), write_measures(tmp_path)):
        summary = load_file(warehouse, path)
        assert summary.outcome == "loaded" and summary.rows_rejected == 0, summary.describe()
    # blank number_of_babies = 1, blank contact_mode = unknown (null), blank subject = the
    # birthing parent, blank infant_number = baby 1
    assert rows(warehouse, "SELECT DISTINCT number_of_babies, risk_identified_date FROM cohort") \
        == [(1, None)]
    assert rows(warehouse, "SELECT DISTINCT contact_mode, subject, infant_number FROM activity") \
        == [(None, "birthing_parent", 1)]
    assert rows(warehouse, "SELECT DISTINCT infant_number FROM measures") == [(1,)]


def test_new_columns_load_and_bad_values_are_quarantined(tmp_path, warehouse_url):
    # both warehouses: validation runs in DuckDB, the rows land in PostgreSQL by COPY
    from pathway.db import Warehouse

    warehouse = Warehouse(warehouse_url)
    warehouse.ensure_schema()
    load_file(warehouse, write_areas(tmp_path))
    cohort_header = COHORT_HEADER + ["Number of Babies", "risk_identified_date"]
    cohort = [COHORT_ROWS[0] + ["2", "2024-02-01"], COHORT_ROWS[1] + ["", ""],
              COHORT_ROWS[2] + ["9", "not a date"]]
    summary = load_file(warehouse, write_csv(tmp_path / "cohort.csv", cohort_header, cohort),
                        max_reject_rate=LENIENT)
    assert _rejects(warehouse, summary.load_id) == [
        (4, "number_of_babies", "'9' is outside 1 to 8"),
        (4, "risk_identified_date", "'not a date' is not a date"),
    ]
    assert rows(warehouse, "SELECT pregnancy_id, number_of_babies, "
                           "CAST(risk_identified_date AS VARCHAR) FROM cohort ORDER BY 1") == [
        ("P1", 2, "2024-02-01"), ("P2", 1, None)]

    activity_header = ACTIVITY_HEADER + ["contact_mode", "subject", "infant_number"]
    activity = [
        ACTIVITY_ROWS[0] + ["Face to face", "", ""],
        ACTIVITY_ROWS[1] + ["video", "infant", "2"],      # P1 has two babies: baby 2 is fine
        ACTIVITY_ROWS[2] + ["telephone", "partner", "2"],  # P2 has one baby: no baby 2
        ["A5", "P1", "health_visiting", "contact", "2024-07-06", "", "", "", "", "",
         "carrier pigeon", "grandparent", "0"],
    ]
    summary = load_file(warehouse, write_csv(tmp_path / "activity.csv", activity_header, activity),
                        max_reject_rate=LENIENT)
    assert _rejects(warehouse, summary.load_id) == [
        (4, "infant_number", "'2' is more than the pregnancy's 1 baby (number_of_babies in cohort)"),
        (5, "contact_mode", "'carrier pigeon' is not a known contact mode"),
        (5, "infant_number", "'0' is outside 1 to 8"),
        (5, "subject", "'grandparent' is not a known subject"),
    ]
    assert rows(warehouse, "SELECT activity_id, contact_mode, subject, infant_number FROM activity "
                           "ORDER BY 1") == [("A1", "face_to_face", "birthing_parent", 1),
                                             ("A2", "video", "infant", 2)]

    measures_header = MEASURES_HEADER + ["infant_number"]
    measures = [MEASURES_ROWS[0] + ["2"], ["S3", "P1", "ASQSE2", "541", "2024-08-01", "screen", "", ""],
                ["S4", "P1", "HADS_A", "11", "2024-08-01", "baseline", "", ""],
                ["S5", "P1", "PIRGAS", "95", "2024-08-01", "baseline", "", ""]]
    summary = load_file(warehouse, write_csv(tmp_path / "measures.csv", measures_header, measures),
                        max_reject_rate=LENIENT)
    assert _rejects(warehouse, summary.load_id) == [
        (3, "score", "'541' is outside the ASQSE2 range 0 to 540")]
    assert rows(warehouse, "SELECT measure_id, infant_number FROM measures ORDER BY 1") == [
        ("S1", 2), ("S4", 1), ("S5", 1)]  # PIR-GAS runs to 100 (contract v1.1)
    warehouse.dispose()


def test_a_v1_warehouse_gains_the_new_columns(tmp_path):
    # a warehouse made before v1.1: its tables lack the columns until ensure_schema adds them
    import sqlalchemy as sa

    from pathway.db import Warehouse

    url = f"duckdb:///{tmp_path / 'old.duckdb'}"
    old = Warehouse(url)
    with old.begin() as conn:
        conn.execute(sa.text("CREATE TABLE cohort (pregnancy_id text, person_id text, area_code text, "
                             "booking_date date, edd date, birth_date date, outcome text, "
                             "parent_age integer, ethnic_group text, imd_decile integer)"))
        conn.execute(sa.text("INSERT INTO cohort VALUES ('P1', 'M1', 'E1', NULL, NULL, NULL, "
                             "'ongoing', NULL, NULL, NULL)"))
    old.dispose()
    warehouse = Warehouse(url)
    warehouse.ensure_schema()
    assert rows(warehouse, "SELECT pregnancy_id, number_of_babies FROM cohort") == [("P1", 1)]
