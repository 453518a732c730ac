"""What a dashboard chart sends to the browser, read back as a table of shown cells (contract 7.4).

A Plotly figure reaches the browser as JSON: every trace's x, y, z, values, base, error bars,
customdata, text and hover text, numbers at the precision they were sent. `figure_points` reads
each point's labels (categories, series name, area codes) and numbers (arrays at full precision,
and the numbers printed in its text, customdata and hover text, at their printed precision).
`figure_table` puts those numbers into the card's own table, row by row and column by column, so
the attack of pathway.disclosure_audit runs on what the chart gives away: a percentage sent as
93.30143 where the table prints 93, a figure the table does not show at all.

The rendered hover label adds nothing: a hovertemplate only formats fields (x, y, customdata,
text) that are already read here at the precision sent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pathway.disclosure_audit import Shown, parse_cell

NUMERIC_ARRAYS = ("x", "y", "z", "values", "base")
TEXT_ARRAYS = ("customdata", "text", "hovertext")
# a number as a page prints it: 1,234 / 93.3% / £1.5m / £62.2k / -0.5
_NUMBER = re.compile(r"(?<![\w.])-?£?\d[\d,]*(?:\.\d+)?(?:[km](?![a-z]))?%?")
_SUFFIX = {"k": 1_000, "m": 1_000_000}


@dataclass
class Point:
    """One point of one trace: its labels (words) and its numbers (field name -> shown cell)."""

    trace: int
    index: int
    name: str
    labels: list[str]
    numbers: dict[str, Shown] = field(default_factory=dict)
    hidden: bool = False  # drawn as '*' (a bar at 0 standing for a hidden figure)


def words(text) -> str:
    """A label as compared across a chart and a table: lower case, no line breaks or underscores."""
    text = re.sub(r"<br\s*/?>", " ", str(text))
    return " ".join(text.replace("_", " ").replace("·", " ").lower().split())


def printed_numbers(text) -> list[Shown]:
    """The numbers in a printed string, each with the precision it was printed at
    ('£2.11m' is 2,110,000 to the nearest 10,000; '93.3%' is 93.3 to 0.1)."""
    found = []
    for match in _NUMBER.finditer(str(text).replace("95% CI", "")):
        token = match.group(0)
        suffix = token.rstrip("%")[-1] if token.rstrip("%")[-1] in _SUFFIX else ""
        cell = parse_cell(token.replace(suffix, "") if suffix else token)
        if not cell.number:
            continue
        scale = _SUFFIX.get(suffix, 1)
        found.append(Shown(False, cell.value * scale, cell.step * scale))
    return found


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and not (isinstance(value, float) and math.isnan(value))


def _sent(value) -> Shown:
    """A number as JSON sends it: every digit of a float reaches the browser, so it is exact; a
    whole number (7, or 7.0) may be a figure rounded to whole units, and is read as one."""
    value = float(value)
    return Shown(False, value, 1.0 if value.is_integer() else 0.0)


def _positions_only(trace: dict) -> bool:
    """Traces whose x and y place a shape or a label on the page, not figures: map outlines, the
    map's labels, and lines nobody can hover (a funnel plot's limits around a shown benchmark)."""
    return (trace.get("fill") == "toself" or trace.get("mode") == "text"
            or (trace.get("hoverinfo") == "skip" and not trace.get("text")))


def figure_points(figure: dict | None, *, text_only: bool = False) -> list[Point]:
    """Every point of every trace. `text_only` reads only the printed strings (hover text, text,
    customdata): what the map's hover shows."""
    points: list[Point] = []
    for t, trace in enumerate((figure or {}).get("data", [])):
        name = str(trace.get("name") or "")
        arrays = {key: trace.get(key) for key in (*NUMERIC_ARRAYS, *TEXT_ARRAYS)}
        lengths = [len(v) for v in arrays.values() if isinstance(v, (list, tuple))]
        size = max(lengths) if lengths else (1 if any(isinstance(arrays[k], str) for k in TEXT_ARRAYS) else 0)
        if trace.get("fill") == "toself":
            size = 1  # one area outline: its text and customdata repeat for every vertex
        positions = _positions_only(trace)
        for i in range(size):
            point = Point(t, i, name, [name] if name else [])

            def at(key):
                value = arrays.get(key)
                if isinstance(value, (list, tuple)):
                    return value[i] if i < len(value) else None
                return value if key in TEXT_ARRAYS or key == "base" else None
            for key in NUMERIC_ARRAYS:
                value = at(key)
                if _is_number(value):
                    if not text_only and not positions:
                        point.numbers[key] = _sent(value)
                elif value is not None and key in ("x", "y", "z"):
                    point.labels.append(str(value))
            for key in TEXT_ARRAYS:
                value = at(key)
                if value is None:
                    continue
                text = str(value)
                if "*" in text:
                    point.hidden = True
                numbers = printed_numbers(text)
                for k, cell in enumerate(numbers):
                    point.numbers[f"{key} {k + 1}"] = cell
                # the words before a number ('Northmoor: 2.0% ...') or a code sent as customdata
                point.labels.append(re.split(r"[:<]", text)[0])
            if not text_only and not positions:
                for axis in ("error_y", "error_x"):
                    errors = trace.get(axis)
                    value_key = "y" if axis == "error_y" else "x"
                    if not errors or value_key not in point.numbers:
                        continue
                    centre = point.numbers[value_key].value
                    ups = errors.get("array") or []
                    downs = (errors.get("array") if errors.get("symmetric", True) else errors.get("arrayminus")) or []
                    up = ups[i] if i < len(ups) else None
                    down = downs[i] if i < len(downs) else None
                    if _is_number(up):
                        point.numbers["interval high"] = _sent(centre + float(up))
                    if _is_number(down):
                        point.numbers["interval low"] = _sent(centre - float(down))
            if point.numbers or point.hidden:
                points.append(point)
    return points


# ---- points onto the card's table -------------------------------------------------------
def _row_words(shown: pd.DataFrame, truth: pd.DataFrame) -> list[set[str]]:
    """Each row's words, one by one: its label cells, and the words of the card rows it was read
    from (a table mapped back from the words a page prints)."""
    card_words = shown.attrs.get("card_words", {})
    shown_rows, truth_rows = shown.to_numpy(dtype=object), truth.to_numpy(dtype=object)
    out = []
    for i in range(len(shown)):
        texts = [*shown_rows[i], *truth_rows[i], *card_words.get(i, ())]
        out.append({token for value in texts if isinstance(value, str) and not parse_cell(value).number
                    for token in words(value).split()})
    return out


def match_points(points: list[Point], shown: pd.DataFrame, truth: pd.DataFrame,
                 rows: list[int] | None = None) -> dict[tuple[int, int], int]:
    """(trace, point) -> the row of `shown` the point draws, by its labels (a category, a series
    name, an area code) or, when its labels are in other words than the table's ('6-8 week
    review'), by order within its trace among the rows its other labels fit."""
    rows = list(range(len(shown))) if rows is None else rows
    row_words = _row_words(shown, truth)
    known = set().union(*(row_words[r] for r in rows)) if rows else set()
    matched: dict[tuple[int, int], int] = {}
    by_trace: dict[int, list[Point]] = {}
    for p in points:
        by_trace.setdefault(p.trace, []).append(p)
    for trace_points in by_trace.values():
        unmatched = []
        for p in trace_points:
            def tokens(labels):
                return {token for label in labels if not parse_cell(label).number
                        for token in words(label).split()} & known
            # with the series name, then without it (a series of words no row prints)
            for labels in (tokens(p.labels), tokens(p.labels[1:] if p.name else p.labels)):
                fits = [r for r in rows if labels and labels <= row_words[r]]
                if len(fits) == 1:
                    matched[(p.trace, p.index)] = fits[0]
                    break
            else:
                unmatched.append((p, tokens(p.labels)))
        if not unmatched:
            continue
        # by order: the rows the trace's common labels (its series) fit, less those already drawn
        common = set.intersection(*(labels for _, labels in unmatched)) if unmatched else set()
        taken = {matched[(p.trace, p.index)] for p in trace_points if (p.trace, p.index) in matched}
        free = [r for r in rows if common <= row_words[r] and r not in taken]
        if len(free) == len(unmatched):
            for (p, _), r in zip(unmatched, free):
                matched[(p.trace, p.index)] = r
    return matched


def _column_for(values: dict[int, Shown], shown_cells: dict[str, list[Shown]], preferred: list[str]) -> str | None:
    """The table column whose printed cells allow the field's value at every point drawn."""
    best, best_n = None, 0
    for column in [c for c in preferred if c in shown_cells] + [c for c in shown_cells if c not in preferred]:
        cells = shown_cells[column]
        both = [(r, v) for r, v in values.items() if cells[r].number]
        if not both or any(not cells[r].allows(v.value) and not v.allows(cells[r].value) for r, v in both):
            continue
        if len(both) > best_n:
            best, best_n = column, len(both)
    return best


def figure_table(points: list[Point], shown: pd.DataFrame, truth: pd.DataFrame, spec,
                 rows: list[int] | None = None) -> tuple[pd.DataFrame, int, int]:
    """The card's table with what the chart sends in place of what the table prints: a field
    drawing a column the table has (at least as finely) takes that column's cells; a field the
    table does not have becomes a column of its own. Returns (table, points drawn, points that
    could not be placed on a row)."""
    matched = match_points(points, shown, truth, rows)
    table = shown.copy().astype(object)
    shown_cells = {c: [parse_cell(v) for v in table[c]] for c in table.columns}
    preferred = [p.pct for p in spec.proportions] + [c for p in spec.proportions for c in p.intervals] \
        + list(spec.counts)
    fields: dict[tuple[str, str], dict[int, Shown]] = {}
    row_words = _row_words(shown, truth)
    for p in points:
        r = matched.get((p.trace, p.index))
        if r is None or p.hidden:
            continue
        # a trace per row (an area's outline on the map) is one column across its traces
        series = "" if words(p.name) in row_words[r] else (p.name or f"trace {p.trace + 1}")
        for key, cell in p.numbers.items():
            fields.setdefault((series, key), {})[r] = cell
    for (name, key), values in fields.items():
        column = _column_for(values, shown_cells, preferred)
        if column is None:
            column = f"chart {name}: {key}" if name else f"chart: {key}"
            if column not in table.columns:
                table[column] = ""
        for r, cell in values.items():
            current = parse_cell(table.at[r, column])
            if column.startswith("chart ") or not current.number or cell.step < current.step:
                table.at[r, column] = repr(cell.value) if cell.step == 0 else _printed(cell)
    unplaced = sum(1 for p in points if (p.trace, p.index) not in matched and p.numbers and not p.hidden)
    return table, len(matched), unplaced


def _printed(cell: Shown) -> str:
    decimals = max(0, -int(math.floor(math.log10(cell.step) + 1e-9))) if cell.step < 1 else 0
    if cell.step > 1:
        return f"{cell.value:.0f}"
    return f"{cell.value:.{decimals}f}"
