"""Reading an extract file (CSV, XLSX, Parquet) into a DuckDB staging table, all as text.

The file is never pulled into pandas: CSV and Parquet are read by DuckDB itself, XLSX is
streamed row by row. Staging columns are named c0, c1, ... in header order, so no header
text from a user's file is ever written into SQL; line_number is the row's file line
(the header is line 1). Inside a transaction DuckDB numbers a new table's rows from a large
offset, so a row's line is its rowid's distance from the first row's (_stage_in_file_order).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from pathway.ingest.limits import Limits
from pathway.load_log import file_sha256

STAGING = "load_staging"
STAGED_ROWS = "load_staged_rows"   # under the staging view of a CSV or Parquet file
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
# Excel counts days from 1899-12-30 (which also absorbs its 1900 leap-year bug).
EXCEL_EPOCH = dt.date(1899, 12, 30)
UK_TIME_ZONE = "Europe/London"
_CHUNK_BYTES = 8 << 20
_CSV_BATCH_ROWS = 50_000
_QUOTE, _NEWLINE, _RETURN = ord('"'), ord("\n"), ord("\r")
_XLSX_CHUNK_ROWS = 50_000
_NUL_STAND_IN = "\ue000"


class Unreadable(Exception):
    """The file cannot be read as an extract; the message says why, for people."""


@dataclass
class SourceFile:
    path: Path
    display_name: str
    format: str                       # csv | xlsx | parquet
    sha256: str
    headers: list[str]
    encoding: str | None = None       # 'utf-8', 'utf-8 (with BOM)' or 'windows-1252'
    delimiter: str | None = None      # ',', ';' or '\t'
    sheet: str | None = None
    readable_path: Path | None = None  # a UTF-8 copy when the original needed transcoding
    codec: str | None = None          # the Python codec of a CSV
    quoted_newlines: bool = False     # a quoted CSV field holds a line break
    column_types: list[str] | None = None   # Parquet: DuckDB's type of each column
    temp_files: list[Path] = field(default_factory=list)


def inspect_file(path: Path, display_name: str, *, sheet: str | None, workdir: Path,
                 limits: Limits | None = None) -> SourceFile:
    """Checksum the file, find its format, encoding, delimiter and header (cheap, streamed).

    With limits, a file too big or too wide is refused before it is read (limits.TooBig)."""
    if not path.exists():
        raise Unreadable(f"{display_name} cannot be read: there is no such file")
    if path.is_dir():
        raise Unreadable(f"{display_name} cannot be read: it is a folder, not a file")
    if limits is not None:
        limits.check_file_size(display_name, path.stat().st_size)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _inspect_csv(path, display_name, workdir, limits)
    if suffix in XLSX_SUFFIXES:
        if limits is not None:
            limits.check_xlsx(display_name, path)
        source = _inspect_xlsx(path, display_name, sheet)
    elif suffix in PARQUET_SUFFIXES:
        source = _inspect_parquet(path, display_name)
    else:
        source = None
    if source is not None:
        if limits is not None:
            limits.check_columns(display_name, len(source.headers))
        return source
    raise Unreadable(f"{display_name} is not a supported format ({suffix or 'no extension'}): "
                     "use .csv, .txt, .tsv, .xlsx or .parquet")


# ---- CSV ----------------------------------------------------------------------------

def _inspect_csv(path: Path, display_name: str, workdir: Path,
                 limits: Limits | None) -> SourceFile:
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8, has_blank_lines, size, tail = True, False, 0, b""
    first, quote_parity, quoted_newline = b"", 0, False
    # The checksum on a second core while this one looks for line breaks and quotes: hashlib
    # lets go of the GIL, and the two took about as long as each other (half a second each
    # on a 870 MB file).
    with open(path, "rb") as handle, ThreadPoolExecutor(max_workers=1) as hasher:
        hashed = None
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            if hashed is not None:
                hashed.result()  # chunks go into the checksum in order
            hashed = hasher.submit(digest.update, chunk)
            size += len(chunk)
            if len(first) < 65536:
                first += chunk[:65536]
            data = np.frombuffer(chunk, dtype=np.uint8)
            newlines = np.flatnonzero(data == _NEWLINE)
            if not quoted_newline and (quote_parity or b'"' in chunk):
                quoted_newline, quote_parity = _quoted_line_break(data, newlines, quote_parity)
            # ASCII is UTF-8; only other chunks need decoding (a character cut at a chunk's
            # end leaves the decoder waiting, and the next chunk then is not ASCII)
            if is_utf8 and not chunk.isascii():
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
            # A blank line in the middle would shift DuckDB's row numbers off the file's lines.
            if not has_blank_lines:
                has_blank_lines = _blank_line(data, newlines) or \
                    b"\n\n" in tail + chunk[:2] or b"\n\r\n" in tail + chunk[:2]
            tail = (tail + chunk)[-2:]
        if hashed is not None:
            hashed.result()
        if quote_parity:
            quoted_newline = True   # a last line's unclosed quote: the csv module says so
        if is_utf8:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                is_utf8 = False
    if size == 0 or not first.strip():
        raise Unreadable(f"{display_name} is empty")
    has_bom = first.startswith(codecs.BOM_UTF8)
    encoding = ("utf-8 (with BOM)" if has_bom else "utf-8") if is_utf8 else "windows-1252"
    codec = ("utf-8-sig" if is_utf8 else "cp1252")
    header_bytes = first.split(b"\n", 1)[0]
    try:
        header_line = header_bytes.decode(codec).rstrip("\r")
    except UnicodeDecodeError:
        raise Unreadable(f"{display_name} cannot be read: its header is neither UTF-8 "
                         "nor Windows-1252 text") from None
    delimiter = max(DELIMITERS, key=header_line.count) if any(
        d in header_line for d in DELIMITERS) else ","
    headers = next(csv.reader([header_line], delimiter=delimiter, quotechar='"'), [])
    if not any(h.strip() for h in headers):
        raise Unreadable(f"{display_name} cannot be read: line 1 should be the header row "
                         "but it is blank")
    source = SourceFile(path=path, display_name=display_name, format="csv",
                        sha256=digest.hexdigest(), headers=headers, encoding=encoding,
                        delimiter=delimiter, codec=codec, quoted_newlines=quoted_newline)
    if limits is not None:
        limits.check_columns(display_name, len(headers))
    if quoted_newline:
        return source   # read by the csv module, which decodes and counts lines itself
    if not is_utf8 or has_blank_lines:
        source.readable_path = _rewrite_as_utf8(path, display_name, codec, delimiter,
                                                len(headers), workdir, has_blank_lines)
        source.temp_files.append(source.readable_path)
    return source


def _quoted_line_break(data: np.ndarray, newlines: np.ndarray, parity: int) -> tuple[bool, int]:
    """Whether a line break in this chunk (its bytes, and the positions of its line breaks)
    lies inside a quoted field, and the quote parity at its end (odd: a quoted field is open),
    given the parity at its start.

    RFC 4180 lets a quoted field hold line breaks; DuckDB's parallel reader cannot count
    physical lines across them. The number of double quotes before a point is odd exactly
    inside a quoted field (a doubled quote adds two), so counting is enough: numpy finds
    the quotes and counts those before each line break."""
    quotes = np.flatnonzero(data == _QUOTE)
    inside = (np.searchsorted(quotes, newlines) + parity) & 1
    return bool(inside.any()), (len(quotes) + parity) & 1


def _blank_line(data: np.ndarray, newlines: np.ndarray) -> bool:
    """Two line breaks in this chunk with nothing, or only a carriage return, between them."""
    gaps = np.diff(newlines)
    return bool((gaps == 1).any()) or bool(((gaps == 2) & (data[newlines[:-1] + 1] == _RETURN)).any())


def _rewrite_as_utf8(path: Path, display_name: str, codec: str, delimiter: str,
                     width: int, workdir: Path, fill_blank_lines: bool) -> Path:
    """A streamed UTF-8 copy; blank lines become empty rows so line numbers stay true."""
    target = workdir / (path.stem + ".utf8.csv")
    empty_row = delimiter * max(width - 1, 0) + "\n"
    try:
        with open(path, "r", encoding=codec, newline="") as source, \
                open(target, "w", encoding="utf-8", newline="") as out:
            if fill_blank_lines:
                for line in source:
                    out.write(empty_row if line in ("\n", "\r\n", "\r") else line)
            else:
                for chunk in iter(lambda: source.read(_CHUNK_BYTES), ""):
                    out.write(chunk)
    except UnicodeDecodeError as error:
        raise Unreadable(f"{display_name} cannot be read: it is neither UTF-8 nor "
                         f"Windows-1252 text (byte {error.object[error.start:error.start + 1]!r})"
                         ) from None
    return target


def _cleaned(width: int, source_sql: str) -> str:
    """Staging keeps trimmed text, blank as NULL, and drops blank rows (their line numbers stay)."""
    columns = ", ".join(f"nullif(trim(c{i}), '') AS c{i}" for i in range(width))
    return (f"CREATE OR REPLACE TEMP TABLE {STAGING} AS SELECT * FROM "
            f"(SELECT line_number, {columns} FROM ({source_sql})) WHERE {_not_blank(width)}")


def _not_blank(width: int) -> str:
    return f"coalesce({', '.join(f'c{i}' for i in range(width))}) IS NOT NULL" if width else "true"


def _stage_in_file_order(duck, width: int, select: str, params: dict) -> None:
    """Stage a file DuckDB reads itself (`select` names its columns c0, c1, ...), numbering
    each row by its place in the file, as _cleaned does.

    The rows are stored in file order (DuckDB preserves insertion order, as a numbering
    window would rely on too), so a row's line is its row id's distance from the first plus
    2 (the header is line 1). A window over ten million rows cost as much as reading them."""
    columns = ", ".join(f"nullif(trim(c{i}), '') AS c{i}" for i in range(width))
    duck.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_ROWS} AS SELECT {columns} FROM ({select})",
                 params)
    first = duck.execute(f"SELECT min(rowid) FROM {STAGED_ROWS}").fetchone()[0] or 0
    duck.execute(f"CREATE OR REPLACE TEMP VIEW {STAGING} AS SELECT rowid - {int(first)} + 2 "
                 f"AS line_number, * FROM {STAGED_ROWS} WHERE {_not_blank(width)}")


def stage_csv(duck, source: SourceFile) -> None:
    if source.quoted_newlines:
        _stage_csv_by_records(duck, source)
        return
    columns = {f"c{i}": "VARCHAR" for i in range(len(source.headers))}
    try:
        _stage_in_file_order(duck, len(source.headers),
            "SELECT * FROM read_csv($path, auto_detect=false, header=true, delim=$delimiter, "
            "quote='\"', escape='\"', comment='', columns=$columns, null_padding=true, "
            "strict_mode=true)",
            {"path": str(source.readable_path or source.path), "delimiter": source.delimiter,
             "columns": columns})
    except Exception as error:  # duckdb raises several classes for a malformed file
        raise Unreadable(f"{source.display_name} cannot be read: {_csv_problem(error)}") from None


def _csv_problem(error: Exception) -> str:
    text = str(error)
    match = re.search(r"CSV Error on Line: (\d+).*?Expected Number of Columns: (\d+) Found: (\d+)",
                      text, re.S)
    if match:
        line, expected, found = match.groups()
        return f"line {line} has {found} fields but the header has {expected}"
    match = re.search(r"CSV Error on Line: (\d+)", text)
    lines = text.strip().splitlines()
    first = lines[0] if lines else type(error).__name__
    if not match:
        return first
    # DuckDB names what is wrong after echoing the offending line ("Original Line: ..."),
    # which may hold an identifier and is never shown.
    said = [line.strip() for line in lines[1:] if line.strip()]
    why = next((line for line in said if not line.startswith("Original Line")), "").rstrip(".")
    if why.startswith("Possible fixes") or why.startswith("file ="):
        why = ""
    why = _DUCKDB_WORDS.get(why, why)
    return f"line {match.group(1)} is malformed" + (f": {why}" if why else "")


_DUCKDB_WORDS = {
    "Value with unterminated quote found":
        'a quoted field is not closed properly (a " inside a quoted field is written "")',
}


def _stage_csv_by_records(duck, source: SourceFile) -> None:
    """Stream a CSV whose quoted fields hold line breaks with the csv module, in batches.

    Each record's line_number is the file's physical line where the record starts (the line
    after the previous record's last), so messages point at what an editor shows. Values are
    cleaned here as _cleaned does in SQL (spaces trimmed, blank as NULL, blank rows dropped),
    so the batches go straight into staging: one copy of the file, as DuckDB's reader makes."""
    width, name = len(source.headers), source.display_name
    names = [f"c{i}" for i in range(width)]
    duck.execute(f"CREATE OR REPLACE TEMP TABLE {STAGING} (line_number BIGINT, "
                 + ", ".join(f"{n} VARCHAR" for n in names) + ")")
    saw_nul = [False]

    def physical_lines(handle):
        # csv (Python 3.11) refuses NUL bytes: they pass as U+E000 and are put back in the
        # record, where the row rules quarantine them (contract 7.2).
        for line in handle:
            if "\0" in line:
                saw_nul[0] = True
                line = line.replace("\0", _NUL_STAND_IN)
            yield line

    try:
        with open(source.path, encoding=source.codec or "utf-8-sig", newline="") as handle:
            reader = csv.reader(physical_lines(handle), delimiter=source.delimiter or ",",
                                quotechar='"', doublequote=True, strict=True)
            next(reader, None)            # the header
            batch: list[list] = []
            start = reader.line_num + 1
            for record in reader:
                if len(record) > width:
                    raise Unreadable(f"{name} cannot be read: line {start} has {len(record)} "
                                     f"fields but the header has {width}")
                if saw_nul[0]:
                    record = [v.replace(_NUL_STAND_IN, "\0") for v in record]
                values = [v.strip(" ") or None for v in record]   # DuckDB's trim: spaces only
                if any(v is not None for v in values):
                    batch.append([start] + values + [None] * (width - len(values)))
                saw_nul[0] = False
                start = reader.line_num + 1
                if len(batch) >= _CSV_BATCH_ROWS:
                    _append(duck, names, batch, STAGING)
                    batch = []
            if batch:
                _append(duck, names, batch, STAGING)
    except csv.Error as error:
        raise Unreadable(f"{name} cannot be read: line {start} is malformed: "
                         f"{_csv_module_problem(str(error))}") from None
    except UnicodeDecodeError as error:
        raise Unreadable(f"{name} cannot be read: it is neither UTF-8 nor Windows-1252 text "
                         f"(byte {error.object[error.start:error.start + 1]!r})") from None


def _csv_module_problem(text: str) -> str:
    """The csv module's complaint in words a person can act on."""
    if "unexpected end of data" in text or "EOF" in text:
        return "a quoted field is opened with \" but never closed before the file ends"
    if "expected after" in text:
        return "a closing \" is followed by more text before the next delimiter " \
               "(write a quote inside a quoted field as \"\")"
    return text


# ---- Parquet ------------------------------------------------------------------------

def _inspect_parquet(path: Path, display_name: str) -> SourceFile:
    import duckdb

    try:
        with duckdb.connect() as probe:
            described = probe.execute("DESCRIBE SELECT * FROM read_parquet($path)",
                                      {"path": str(path)}).fetchall()
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Unreadable(f"{display_name} cannot be read as Parquet: {first}") from None
    return SourceFile(path=path, display_name=display_name, format="parquet",
                      sha256=file_sha256(path), headers=[row[0] for row in described],
                      column_types=[row[1] for row in described])


def _parquet_text(position: int, column_type: str) -> str:
    """A Parquet column as text; timestamps as their date in UK local time (contract 7.2).

    A timestamp with a time zone (what pandas and Spark write) is an instant: its date is the
    day it was in London (2023-06-30 23:30 UTC is 2023-07-01 BST). One without a zone is
    already a local time, so its date is its own."""
    column = f"#{position + 1}"
    if column_type == "TIMESTAMP WITH TIME ZONE":
        return f"strftime(timezone('{UK_TIME_ZONE}', {column}), '%Y-%m-%d')"
    if column_type.startswith("TIMESTAMP"):
        return f"strftime(CAST({column} AS TIMESTAMP), '%Y-%m-%d')"
    return f"CAST({column} AS VARCHAR)"


def stage_parquet(duck, source: SourceFile) -> None:
    # #n is DuckDB's positional column reference: the file's own column names stay out of SQL.
    types = source.column_types or ["VARCHAR"] * len(source.headers)
    select = ", ".join(f"{_parquet_text(i, types[i])} AS c{i}" for i in range(len(source.headers)))
    try:
        _stage_in_file_order(duck, len(source.headers), f"SELECT {select} FROM read_parquet($path)",
                             {"path": str(source.path)})
    except Exception as error:
        first = str(error).strip().splitlines()[0]
        raise Unreadable(f"{source.display_name} cannot be read as Parquet: {first}") from None


# ---- XLSX ---------------------------------------------------------------------------

def _open_sheet(path: Path, display_name: str, sheet: str | None):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise Unreadable(f"{display_name} cannot be read as an Excel workbook: "
                         f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
                         ) from None
    if sheet is None:
        return workbook, workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        workbook.close()
        raise Unreadable(f"{display_name} has no sheet named {sheet!r} "
                         f"(its sheets: {', '.join(workbook.sheetnames)})")
    return workbook, workbook[sheet]


def _inspect_xlsx(path: Path, display_name: str, sheet: str | None) -> SourceFile:
    workbook, worksheet = _open_sheet(path, display_name, sheet)
    try:
        header_row = next(worksheet.iter_rows(max_row=1, values_only=True), None)
    finally:
        workbook.close()
    if not header_row or not any(v not in (None, "") for v in header_row):
        raise Unreadable(f"{display_name} is empty: its first row should be the header")
    headers = ["" if v is None else str(v) for v in header_row]
    while headers and headers[-1] == "":
        headers.pop()
    return SourceFile(path=path, display_name=display_name, format="xlsx",
                      sha256=file_sha256(path), headers=headers, sheet=worksheet.title)


def stage_xlsx(duck, source: SourceFile, date_positions: set[int]) -> None:
    """Stream the sheet into staging as text: date cells to ISO, numbers in date columns as serials."""
    width = len(source.headers)
    names = [f"c{i}" for i in range(width)]
    duck.execute("CREATE OR REPLACE TEMP TABLE load_sheet (line_number BIGINT, "
                 + ", ".join(f"{n} VARCHAR" for n in names) + ")")
    workbook, worksheet = _open_sheet(source.path, source.display_name, source.sheet)
    try:
        rows = worksheet.iter_rows(min_row=2, values_only=True)
        batch: list[list] = []
        # read-only worksheets yield empty rows for gaps, so the count is the sheet row number
        for sheet_row, row in enumerate(rows, start=2):
            values = list(row[:width]) + [None] * (width - len(row))
            batch.append([sheet_row] + [_cell_text(v, i in date_positions)
                                        for i, v in enumerate(values)])
            if len(batch) >= _XLSX_CHUNK_ROWS:
                _append(duck, names, batch)
                batch = []
        if batch:
            _append(duck, names, batch)
    finally:
        workbook.close()
    duck.execute(_cleaned(width, "SELECT * FROM load_sheet"))
    duck.execute("DROP TABLE load_sheet")


def _append(duck, names: list[str], batch: list[list], table: str = "load_sheet") -> None:
    columns = list(zip(*batch))
    chunk = pa.table({"line_number": pa.array(columns[0], type=pa.int64()),
                      **{n: pa.array(list(c), type=pa.string()) for n, c in zip(names, columns[1:])}})
    # a relation over the batch, not a registered view: registering and unregistering one per
    # batch kept memory growing with the file (10M rows: 2.7 GB against 1.3 GB read by DuckDB)
    duck.from_arrow(chunk).insert_into(table)


def _cell_text(value, is_date_column: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if is_date_column or value.time() == dt.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if is_date_column and float(value).is_integer():
            try:
                return (EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
            except OverflowError:
                return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return str(value)


def remove_temp_files(source: SourceFile | None) -> None:
    if source is None:
        return
    for temp in source.temp_files:
        try:
            temp.unlink()
        except OSError:
            pass


__all__ = ["SourceFile", "Unreadable", "inspect_file", "stage_csv", "stage_parquet",
           "stage_xlsx", "remove_temp_files", "file_sha256", "STAGING", "STAGED_ROWS"]
