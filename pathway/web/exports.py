"""Downloads of a figure's aggregate table as CSV and XLSX, with spreadsheet formulas made inert.

The rows arrive already suppressed by the disclosure policy ('*' for hidden counts); this module
only writes them, so a download always shows what the screen shows.
"""

from __future__ import annotations

import io
import re
from typing import Any, Iterable, Mapping

import pandas as pd

# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): = + - @, tab, carriage return.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def inert(value: Any) -> Any:
    """The value, with a leading apostrophe if a spreadsheet would read it as a formula.

    Plain numbers ('-3.5') are left alone: a negative gap is data, not a formula.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame whose text cells and column names cannot run as spreadsheet formulas."""
    out = frame.copy()
    out.columns = [inert(str(c)) for c in out.columns]
    for column in out.columns:
        # Text may be object or pandas' string dtype; both are checked cell by cell.
        if pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].astype(object).map(inert)
    return out


def frame_from_records(records: Iterable[Mapping[str, Any]] | None, columns: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(list(records or []))
    if columns:
        frame = frame.reindex(columns=[c for c in columns if c in frame.columns] or columns)
    return frame


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel reads names and '£' correctly."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    buffer = io.BytesIO()
    # Excel limits sheet names to 31 characters and forbids a few symbols.
    safe_sheet = re.sub(r"[\[\]\*\?/\\:]", " ", sheet_name)[:31] or "data"
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_formulas(frame).to_excel(writer, index=False, sheet_name=safe_sheet)
    return buffer.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]+", "-", str(text)).strip("-")


def download_name(card_id: str, extension: str, context: Mapping[str, Any] | None = None) -> str:
    """pathway-<figure>[-<area>-<from>-to-<to>].<extension>: a saved file says what it covers."""
    stem = _slug(card_id) or "figure"
    if context:
        area = _slug(context.get("area_code") or "all") or "all"
        stem += f"-{area}"
        if context.get("from") and context.get("to"):
            stem += f"-{_slug(context['from'])}-to-{_slug(context['to'])}"
    return f"pathway-{stem}.{extension}"


# The columns a download carries before the figures: what the rows cover.
CONTEXT_COLUMNS = {"area_code": "filter_area_code", "area_name": "filter_area_name", "from": "births_from",
                   "to": "births_to", "as_at": "data_cut_off"}


def with_context(frame: pd.DataFrame, context: Mapping[str, Any] | None) -> pd.DataFrame:
    """The rows with the area, the births period and the data cut-off as their first columns."""
    if not context:
        return frame
    out = frame.copy()
    for position, (key, column) in enumerate(CONTEXT_COLUMNS.items()):
        if column not in out.columns:
            out.insert(position, column, context.get(key) or "")
    return out
