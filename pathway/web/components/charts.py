"""Plotly figures in the NHS look, with intervals as error bars and meaning never carried by colour alone.

Figures are plain dicts ({"data": [...], "layout": {...}}), which dcc.Graph draws as it draws a
go.Figure: building plotly.graph_objects validates every property on every update, and that cost
more than the database in each filter change.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd
import plotly.io as pio

NHS_BLACK = "#212B32"
NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_AQUA_GREEN = "#00A499"
NHS_WARM_YELLOW = "#FFB81C"
NHS_ORANGE = "#ED8B00"
NHS_PURPLE = "#330072"
NHS_RED = "#DA291C"

# Tiers differ by pattern as well as colour (WCAG 1.4.1: not by colour alone).
TIER_STYLE = {
    "universal": {"color": NHS_BLUE, "pattern": ""},
    "targeted": {"color": NHS_AQUA_GREEN, "pattern": "/"},
    "specialist": {"color": NHS_PURPLE, "pattern": "x"},
}
SERIES_COLOURS = [NHS_BLUE, NHS_AQUA_GREEN, NHS_PURPLE, NHS_ORANGE, NHS_DARK_GREY, NHS_WARM_YELLOW]
PATTERNS = ["", "/", "x", ".", "\\", "+"]
FONT = "Frutiger, Arial, sans-serif"

# The trace types the pages draw (the cartesian bundle in assets/ has no others).
TRACE_TYPES = ("bar", "scatter", "heatmap")
# Plotly's default template as go.Figure would embed it, less the parts for plots the pages never
# draw (3D scenes, polar, ternary and geo axes): the charts look exactly as they did as go.Figures.
_UNUSED_LAYOUT = ("polar", "ternary", "scene", "geo")


def series_style(index: int) -> dict:
    """The colour and pattern of the index-th series: no two of the first 36 share both (colours cycle
    every 6 series, patterns shift by one each time the colours come round)."""
    colours, patterns = len(SERIES_COLOURS), len(PATTERNS)
    return {"color": SERIES_COLOURS[index % colours], "pattern": PATTERNS[(index + index // colours) % patterns]}


def wrapped(label, width: int = 22) -> str:
    """A long category label broken over lines (Plotly's <br>), so on a phone the labels do not take
    the plot's width: 'Specialist community perinatal mental health team' in three short lines."""
    words, lines, line = str(label).split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


# Category names on a vertical bar chart's axis longer than this go over two or more lines.
_SHORT_LABEL = 18


def plot_height(rows: int, *, per_row: int = 28, extra: int = 140, minimum: int = 320) -> int:
    """A figure height sized to its content (rows of bars or categories), never under `minimum`."""
    return max(minimum, extra + per_row * max(1, rows))


def legend_on_top(figure: dict) -> dict:
    """The legend above the plot, so it never covers axis labels (and sits where the eye starts)."""
    figure["layout"]["legend"] = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}
    # (a legend wrapped over more rows on a phone pushes the margin itself; the toolbar that would
    # sit on its first row is hidden there, assets/pathway.css)
    figure["layout"].setdefault("margin", {})["t"] = max(figure["layout"].get("margin", {}).get("t", 20), 70)
    return figure


def _template() -> dict:
    full = pio.templates[pio.templates.default].to_plotly_json()
    return {"data": {kind: full["data"][kind] for kind in TRACE_TYPES if kind in full.get("data", {})},
            "layout": {k: v for k, v in full.get("layout", {}).items() if k not in _UNUSED_LAYOUT}}


TEMPLATE = _template()


def chart(data: list[dict] | None = None, **layout: Any) -> dict:
    """A new figure: traces (each a dict with its "type") and layout properties."""
    return {"data": list(data or []), "layout": {"template": TEMPLATE, **layout}}


def numbers(values) -> list:
    """Plain floats for a trace (None where a value is missing or not a number)."""
    out = []
    for value in pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").tolist():
        out.append(None if value is None or (isinstance(value, float) and math.isnan(value)) else value)
    return out


def axis(figure: dict, name: str, **properties: Any) -> dict:
    """Set properties of one axis ("xaxis", "yaxis"), keeping those already set."""
    figure["layout"].setdefault(name, {}).update(properties)
    return figure


def _titled(text: str | None) -> dict:
    return {"title": {"text": text}} if text else {}


def styled(figure: dict, *, title: str | None = None, y_title: str | None = None,
           x_title: str | None = None, height: int = 380) -> dict:
    figure["layout"].update(
        font={"family": FONT, "size": 14, "color": "#212b32"},
        paper_bgcolor="white", plot_bgcolor="white", height=height,
        margin={"l": 60, "r": 20, "t": 40 if title else 20, "b": 60},
        hoverlabel={"font": {"family": FONT}},
    )
    if title:
        figure["layout"]["title"] = {"text": title}
    axis(figure, "xaxis", **_titled(x_title), showgrid=False, linecolor=NHS_DARK_GREY)
    axis(figure, "yaxis", **_titled(y_title), gridcolor="#e8edee", linecolor=NHS_DARK_GREY, zeroline=False)
    # Numbers on value axes with thousands separators (1,400, not 1400); category and date axes untouched.
    for name, key in (("xaxis", "x"), ("yaxis", "y")):
        if _numeric_axis(figure, key):
            figure["layout"][name].setdefault("tickformat", ",~f")
    # Below the plot, a legend ran over the x-axis labels wherever they needed more room than it
    # left them (dates on Trends at 400 px): every legend goes above the plot.
    return legend_on_top(figure) if _legend_shown(figure) else figure


def _legend_shown(figure: dict) -> bool:
    """Plotly's rule: showlegend when set, else a legend for a trace that asks for one or once
    two traces would be in it."""
    shown = figure["layout"].get("showlegend")
    if shown is not None:
        return bool(shown)
    listed = [trace.get("showlegend") for trace in figure["data"] if trace.get("showlegend", True)]
    return True in listed or len(listed) > 1


def _numeric_axis(figure: dict, key: str) -> bool:
    for trace in figure["data"]:
        values = [v for v in (trace.get(key) or []) if v is not None]
        if values:
            return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values[:50])
    return False


def horizontal_line(figure: dict, level: float, text: str, *, colour: str = NHS_DARK_BLUE,
                    dash: str | None = "dash") -> dict:
    """A line across the plot at y = level, labelled at its top left (as go.Figure.add_hline)."""
    line = {"color": colour, **({"dash": dash} if dash else {})}
    figure["layout"].setdefault("shapes", []).append(
        {"type": "line", "line": line, "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": level, "y1": level})
    # on a white ground: the label sits over the first bar wherever that bar is taller
    figure["layout"].setdefault("annotations", []).append(
        {"text": text, "showarrow": False, "xref": "x domain", "x": 0, "xanchor": "left",
         "yref": "y", "y": level, "yanchor": "bottom", "bgcolor": "rgba(255,255,255,0.85)"})
    return figure


def vertical_line(figure: dict, level: float, text: str, *, colour: str = NHS_DARK_BLUE,
                  dash: str | None = "dash") -> dict:
    """A line up the plot at x = level, labelled at its top (as go.Figure.add_vline)."""
    line = {"color": colour, **({"dash": dash} if dash else {})}
    figure["layout"].setdefault("shapes", []).append(
        {"type": "line", "line": line, "xref": "x", "x0": level, "x1": level, "yref": "y domain", "y0": 0, "y1": 1})
    figure["layout"].setdefault("annotations", []).append(
        {"text": text, "showarrow": False, "xref": "x", "x": level, "xanchor": "center",
         "yref": "y domain", "y": 1, "yanchor": "bottom"})
    return figure


def _error_bars(frame: pd.DataFrame, value: str, low: str, high: str) -> dict | None:
    if low not in frame.columns or high not in frame.columns:
        return None
    values = pd.to_numeric(frame[value], errors="coerce")
    return {"type": "data", "symmetric": False, "color": NHS_DARK_GREY, "thickness": 1.5,
            "array": numbers(pd.to_numeric(frame[high], errors="coerce") - values),
            "arrayminus": numbers(values - pd.to_numeric(frame[low], errors="coerce"))}


def bars_with_interval(frame: pd.DataFrame, *, x: str, value: str = "pct", series: str | None = None,
                       low: str = "ci_low", high: str = "ci_high", y_title: str = "% of cohort",
                       x_labels: dict | None = None, horizontal: bool = False,
                       reference_line: tuple[float, str] | None = None, height: int | None = None,
                       value_format: str = ".1f") -> dict:
    """Grouped bars with 95% intervals; each series its own colour and pattern.

    Horizontal bars are sized to their categories (one row each, labels in full, legend on top)."""
    traces = []
    groups = [(None, frame)] if series is None else list(frame.groupby(series, sort=False))
    for index, (name, rows) in enumerate(groups):
        style = TIER_STYLE.get(str(name), series_style(index))
        labels = [x_labels.get(v, v) if x_labels else v for v in rows[x]]
        if horizontal:
            labels = [wrapped(v) for v in labels]
        values = numbers(rows[value])
        # A figure hidden by disclosure control is drawn as '*' on the axis, never as a silent gap.
        hidden = [v is None for v in values]
        shown = [0 if h else v for v, h in zip(values, hidden)]
        hover = ["* (hidden by disclosure control)" if h else f"{v:{value_format}}" for v, h in zip(values, hidden)]
        trace = {
            "type": "bar", "name": str(name).capitalize() if name is not None else value,
            "x": shown if horizontal else labels, "y": labels if horizontal else shown,
            "orientation": "h" if horizontal else "v",
            "marker": {"color": style["color"], "pattern": {"shape": style["pattern"]}},
            "customdata": hover,
            "hovertemplate": "%{x}: %{customdata}<extra>%{fullData.name}</extra>" if not horizontal
            else "%{y}: %{customdata}<extra>%{fullData.name}</extra>",
        }
        if any(hidden):
            trace.update(text=["*" if h else "" for h in hidden], textposition="outside",
                         textfont={"size": 16, "color": NHS_BLACK}, cliponaxis=False)
        errors = _error_bars(rows, value, low, high)
        if errors:
            trace["error_x" if horizontal else "error_y"] = errors
        traces.append(trace)
    result = chart(traces, barmode="group", showlegend=series is not None)
    if reference_line:
        level, text = reference_line
        (vertical_line if horizontal else horizontal_line)(result, level, text)
    if not horizontal:
        # Long category names on short lines (the data keeps them whole, for hover and tests), and
        # the legend above: on a phone Plotly turns the names to fit, and turned names run under
        # a legend kept below the plot ('Preconcepti' with the rest hidden).
        categories = list(dict.fromkeys(label for trace in traces for label in trace["x"]))
        if any(len(str(c)) > _SHORT_LABEL for c in categories):
            axis(result, "xaxis", tickmode="array", tickvals=categories,
                 ticktext=[wrapped(c, _SHORT_LABEL) for c in categories])
        return styled(result, y_title=y_title, height=height or 380)
    categories = len(frame[x].unique()) if len(frame) else 1
    styled(result, x_title=y_title,
           height=height or plot_height(categories * max(1, len(groups)), per_row=22 if len(groups) > 1 else 34))
    axis(result, "yaxis", autorange="reversed", automargin=True)
    result["layout"]["margin"]["l"] = 20
    return result


def funnel_steps(labels: Sequence[str], values: Sequence[float | None], *, title_text: str = "People") -> dict:
    """A reach funnel (largest first) as horizontal bars, each labelled with its number and its share
    of the first step. Bars, not Plotly's funnel trace: the page ships Plotly's smaller cartesian
    bundle (assets/plotly-cartesian.min.js), which has no funnel trace."""
    people = numbers(list(values))
    first = people[0] if people else None
    text = ["*" if v is None else (f"{v:,.0f}" + (f" ({100.0 * v / first:.0f}%)" if first else ""))
            for v in people]
    # each number inside a long bar and just past a short one, at one size ('auto' shrank a number
    # that nearly fitted a bar to a few pixels)
    longest = max((v for v in people if v is not None), default=0)
    positions = ["inside" if v is not None and longest and v >= 0.5 * longest else "outside" for v in people]
    result = chart([{"type": "bar", "y": list(labels), "x": people, "orientation": "h", "text": text,
                      "textposition": positions, "textangle": 0, "cliponaxis": False, "marker": {"color": NHS_BLUE}, "showlegend": False,
                      "hovertemplate": "%{y}: %{x:,.0f}<extra></extra>"}])
    axis(result, "yaxis", autorange="reversed")
    # Steps named in full run across a phone's whole width and squeeze the bars to slivers:
    # on short lines (the data keeps the names whole), the figure as tall as its lines need.
    names = [str(label) for label in labels]
    ticks = [wrapped(name, _SHORT_LABEL) for name in names]
    if ticks != names:
        axis(result, "yaxis", tickmode="array", tickvals=names, ticktext=ticks)
    axis(result, "xaxis", nticks=5)
    lines = sum(tick.count("<br>") + 1 for tick in ticks)
    return styled(result, x_title=title_text, height=max(380, plot_height(lines, per_row=24, extra=150)))
