"""File-level contract: formats, encodings, delimiters, headers, which table, and refusals
(a refused file loads nothing and leaves earlier data as it was)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd

from ingest_fixtures import (ACTIVITY_HEADER, ACTIVITY_ROWS, AREAS_HEADER, COHORT_HEADER,
                             COHORT_ROWS, count, loaded_warehouse, new_warehouse, rows,
                             write_activity, write_csv)
from pathway.ingest import load_file


def _unchanged(warehouse) -> bool:
    """The loaded_warehouse fixture: 2 areas, 3 pregnancies, 4 risk-factor rows, no activity."""
    return (count(warehouse, "areas"), count(warehouse, "cohort"),
            count(warehouse, "cohort_risk_factors"), count(warehouse, "activity")) == (2, 3, 4, 0)


def test_windows_1252_fallback(tmp_path):
    warehouse = new_warehouse(tmp_path)
    # 0x92 (’) and 0x96 (–) are Windows-1252 bytes that are not valid UTF-8
    path = write_csv(tmp_path / "areas.csv", AREAS_HEADER,
                     [["E07000242", "East Hertfordshire – Bishop’s Stortford", "", ""]],
                     encoding="cp1252")
    summary = load_file(warehouse, path)
    assert summary.outcome == "loaded" and summary.encoding == "windows-1252"
    assert "Windows-1252" in summary.describe()
    assert rows(warehouse, "SELECT area_name FROM areas") == [
        ("East Hertfordshire – Bishop’s Stortford",)]
    assert rows(warehouse, "SELECT encoding FROM load_log") == [("windows-1252",)]


def test_bom(tmp_path):
    warehouse = new_warehouse(tmp_path)
    path = write_csv(tmp_path / "areas.csv", AREAS_HEADER, [["E06000001", "Hartlepool", "", ""]],
                     encoding="utf-8-sig")
    summary = load_file(warehouse, path)
    # the BOM must not hide the first column's name (area_code is required)
    assert summary.outcome == "loaded", summary.describe()
    assert summary.encoding == "utf-8 (with BOM)" and summary.ignored_columns == []
    assert rows(warehouse, "SELECT area_code, area_name FROM areas") == [("E06000001", "Hartlepool")]


def test_semicolon_and_tab_sniffed(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    semicolon = write_activity(tmp_path, "activity_a.csv", ACTIVITY_ROWS[:2])
    semicolon.write_text(semicolon.read_text().replace(",", ";"))
    tab = write_csv(tmp_path / "activity_b.tsv", ACTIVITY_HEADER, ACTIVITY_ROWS[2:], delimiter="\t")
    first, second = load_file(warehouse, semicolon), load_file(warehouse, tab)
    assert (first.delimiter, first.rows_loaded) == (";", 2)
    assert (second.delimiter, second.rows_loaded) == ("\t", 2)
    assert count(warehouse, "activity") == 4


def test_header_matching(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    path = tmp_path / "activity.csv"
    path.write_text("Activity ID,PREGNANCY-ID,Service,activity type,Activity Date,Notes\n"
                    "A9,P1,Maternity,CONTACT,2024-01-10,free text\n")
    summary = load_file(warehouse, path)
    assert summary.outcome == "loaded" and summary.ignored_columns == ["Notes"]
    assert rows(warehouse, "SELECT activity_id, service, activity_type FROM activity") == [
        ("A9", "maternity", "contact")]
    assert rows(warehouse, "SELECT ignored_columns FROM load_log WHERE load_id = :i",
                i=summary.load_id) == [('["Notes"]',)]


def test_xlsx_serial_dates(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(ACTIVITY_HEADER[:5])
    sheet.append(["X1", "P1", "maternity", "contact", 45292])               # serial: 2024-01-01
    sheet.append(["X2", "P1", "gp", "contact", dt.datetime(2024, 7, 5)])    # a real date cell
    sheet.append(["X3", "P2", "gp", "contact", "05/02/2024"])               # UK text: 5 Feb
    sheet.append(["X4", "P2", "gp", "contact", "31/02/2024"])               # sheet row 5
    path = tmp_path / "activity.xlsx"
    workbook.save(path)
    summary = load_file(warehouse, path, max_reject_rate=1.0)
    assert summary.rows_loaded == 3
    assert rows(warehouse, "SELECT activity_id, CAST(activity_date AS VARCHAR) FROM activity "
                           "ORDER BY 1") == [("X1", "2024-01-01"), ("X2", "2024-07-05"),
                                             ("X3", "2024-02-05")]
    assert summary.rejects.to_records(index=False).tolist() == [
        (5, "activity_date", "31/02/2024", "'31/02/2024' is not a date")]


def test_xlsx_named_sheet(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    workbook = openpyxl.Workbook()
    workbook.active.append(["notes"])
    other = workbook.create_sheet("contacts")
    other.append(ACTIVITY_HEADER[:5])
    other.append(["X1", "P1", "maternity", "contact", "2024-01-01"])
    path = tmp_path / "activity.xlsx"
    workbook.save(path)
    assert load_file(warehouse, path, sheet="contacts").rows_loaded == 1
    missing = load_file(warehouse, path, sheet="nope")
    assert missing.outcome == "refused" and "no sheet named 'nope'" in missing.message


def test_parquet(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    frame = pd.DataFrame({
        "measure_id": ["S1", "S2"], "pregnancy_id": ["P1", "P3"],
        "instrument": ["EPDS", "GAD7"], "score": [12, 30],   # GAD-7 runs 0 to 21
        "measure_date": [dt.date(2024, 7, 20), dt.date(2024, 9, 30)],
        "timepoint": ["screen", "baseline"]})
    path = tmp_path / "measures.parquet"
    frame.to_parquet(path)
    summary = load_file(warehouse, path, max_reject_rate=1.0)
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (2, 1, 1)
    assert rows(warehouse, "SELECT measure_id, score, CAST(measure_date AS VARCHAR) FROM measures"
                ) == [("S1", 12.0, "2024-07-20")]
    assert summary.rejects["line_number"].tolist() == [3]


def test_table_from_file_name_and_columns(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    named = write_activity(tmp_path, "activity_2025-q1.csv", ACTIVITY_ROWS[:1])
    assert load_file(warehouse, named).table == "activity"
    by_columns = write_activity(tmp_path, "extract.csv", ACTIVITY_ROWS[1:2])
    assert load_file(warehouse, by_columns).table == "activity"
    forced = write_activity(tmp_path, "export.csv", ACTIVITY_ROWS[2:3])
    assert load_file(warehouse, forced, table="activity").rows_loaded == 1
    # area_code + area_name + pregnancy_id + person_id fit both areas and cohort
    both = write_csv(tmp_path / "mixed.csv", ["area_code", "area_name", "pregnancy_id", "person_id"],
                     [["E06000001", "Hartlepool", "P9", "M9"]])
    refused = load_file(warehouse, both)
    assert refused.outcome == "refused" and "more than one table (areas, cohort)" in refused.message
    assert count(warehouse, "activity") == 3


def test_missing_required_column_refuses_file_and_keeps_earlier_data(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    header = [h for h in COHORT_HEADER if h != "person_id"]
    path = write_csv(tmp_path / "cohort_new.csv", header,
                     [[v for h, v in zip(COHORT_HEADER, r) if h != "person_id"] for r in COHORT_ROWS])
    summary = load_file(warehouse, path)
    assert summary.outcome == "refused"
    assert summary.message.startswith("cohort_new.csv: missing required column person_id")
    assert _unchanged(warehouse)


def test_empty_and_unreadable_files_are_refused(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    (tmp_path / "activity_empty.csv").write_bytes(b"")
    header_only = write_activity(tmp_path, "activity_header.csv", [])
    (tmp_path / "activity.json").write_text("{}")
    ragged = tmp_path / "activity_ragged.csv"
    ragged.write_text(",".join(ACTIVITY_HEADER) + "\n" + ",".join(ACTIVITY_ROWS[0]) + ",extra\n")
    messages = [load_file(warehouse, tmp_path / n).message for n in
                ("activity_empty.csv", header_only.name, "activity.json", ragged.name)]
    assert messages == [
        "activity_empty.csv is empty",
        "activity_header.csv is empty: it has a header but no data rows",
        "activity.json is not a supported format (.json): use .csv, .txt, .tsv, .xlsx or .parquet",
        "activity_ragged.csv cannot be read: line 2 has 11 fields but the header has 10",
    ]
    assert _unchanged(warehouse)


def test_over_reject_rate_refuses_whole_file(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    bad = [r[:] for r in ACTIVITY_ROWS]
    bad[3][2] = "dentist"   # 1 of 4 rows = 25%, more than the default 5%
    summary = load_file(warehouse, write_activity(tmp_path, rows=bad))
    assert summary.outcome == "refused"
    assert "1 of 4 rows (25.0%) break the contract, more than the 5% allowed" in summary.message
    assert "line 5, column service: 'dentist' is not a known service" in summary.message
    assert _unchanged(warehouse) and count(warehouse, "rejects") == 0


def test_reject_rate_at_threshold_still_loads(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    # 20 rows, 1 bad: 5.0% is not more than 5%, so the file loads without that row
    many = [[f"A{i}", "P1", "gp", "contact", "2024-01-10"] + [""] * 5 for i in range(20)]
    many[7][4] = "not a date"
    summary = load_file(warehouse, write_activity(tmp_path, rows=many))
    assert (summary.outcome, summary.rows_loaded, summary.rows_rejected) == ("loaded", 19, 1)


def test_blank_lines_keep_file_line_numbers(tmp_path):
    warehouse = loaded_warehouse(tmp_path)
    path = tmp_path / "activity.csv"
    # line 1 header, 2 A1, 3 blank, 4 A2 with a bad date: the reject must say line 4
    path.write_text(",".join(ACTIVITY_HEADER[:5]) + "\n"
                    "A1,P1,gp,contact,2024-01-10\n\nA2,P1,gp,contact,2024-13-01\n")
    summary = load_file(warehouse, path, max_reject_rate=1.0)
    assert summary.rows_read == 2
    assert summary.rejects.to_records(index=False).tolist() == [
        (4, "activity_date", "2024-13-01", "'2024-13-01' is not a date")]
