"""Row rules of the extract contract: each bad value is quarantined with file, line, column
and reason, valid rows of the same file load, and earlier data is untouched."""

from __future__ import annotations

from ingest_fixtures import (ACTIVITY_ROWS, COHORT_ROWS, MEASURES_ROWS, count, loaded_warehouse,
                             rows, write_activity, write_cohort, write_measures)
from pathway.ingest import load_file

# Row-rule tests load a few rows with one bad one; the 5% file rule is tested on its own.
LENIENT = 1.0


def _rejects(warehouse, load_id):
    return rows(warehouse, "SELECT line_number, column_name, value, reason, status FROM rejects "
                           "WHERE load_id = :load_id ORDER BY line_number, column_name",
                load_id=load_id)


def test_impossible_uk_date_is_quarantined_with_line_and_column(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    bad = [r[:] for r in ACTIVITY_ROWS]
    bad[1][4] = "31/02/2024"   # A2 is the second data row: file line 3
    bad[2][4] = "02/04/2024"   # UK order: 2 April 2024
    summary = load_file(warehouse, write_activity(tmp_path, "activity_2024.csv", bad),
                        max_reject_rate=LENIENT)
    assert summary.outcome == "loaded"
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (4, 3, 1)
    assert _rejects(warehouse, summary.load_id) == [
        (3, "activity_date", "31/02/2024", "'31/02/2024' is not a date", "rejected")]
    assert "activity_2024.csv line 3, column activity_date: '31/02/2024' is not a date" \
        in summary.describe()
    assert rows(warehouse, "SELECT CAST(activity_date AS VARCHAR) FROM activity "
                           "WHERE activity_id = 'A3'") == [("2024-04-02",)]
    assert count(warehouse, "activity") == 3 and count(warehouse, "cohort") == 3


def test_us_order_date_is_not_a_date(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    bad = [r[:] for r in ACTIVITY_ROWS]
    bad[0][4] = "12/31/2024"   # month 31 does not exist in DD/MM/YYYY
    summary = load_file(warehouse, write_activity(tmp_path, rows=bad), max_reject_rate=LENIENT)
    assert summary.rejects.to_records(index=False).tolist() == [
        (2, "activity_date", "12/31/2024", "'12/31/2024' is not a date")]


def test_unknown_code_and_out_of_range_values_are_rejected(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    bad = [r[:] for r in COHORT_ROWS]
    bad[0][0], bad[1][0], bad[2][0] = "P7", "P8", "P9"
    bad[0][7] = "61"            # parent_age above 60
    bad[1][9] = "11"            # imd_decile above 10
    bad[2][8] = "Q"             # Q is not an NHS ethnic category letter
    summary = load_file(warehouse, write_cohort(tmp_path, rows=bad), max_reject_rate=LENIENT)
    assert summary.rows_rejected == 3 and summary.rows_loaded == 0
    assert [(r[0], r[1], r[3]) for r in _rejects(warehouse, summary.load_id)] == [
        (2, "parent_age", "'61' is outside 10 to 60"),
        (3, "imd_decile", "'11' is outside 1 to 10"),
        (4, "ethnic_group", "'Q' is not a known ethnic group"),
    ]


def test_codes_are_case_insensitive_and_stored_canonical(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    # ethnic_group letters map to the six groups: A -> White (see ref_codes), 'asian' -> Asian
    assert rows(warehouse, "SELECT pregnancy_id, ethnic_group FROM cohort ORDER BY 1") == [
        ("P1", "White"), ("P2", "Asian"), ("P3", None)]
    summary = load_file(warehouse, write_measures(tmp_path))
    assert summary.rows_loaded == 2
    assert rows(warehouse, "SELECT measure_id, instrument FROM measures ORDER BY 1") == [
        ("S1", "EPDS"), ("S2", "PHQ9")]


def test_blank_outcome_and_birth_date_rules(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    # P2 has no birth date and no outcome -> ongoing; P3 has a birth date -> live_birth
    assert rows(warehouse, "SELECT pregnancy_id, outcome FROM cohort ORDER BY 1") == [
        ("P1", "live_birth"), ("P2", "ongoing"), ("P3", "live_birth")]
    bad = [r[:] for r in COHORT_ROWS]
    bad[0][0], bad[0][5], bad[0][6] = "P4", "", "stillbirth"        # stillbirth needs a date
    bad[1][0], bad[1][5], bad[1][6] = "P5", "2024-08-01", "loss"    # loss must not have one
    bad[2][0] = "P6"
    summary = load_file(warehouse, write_cohort(tmp_path, rows=bad), max_reject_rate=LENIENT)
    assert summary.rows_loaded == 1 and summary.rows_rejected == 2
    assert [(r[0], r[1], r[3]) for r in _rejects(warehouse, summary.load_id)] == [
        (2, "birth_date", "blank, but outcome is stillbirth: a birth date is required"),
        (3, "birth_date", "'2024-08-01' given, but outcome is loss: birth_date must be blank"),
    ]


def test_missing_required_value_and_unknown_area(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    bad = [r[:] for r in COHORT_ROWS]
    bad[0][0], bad[0][1] = "P4", ""              # person_id is required
    bad[1][0], bad[1][2] = "P5", "E06009999"     # not in areas
    bad[2][0] = "P6"
    summary = load_file(warehouse, write_cohort(tmp_path, rows=bad), max_reject_rate=LENIENT)
    assert [(r[0], r[1], r[2], r[3]) for r in _rejects(warehouse, summary.load_id)] == [
        (2, "person_id", None, "blank, but a value is required"),
        (3, "area_code", "E06009999",
         "'E06009999' is not a known area (load it in an areas file first)"),
    ]
    assert count(warehouse, "cohort") == 4   # the three earlier ones plus P6


def test_score_outside_instrument_range_is_rejected(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    bad = [r[:] for r in MEASURES_ROWS]
    bad[0][3] = "31"    # EPDS runs 0 to 30 (ref_instruments)
    summary = load_file(warehouse, write_measures(tmp_path, rows=bad), max_reject_rate=LENIENT)
    assert summary.rejects.to_records(index=False).tolist() == [
        (2, "score", "31", "'31' is outside the EPDS range 0 to 30")]
    assert count(warehouse, "measures") == 1


def test_duplicate_id_keeps_first_and_names_its_line(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    dup = [r[:] for r in ACTIVITY_ROWS] + [ACTIVITY_ROWS[0][:]]   # A1 again on line 6
    dup[-1][4] = "2024-01-11"
    summary = load_file(warehouse, write_activity(tmp_path, rows=dup), max_reject_rate=LENIENT)
    assert summary.rows_loaded == 4 and summary.rows_rejected == 1
    assert summary.rejects.to_records(index=False).tolist() == [
        (6, "activity_id", "A1", "'A1' appears again: first on line 2, which is the one loaded")]
    assert rows(warehouse, "SELECT CAST(activity_date AS VARCHAR) FROM activity "
                           "WHERE activity_id = 'A1'") == [("2024-01-10",)]


def test_tier_defaults_from_service_and_attendance_to_attended(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    load_file(warehouse, write_activity(tmp_path))
    # A1 maternity -> universal (ref_services); A3 perinatal_mh -> specialist; A4 override kept
    assert rows(warehouse, "SELECT activity_id, tier, attendance FROM activity ORDER BY 1") == [
        ("A1", "universal", "attended"), ("A2", "universal", "attended"),
        ("A3", "specialist", "dna"), ("A4", "universal", "attended")]


def test_rf_columns_kept(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    # P1 yes/no, P2 blank/blank (no rows), P3 n/Y
    assert rows(warehouse, "SELECT pregnancy_id, risk_factor, present FROM cohort_risk_factors "
                           "ORDER BY 1, 2") == [
        ("P1", "rf_domestic_abuse", True), ("P1", "rf_previous_loss", False),
        ("P3", "rf_domestic_abuse", False), ("P3", "rf_previous_loss", True)]


def test_rf_header_is_snake_cased_and_bad_flag_rejected(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    path = tmp_path / "cohort_extra.csv"
    path.write_text("Pregnancy ID,Person ID,Area Code,RF Teenage Parent\n"
                    "P4,M4,E06000001,Yes\nP5,M5,E06000001,maybe\n")
    summary = load_file(warehouse, path, max_reject_rate=LENIENT)
    assert summary.rejects.to_records(index=False).tolist() == [
        (3, "rf_teenage_parent", "maybe",
         "'maybe' is not yes/no (use true/false, yes/no, y/n or 1/0)")]
    assert rows(warehouse, "SELECT pregnancy_id, risk_factor, present FROM cohort_risk_factors "
                           "WHERE risk_factor = 'rf_teenage_parent'") == [
        ("P4", "rf_teenage_parent", True)]
