"""Aggregate tables for people: suppressed cells as '*', readable headings, an accessible HTML table."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
from dash import html

SUPPRESSED = "*"
MAX_ROWS_ON_SCREEN = 200

# Headings in the commissioner's words; other columns are shown with underscores as spaces.
COLUMN_LABELS = {
    "area_code": "Area code", "area_name": "Area", "period": "Period", "stage": "Stage",
    "tier": "Tier", "service": "Service", "contact_code": "Contact", "instrument": "Instrument",
    "pct": "%", "ci_low": "95% CI low", "ci_high": "95% CI high", "cohort": "Cohort",
    "reached": "Reached", "numerator": "Numerator", "denominator": "Denominator",
    "live_births": "Live births", "pregnancies": "Pregnancies",
    "booked_by_13_weeks": "Booked by 12 weeks 6 days", "screened": "Screened",
    "accessed": "Accessed", "access_pct": "Access %", "expected_need": "Expected need",
    "need_met_pct": "Need met %", "benchmark_pct": "Benchmark %", "gap_pp": "Gap (points)",
    "unmet": "Unmet (people)", "flag": "Flag", "comparison": "Compared with benchmark",
    "rate_ratio": "Rate ratio", "dimension": "Dimension", "group": "Group",
    "benchmark_source": "Benchmark from", "rate_ratio_ci_low": "Rate ratio 95% CI low",
    "rate_ratio_ci_high": "Rate ratio 95% CI high", "reference_group": "Compared with",
    "seen_within_28_days_pct": "Seen within 28 days %", "median_days": "Median days", "p90_days": "90th percentile days",
    "service_name": "Service", "value": "Value", "people": "People", "out_of": "Out of", "measure": "Measure",
}


def label(column: str) -> str:
    return COLUMN_LABELS.get(column, column.replace("_", " ").capitalize())


def _metric_spec(metric: str | None):
    """The metric's DisclosureSpec from the catalogue (None for frames that are not one metric's rows)."""
    if not metric:
        return None
    from pathway import catalogue

    declared = catalogue.METRICS.get(metric)
    return getattr(declared, "disclosure", None)


def people_frame(frame: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """The rows as people see them: suppressed cells '*', numbers rounded for reading.

    The disclosure module decides what is suppressed (it knows each metric's columns); this only
    prints. Without it, a missing number in a suppressed frame is shown as '*'.
    """
    # the spec the metric ran with (trend's depends on its measure), else the catalogue's
    spec = frame.attrs.get("disclosure") or _metric_spec(metric)
    if spec is not None:
        try:
            from pathway.disclosure import format_for_people
            formatted = format_for_people(frame, spec)
        except Exception:  # columns the spec does not describe: the plain rule below
            formatted = None
        if formatted is not None:
            # Columns outside the spec (benchmarks, comparisons) are not suppressed: only tidied.
            for column in formatted.columns:
                if pd.api.types.is_float_dtype(formatted[column]):
                    formatted[column] = [("" if pd.isna(v) else round(float(v), 1)) for v in formatted[column]]
            return formatted
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_object_dtype(out[column]):
            out[column] = out[column].astype(object).map(_cell)
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return SUPPRESSED
    if isinstance(value, float):
        if math.isnan(value):
            return SUPPRESSED
        return round(value, 1) if not value.is_integer() else int(value)
    try:
        if pd.isna(value):
            return SUPPRESSED
    except (TypeError, ValueError):
        pass
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """JSON-safe rows for a dcc.Store (dates as ISO text, missing values as None)."""
    columns = [str(c) for c in frame.columns]
    values = []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = series.dt.strftime("%Y-%m-%d")
        values.append([_json_value(v) for v in series.tolist()])
    return [dict(zip(columns, row)) for row in zip(*values)]


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return value.isoformat() if hasattr(value, "isoformat") else value


def display(value: Any) -> str:
    """A cell as people read it: thousands separated (13,490), one decimal at most, '' when blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        if float(value).is_integer():
            return f"{int(value):,}"
        return f"{value:,.1f}"
    text = str(value)
    # Numbers that arrive as text (a formatted column) get their separators too.
    if _PLAIN_NUMBER.match(text):
        number = float(text)
        return f"{int(number):,}" if number.is_integer() and "." not in text else f"{number:,.1f}"
    return text


_PLAIN_NUMBER = re.compile(r"^-?\d{4,}(\.\d+)?$")


def _table_cell(text: str) -> dict:
    """A <td> exactly as Dash sends html.Td(text) to the browser.

    Tables of every area hold thousands of cells, and making and serialising an html.Td object
    for each took most of a filter change on the 'all areas' pages; the browser gets the same JSON.
    """
    return {"props": {"children": text}, "type": "Td", "namespace": "dash_html_components"}


def html_table(frame: pd.DataFrame, caption: str, table_id: Any = None) -> html.Div:
    """An accessible table: a caption, column headers with scope, at most MAX_ROWS_ON_SCREEN rows."""
    shown = frame.head(MAX_ROWS_ON_SCREEN)
    head = html.Thead(html.Tr([html.Th(label(str(c)), scope="col") for c in shown.columns]))
    body = html.Tbody([html.Tr([_table_cell(display(v)) for v in row])
                       for row in shown.to_numpy(dtype=object).tolist()])
    caption_text = caption
    if len(frame) > len(shown):
        caption_text += f" (first {len(shown)} of {len(frame)} rows; the download has them all)"
    table = html.Table([html.Caption(caption_text), head, body],
                       className="table table-sm pathway-table")
    # A scrolling region must be reachable by keyboard (WCAG 2.1.1), hence tabIndex and a name.
    kwargs = {"id": table_id} if table_id is not None else {}
    return html.Div(table, className="pathway-table-scroll", tabIndex="0", role="region",
                    **{"aria-label": caption}, **kwargs)
