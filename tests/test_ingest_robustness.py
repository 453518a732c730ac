"""Contract v1.1 section 7.2: files real extracts are made of (dates that cannot be, quoted
line breaks, time-zone timestamps, NUL bytes, files too big or too wide) each handled, with a
test that builds the bad file."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from ingest_fixtures import (ACTIVITY_ROWS, COHORT_ROWS, MEASURES_ROWS, count, rows,
                             write_activity, write_areas, write_cohort, write_measures)
from pathway.db import Warehouse
from pathway.ingest import load_file
from pathway.ingest.limits import Limits, size_words
from pathway.settings import load_settings

LENIENT = 1.0
LOAD_DAY = dt.date(2024, 12, 31)


def _warehouse(folder, **settings) -> Warehouse:
    """A warehouse whose day of loading is LOAD_DAY (never the wall clock)."""
    warehouse = Warehouse(f"duckdb:///{folder / 'w.duckdb'}",
                          settings=load_settings().with_overrides(load_day=LOAD_DAY, **settings))
    warehouse.ensure_schema()
    return warehouse


def _loaded(folder, **settings) -> Warehouse:
    warehouse = _warehouse(folder, **settings)
    for path in (write_areas(folder), write_cohort(folder)):
        assert load_file(warehouse, path).outcome == "loaded"
    return warehouse


def _rejects(warehouse, load_id):
    return rows(warehouse, "SELECT line_number, column_name, value, reason FROM rejects "
                           "WHERE load_id = :load_id ORDER BY line_number, column_name",
                load_id=load_id)


# ---- 1. dates that cannot be ------------------------------------------------------------

def test_future_and_pre_1900_dates_are_quarantined(tmp_path):
    warehouse = _loaded(tmp_path)
    activity = [r[:] for r in ACTIVITY_ROWS] + [
        ["A5", "P1", "gp", "contact", "2199-01-01"] + [""] * 5,      # line 6
        ["A6", "P1", "gp", "contact", "2025-01-01"] + [""] * 5,      # line 7: the day after
        ["A7", "P1", "gp", "contact", "31/12/1899"] + [""] * 5,      # line 8
        ["A8", "P1", "gp", "contact", "2024-12-31"] + [""] * 5,      # line 9: the day itself
    ]
    summary = load_file(warehouse, write_activity(tmp_path, rows=activity), max_reject_rate=LENIENT)
    assert (summary.outcome, summary.rows_loaded, summary.rows_rejected) == ("loaded", 5, 3)
    assert _rejects(warehouse, summary.load_id) == [
        (6, "activity_date", "2199-01-01",
         "'2199-01-01' is a date in the future (after the day of loading, 2024-12-31)"),
        (7, "activity_date", "2025-01-01",
         "'2025-01-01' is a date in the future (after the day of loading, 2024-12-31)"),
        (8, "activity_date", "31/12/1899", "'31/12/1899' is an implausible date (before 1900)"),
    ]
    measures = [MEASURES_ROWS[0], ["S3", "P2", "EPDS", "3", "2025-03-01", "screen", ""]]
    summary = load_file(warehouse, write_measures(tmp_path, rows=measures), max_reject_rate=LENIENT)
    assert [r[:2] for r in _rejects(warehouse, summary.load_id)] == [(3, "measure_date")]


def test_edd_may_lie_44_weeks_ahead_but_a_birth_date_not_one_day(tmp_path):
    warehouse = _warehouse(tmp_path)
    load_file(warehouse, write_areas(tmp_path))
    cohort = [r[:] for r in COHORT_ROWS] + [
        # 44 weeks = 308 days after 2024-12-31 is 2025-11-04
        ["P4", "M4", "E06000001", "", "2025-11-04", "", "ongoing", "", "", "", "", ""],
        ["P5", "M5", "E06000001", "", "2025-11-05", "", "ongoing", "", "", "", "", ""],
        ["P6", "M6", "E06000001", "", "2025-01-10", "2025-01-01", "live_birth", "", "", "", "", ""],
        ["P7", "M7", "E06000001", "1850-03-01", "2024-10-10", "", "ongoing", "", "", "", "", ""],
    ]
    summary = load_file(warehouse, write_cohort(tmp_path, rows=cohort), max_reject_rate=LENIENT)
    assert (summary.rows_loaded, summary.rows_rejected) == (4, 3)
    assert _rejects(warehouse, summary.load_id) == [
        (6, "edd", "2025-11-05", "'2025-11-05' is a date in the future (more than 44 weeks "
                                 "after the day of loading, 2024-12-31)"),
        (7, "birth_date", "2025-01-01",
         "'2025-01-01' is a date in the future (after the day of loading, 2024-12-31)"),
        (8, "booking_date", "1850-03-01", "'1850-03-01' is an implausible date (before 1900)"),
    ]
    assert rows(warehouse, "SELECT pregnancy_id FROM cohort WHERE pregnancy_id > 'P3'") == [("P4",)]


def test_default_as_at_is_never_after_the_day_of_loading(tmp_path):
    from pathway import catalogue
    from pathway.metrics import resolve_parameters, run_metric

    warehouse = _loaded(tmp_path)
    load_file(warehouse, write_activity(tmp_path))          # latest activity: A4 on 2024-10-01
    # A row dated 2199 that reached the warehouse before the date rule (an older version's load):
    with warehouse.begin() as conn:
        conn.exec_driver_sql("INSERT INTO activity (activity_id, pregnancy_id, service, "
                             "activity_type, activity_date, attendance, tier) VALUES "
                             "('A9', 'P1', 'gp', 'contact', DATE '2199-01-01', 'attended', "
                             "'universal')")
    run_metric(warehouse, "births", suppress=False)          # builds the journey
    binds = resolve_parameters(warehouse, catalogue.METRICS["births"], {})
    assert binds["as_at"] == dt.date(2024, 10, 1)
    later = Warehouse(warehouse.url.render_as_string(),
                      settings=load_settings().with_overrides(load_day=dt.date(2024, 6, 30)))
    assert resolve_parameters(later, catalogue.METRICS["births"], {})["as_at"] == dt.date(2024, 4, 2)
    (tmp_path / "empty").mkdir()
    empty = _warehouse(tmp_path / "empty")
    run_metric(empty, "births", suppress=False)
    assert resolve_parameters(empty, catalogue.METRICS["births"], {})["as_at"] == LOAD_DAY


def test_day_of_loading_comes_from_pathway_load_day(monkeypatch):
    monkeypatch.setenv("PATHWAY_LOAD_DAY", "2023-05-06")
    assert load_settings().day_of_loading() == dt.date(2023, 5, 6)


# ---- 2. quoted line breaks (RFC 4180, what Excel writes for Alt+Enter) --------------------

_ACTIVITY_TEXT = (
    "activity_id,pregnancy_id,service,activity_type,activity_date,referral_source\n"  # line 1
    'A1,P1,maternity,contact,2024-01-10,"line one\nline two"\n'                        # lines 2-3
    "A2,P1,gp,contact,2024-01-11,\n"                                                    # line 4
    'A3,P1,gp,contact,2024-13-01,"x\r\n\r\ny"\n'                                        # lines 5-7
    "\n"                                                                                # line 8
    'A4,P2,gp,contact,2024-02-01,"say ""hi"""\n'                                        # line 9
    "A5,P2,gp,contact,31/02/2024,\n")                                                   # line 10


def test_quoted_line_breaks_load_and_lines_stay_physical(tmp_path):
    warehouse = _loaded(tmp_path)
    path = tmp_path / "activity.csv"
    path.write_bytes(_ACTIVITY_TEXT.encode())
    summary = load_file(warehouse, path, max_reject_rate=LENIENT)
    assert (summary.outcome, summary.rows_read, summary.rows_loaded) == ("loaded", 5, 3)
    assert [r[:2] for r in _rejects(warehouse, summary.load_id)] == [
        (5, "activity_date"), (10, "activity_date")]
    assert rows(warehouse, "SELECT activity_id, referral_source FROM activity ORDER BY 1") == [
        ("A1", "line one\nline two"), ("A2", None), ("A4", 'say "hi"')]


def _quoted_line_break(chunk: bytes, parity: int) -> tuple[bool, int]:
    import numpy as np
    from pathway.ingest import reading

    data = np.frombuffer(chunk, dtype=np.uint8)
    return reading._quoted_line_break(data, np.flatnonzero(data == ord("\n")), parity)


def test_a_quoted_line_break_is_found_across_chunk_boundaries():
    assert _quoted_line_break(b'"a","say ""hi"""\nb,c\n', 0) == (False, 0)   # 6 quotes: closed
    assert _quoted_line_break(b'a,"x', 0) == (False, 1)        # a quote opens before the cut
    assert _quoted_line_break(b'y\nz",b\n', 1) == (True, 0)    # ... and its field breaks a line
    assert _quoted_line_break(b'y",b\n', 1) == (False, 0)       # ... or closes on the same line
    assert _quoted_line_break(b'', 1) == (False, 1)


@pytest.mark.parametrize("text, blank", [
    (b"a,b\n1,2\n3,4\n", False),
    (b"a,b\r\n1,2\r\n3,4\r\n", False),
    (b"a,b\n1,2\n\n3,4\n", True),
    (b"a,b\r\n1,2\r\n\r\n3,4\r\n", True),
    (b"a,b\n1,\"2\n\n\"\n", False),    # inside quotes: a record's text, read by the csv module
])
def test_blank_lines_and_quoted_breaks_are_found_wherever_the_chunks_are_cut(tmp_path, monkeypatch, text, blank):
    from pathway.ingest import reading

    path = tmp_path / "activity.csv"
    path.write_bytes(text)
    quoted = b'"' in text
    for size in range(1, len(text) + 1):   # every cut, the line breaks' own included
        monkeypatch.setattr(reading, "_CHUNK_BYTES", size)
        source = reading.inspect_file(path, "activity.csv", sheet=None, workdir=tmp_path)
        assert source.quoted_newlines is quoted, size
        assert (source.readable_path is not None) is (blank and not quoted), size
        # the checksum, taken a chunk at a time on another thread, is the whole file's
        assert source.sha256 == hashlib.sha256(text).hexdigest(), size
        reading.remove_temp_files(source)


def test_quoted_line_breaks_in_windows_1252_with_semicolons(tmp_path):
    warehouse = _loaded(tmp_path)
    text = _ACTIVITY_TEXT.replace(",", ";").replace("line two", "café")
    path = tmp_path / "activity.csv"
    path.write_bytes(text.encode("cp1252"))
    summary = load_file(warehouse, path, max_reject_rate=LENIENT)
    assert (summary.encoding, summary.delimiter, summary.rows_loaded) == ("windows-1252", ";", 3)
    assert rows(warehouse, "SELECT referral_source FROM activity WHERE activity_id = 'A1'") == [
        ("line one\ncafé",)]


def test_malformed_lines_say_what_is_wrong_at_their_physical_line(tmp_path):
    warehouse = _loaded(tmp_path)
    cases = {
        'A6,P2,gp,contact,2024-02-01,"never closed\nA7,P2\n':
            'line 11 is malformed: a quoted field is opened with " but never closed before '
            "the file ends",
        'A6,P2,gp,contact,2024-02-01,"closed" then\n':
            'line 11 is malformed: a closing " is followed by more text before the next '
            'delimiter (write a quote inside a quoted field as "")',
        "A6,P2,gp,contact,2024-02-01,x,y,z\n": "line 11 has 8 fields but the header has 6",
    }
    for i, (tail, words) in enumerate(cases.items()):
        path = tmp_path / f"activity_{i}.csv"
        path.write_bytes((_ACTIVITY_TEXT + tail).encode())
        summary = load_file(warehouse, path)
        assert summary.outcome == "refused"
        assert summary.message == f"activity_{i}.csv cannot be read: {words}"
    assert count(warehouse, "activity") == 0


def test_a_line_with_too_many_fields_without_quoted_line_breaks(tmp_path):
    warehouse = _loaded(tmp_path)
    path = tmp_path / "activity.csv"
    path.write_text("activity_id,pregnancy_id,service,activity_type,activity_date\n"
                    "A1,P1,gp,contact,2024-01-10\nA2,P1,gp,contact,2024-01-10,extra\n")
    summary = load_file(warehouse, path)
    assert summary.message == "activity.csv cannot be read: line 3 has 6 fields but the header has 5"
    # DuckDB's own reader (no quoted line break): what is wrong, never the line itself
    path.write_text("activity_id,pregnancy_id,service,activity_type,activity_date\n"
                    'A1,P1,gp,contact,2024-01-10\nA2,P1,gp,"con"tact,2024-01-10\n')
    assert load_file(warehouse, path).message == (
        'activity.csv cannot be read: line 3 is malformed: a quoted field is not closed properly '
        '(a " inside a quoted field is written "")')
    # an unclosed quote on the last line, with no line break after it
    path.write_text("activity_id,pregnancy_id,service,activity_type,activity_date\n"
                    'A1,P1,gp,contact,2024-01-10\nA2,P1,gp,contact,"2024-01-10')
    assert load_file(warehouse, path).message == (
        'activity.csv cannot be read: line 3 is malformed: a quoted field is opened with " but '
        "never closed before the file ends")


# ---- 4. NUL bytes ---------------------------------------------------------------------------

def test_nul_bytes_quarantine_their_row_on_both_warehouses(tmp_path, warehouse_url):
    warehouse = Warehouse(warehouse_url, settings=load_settings().with_overrides(load_day=LOAD_DAY))
    warehouse.ensure_schema()
    try:
        load_file(warehouse, write_areas(tmp_path))
        load_file(warehouse, write_cohort(tmp_path))
        nul_row_words = " holds a NUL byte (character 0, shown as <NUL>), which no database text can store"
        for name, quoted in (("activity.csv", ""), ("activity_quoted.csv", '"a\nb"')):
            text = ("activity_id,pregnancy_id,service,activity_type,activity_date,referral_source,notes\n"
                    f"A1,P1,maternity,contact,2024-01-10,{quoted},\n"
                    "A2,P1,gp,contact,2024-01-11,a\0b,\n"
                    "A3\0,P1,gp,contact,2024-01-11,,\n")
            path = tmp_path / name
            path.write_bytes(text.encode())
            summary = load_file(warehouse, path, max_reject_rate=LENIENT)
            extra = quoted.count("\n")
            assert (summary.rows_loaded, summary.rows_rejected) == (1 if name == "activity.csv" else 0, 2)
            assert _rejects(warehouse, summary.load_id) == [
                (3 + extra, "referral_source", "a<NUL>b", "'a<NUL>b'" + nul_row_words),
                (4 + extra, "activity_id", "A3<NUL>", "'A3<NUL>'" + nul_row_words)]
            assert "'a<NUL>b'" in summary.describe() and "\0" not in summary.describe()
        assert rows(warehouse, "SELECT count(*) FROM rejects WHERE strpos(record_id, 'A3') = 1 "
                               "AND record_id <> 'A3<NUL>'") == [(0,)]
        assert rows(warehouse, "SELECT activity_id, referral_source FROM activity") == [("A1", "a\nb")]
    finally:
        warehouse.dispose()


# ---- 3. Parquet timestamps ----------------------------------------------------------------

def test_parquet_timestamps_are_dates_in_uk_local_time(tmp_path):
    warehouse = _loaded(tmp_path)
    instants = pd.to_datetime(["2023-03-01 00:00:00", "2023-06-30 23:30:00",
                               "2023-12-31 23:30:00", "2023-06-30 22:59:59"]).tz_localize("UTC")
    frame = pd.DataFrame({
        "activity_id": ["T1", "T2", "T3", "T4"], "pregnancy_id": ["P1"] * 4,
        "service": ["gp"] * 4, "activity_type": ["contact"] * 4,
        "activity_date": instants})
    frame.to_parquet(tmp_path / "activity_aware.parquet")
    summary = load_file(warehouse, tmp_path / "activity_aware.parquet")
    assert (summary.outcome, summary.rows_loaded) == ("loaded", 4), summary.describe()
    # GMT in winter, BST (UTC+1) in summer: 23:30 UTC on 30 June is already 1 July in London
    assert rows(warehouse, "SELECT activity_id, CAST(activity_date AS VARCHAR) FROM activity "
                           "ORDER BY 1") == [("T1", "2023-03-01"), ("T2", "2023-07-01"),
                                             ("T3", "2023-12-31"), ("T4", "2023-06-30")]
    naive = frame.assign(activity_id=["N1", "N2", "N3", "N4"],
                         activity_date=instants.tz_localize(None).astype("datetime64[ms]"))
    naive.to_parquet(tmp_path / "activity_naive.parquet")
    assert load_file(warehouse, tmp_path / "activity_naive.parquet").rows_loaded == 4
    # without a zone a timestamp is already local time: its date is its own
    assert rows(warehouse, "SELECT CAST(activity_date AS VARCHAR) FROM activity "
                           "WHERE activity_id LIKE 'N%' ORDER BY activity_id") == [
        ("2023-03-01",), ("2023-06-30",), ("2023-12-31",), ("2023-06-30",)]


# ---- 5. limits -----------------------------------------------------------------------------

def test_a_file_over_the_size_limit_is_refused_naming_limit_and_size(tmp_path):
    warehouse = _loaded(tmp_path)
    path = write_activity(tmp_path)
    size = path.stat().st_size
    assert size == 345
    summary = load_file(warehouse, path, limits=Limits.from_settings(
        load_settings().with_overrides(max_file_bytes=200)))
    assert summary.outcome == "refused"
    assert summary.message == ("activity.csv is too big to load: it is 345 bytes, more than the "
                               "200 bytes limit for one file (setting PATHWAY_MAX_FILE_BYTES)")
    assert rows(warehouse, "SELECT outcome FROM load_log WHERE file_name = 'activity.csv'") == [
        ("refused",)]
    assert load_settings().max_file_bytes == 2 << 30
    assert load_file(warehouse, path).rows_loaded == 4


def test_too_many_columns_are_refused_before_duckdb_reads_them(tmp_path, monkeypatch):
    from pathway.ingest import reading

    warehouse = _loaded(tmp_path, max_columns=12)
    wide_header = ["activity_id", "pregnancy_id", "service", "activity_type", "activity_date"] + [
        f"extra_{i}" for i in range(8)]
    path = tmp_path / "activity_wide.csv"
    path.write_text(",".join(wide_header) + "\n" + ",".join(["A1", "P1", "gp", "contact", "2024-01-10"]
                                                            + [""] * 8) + "\n")
    monkeypatch.setattr(reading, "stage_csv", lambda *a: pytest.fail("staged a refused file"))
    summary = load_file(warehouse, path)
    assert summary.message == ("activity_wide.csv has too many columns to load: 13, more than the "
                               "limit of 12 (setting PATHWAY_MAX_COLUMNS)")
    frame = pd.DataFrame({name: ["x"] for name in wide_header})
    frame.to_parquet(tmp_path / "activity_wide.parquet")
    assert load_file(warehouse, tmp_path / "activity_wide.parquet").message.startswith(
        "activity_wide.parquet has too many columns to load: 13")
    assert load_settings().max_columns == 500


def _workbook(path, header, rows_):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows_:
        sheet.append(row)
    workbook.save(path)
    return path


def test_an_xlsx_zip_bomb_is_refused_from_its_declared_sizes_without_opening(tmp_path, monkeypatch):
    warehouse = _loaded(tmp_path)
    path = _workbook(tmp_path / "activity.xlsx", ["activity_id", "pregnancy_id", "service",
                                                  "activity_type", "activity_date"],
                     [["A1", "P1", "gp", "contact", "2024-01-10"]])
    # a 50 MB member of zeros deflates to about 50 KB: the workbook unpacks to ~1000 times its size
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("xl/media/padding.bin", bytes(50_000_000))
    file_size = path.stat().st_size
    assert file_size < 200_000
    monkeypatch.setattr(openpyxl, "load_workbook",
                        lambda *a, **k: pytest.fail("opened a workbook over its limit"))
    summary = load_file(warehouse, path)
    assert summary.outcome == "refused"
    limit = 20 * file_size
    assert re.fullmatch(
        r"activity\.xlsx is too big to load: it unpacks to 50 MB, more than its limit of "
        + re.escape(size_words(limit)) + r" \(20 times the file's size, at most 4 GiB; settings "
        r"PATHWAY_XLSX_MAX_RATIO and PATHWAY_XLSX_MAX_BYTES\)", summary.message), summary.message


def test_an_ordinary_xlsx_is_within_its_limit(tmp_path):
    warehouse = _loaded(tmp_path)
    path = _workbook(tmp_path / "activity.xlsx", ["activity_id", "pregnancy_id", "service",
                                                  "activity_type", "activity_date"],
                     [["A1", "P1", "gp", "contact", "2024-01-10"]])
    assert load_file(warehouse, path).rows_loaded == 1
    # at most 4 GiB however large the file
    limits = Limits.from_settings(load_settings())
    assert (limits.xlsx_limit(1000), limits.xlsx_limit(1 << 30)) == (20_000, 4 << 30)


def test_dashboard_upload_enforces_its_own_limit_and_safe_names(tmp_path):
    from pathway.web import warehouse as web_data
    from pathway.web.server import create_app

    warehouse = _warehouse(tmp_path)
    load_file(warehouse, write_areas(tmp_path))
    # registers the pages, then reads this warehouse with a 300-byte upload limit
    create_app(warehouse=warehouse, settings=load_settings().with_overrides(dashboard_upload_limit=300))
    from pathway.web.pages import data

    try:
        big = write_activity(tmp_path).read_bytes()          # 345 bytes
        payload = "data:text/csv;base64," + base64.b64encode(big).decode()
        summary, message = data.load_uploaded_file(payload, "activity.csv")
        assert summary is None and message.startswith("activity.csv is 0 MB, more than the 0 MB")
        cohort = "data:text/csv;base64," + base64.b64encode(
            write_cohort(tmp_path, rows=COHORT_ROWS[:1]).read_bytes()).decode()
        for client_name, shown in (("..", "upload.csv"), ("../../etc/cohort.csv", "cohort.csv"),
                                   ("C:\\Users\\me\\cohort x.csv", "cohort x.csv"),
                                   (".cohort.csv", "cohort.csv"),
                                   ("cohort" + "a" * 300 + ".csv", "cohort" + "a" * 90 + ".csv")):
            summary, message = data.load_uploaded_file(cohort, client_name)
            assert message is None and summary.file_name == shown, (client_name, message)
            assert summary.table == "cohort" and summary.outcome == "loaded"
        assert data.MAX_NAME_CHARACTERS == len("cohort" + "a" * 90 + ".csv")
    finally:
        create_app(warehouse=warehouse)
        web_data.configure()
        warehouse.dispose()


# ---- 9. a reload does not log its rejects again -----------------------------------------------

def test_reloading_a_file_replaces_its_rejects_rather_than_adding_them(tmp_path):
    from pathway.metrics import run_metric

    warehouse = _loaded(tmp_path)
    bad = [r[:] for r in ACTIVITY_ROWS]
    bad[1][4], bad[2][2] = "31/02/2024", "nowhere"     # lines 3 and 4
    path = write_activity(tmp_path, "activity_2024.csv", bad)
    first = load_file(warehouse, path, max_reject_rate=LENIENT)
    again = load_file(warehouse, path, max_reject_rate=LENIENT)
    assert (first.rows_rejected, again.rows_rejected) == (2, 2)
    assert rows(warehouse, "SELECT load_id, line_number, column_name FROM rejects ORDER BY 2") == [
        (again.load_id, 3, "activity_date"), (again.load_id, 4, "service")]
    # the same content under another name is the same file; a different file keeps its own
    copy = tmp_path / "activity_copy.csv"
    copy.write_bytes(path.read_bytes())
    load_file(warehouse, copy, max_reject_rate=LENIENT)
    other = [r[:] for r in ACTIVITY_ROWS]
    other[3][4] = "not a date"                          # line 5
    load_file(warehouse, write_activity(tmp_path, "activity_other.csv", other), max_reject_rate=LENIENT)
    assert rows(warehouse, "SELECT file_name, line_number FROM rejects ORDER BY 1, 2") == [
        ("activity_copy.csv", 3), ("activity_copy.csv", 4), ("activity_other.csv", 5)]
    quality = run_metric(warehouse, "data_quality", suppress=False)
    activity = quality[quality["table"] == "activity"].set_index("column")
    assert activity.loc[["activity_date", "service"], "quarantined"].tolist() == [2, 1]


# ---- 8. users' text prints as written, never as rich markup -------------------------------------

def test_headers_and_names_with_markup_or_emoji_codes_print_literally(tmp_path, capsys):
    from typer.testing import CliRunner

    from pathway.cli import _print_frame, app

    db = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    areas = tmp_path / "areas.csv"
    areas.write_text("area_code,area_name,:x: flag,[bold]notes[/bold]\n"
                     "E06000001,[red]Hartlepool :x:,1,2\n")
    runner = CliRunner()
    loaded = runner.invoke(app, ["load", str(areas), "--db", db])
    assert loaded.exit_code == 0, loaded.output
    assert "Ignored columns: :x: flag, [bold]notes[/bold]." in loaded.output
    assert "\u274c" not in loaded.output                    # the emoji :x: would become
    names = Warehouse(db).query("SELECT area_code, area_name FROM areas")
    _print_frame(names, "areas", "table", suppressed=False)
    assert "[red]Hartlepool :x:" in capsys.readouterr().out
    refused = tmp_path / "cohort_[bold]x :x:.csv"
    refused.write_text("pregnancy_id\nP1\n")
    result = runner.invoke(app, ["load", str(refused), "--db", db])
    assert result.exit_code == 1
    assert "cohort_[bold]x :x:.csv: missing required columns" in result.output


def test_line_numbers_follow_the_file_when_duckdb_reads_it_in_parallel_pieces(tmp_path):
    """A file of two or more of DuckDB's 32 MB read buffers, read by parallel threads inside
    a transaction (where row ids start from a large offset): every staged row keeps its line."""
    import duckdb

    from pathway.ingest import reading

    rows = 700_000
    path = tmp_path / "activity.csv"
    with open(path, "w") as out:
        out.write("activity_id,note\n")
        out.writelines(f"A{n},{'x' * 40}\n" for n in range(rows))
    assert path.stat().st_size > 32 << 20
    source = reading.inspect_file(path, "activity.csv", sheet=None, workdir=tmp_path)
    with duckdb.connect(config={"threads": 2}) as duck:
        duck.execute("CREATE TABLE earlier (x INTEGER)")
        duck.execute("BEGIN")
        duck.execute("INSERT INTO earlier VALUES (1)")
        reading.stage_csv(duck, source)
        first, last, count, out_of_place = duck.execute(
            f"SELECT min(line_number), max(line_number), count(*), "
            f"count(*) FILTER (WHERE c0 <> 'A' || (line_number - 2)) FROM {reading.STAGING}").fetchone()
        duck.execute("ROLLBACK")
    assert (first, last, count, out_of_place) == (2, rows + 1, rows, 0)
