"""Plotly figures in the NHS look, with intervals as error bars and meaning never carried by colour alone."""

from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go

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


def styled(figure: go.Figure, *, title: str | None = None, y_title: str | None = None,
           x_title: str | None = None, height: int = 380) -> go.Figure:
    figure.update_layout(
        font={"family": FONT, "size": 14, "color": "#212b32"},
        paper_bgcolor="white", plot_bgcolor="white", height=height,
        margin={"l": 60, "r": 20, "t": 40 if title else 20, "b": 60},
        legend={"orientation": "h", "y": -0.2},
        title={"text": title} if title else None,
        hoverlabel={"font": {"family": FONT}},
    )
    figure.update_xaxes(title=x_title, showgrid=False, linecolor=NHS_DARK_GREY)
    figure.update_yaxes(title=y_title, gridcolor="#e8edee", linecolor=NHS_DARK_GREY, zeroline=False)
    return figure


def _error_bars(frame: pd.DataFrame, value: str, low: str, high: str) -> dict | None:
    if low not in frame.columns or high not in frame.columns:
        return None
    values = pd.to_numeric(frame[value], errors="coerce")
    return {"type": "data", "symmetric": False, "color": NHS_DARK_GREY, "thickness": 1.5,
            "array": (pd.to_numeric(frame[high], errors="coerce") - values).tolist(),
            "arrayminus": (values - pd.to_numeric(frame[low], errors="coerce")).tolist()}


def bars_with_interval(frame: pd.DataFrame, *, x: str, value: str = "pct", series: str | None = None,
                       low: str = "ci_low", high: str = "ci_high", y_title: str = "% of cohort",
                       x_labels: dict | None = None, horizontal: bool = False,
                       reference_line: tuple[float, str] | None = None) -> go.Figure:
    """Grouped bars with 95% intervals; each series its own colour and pattern."""
    figure = go.Figure()
    groups = [(None, frame)] if series is None else list(frame.groupby(series, sort=False))
    for index, (name, rows) in enumerate(groups):
        style = TIER_STYLE.get(str(name), {"color": SERIES_COLOURS[index % len(SERIES_COLOURS)],
                                           "pattern": PATTERNS[index % len(PATTERNS)]})
        labels = [x_labels.get(v, v) if x_labels else v for v in rows[x]]
        values = pd.to_numeric(rows[value], errors="coerce")
        errors = _error_bars(rows, value, low, high)
        trace = go.Bar(
            name=str(name).capitalize() if name is not None else value,
            x=values if horizontal else labels, y=labels if horizontal else values,
            orientation="h" if horizontal else "v",
            marker={"color": style["color"], "pattern": {"shape": style["pattern"]}},
            hovertemplate="%{x}: %{y:.1f}<extra>%{fullData.name}</extra>" if not horizontal else
            "%{y}: %{x:.1f}<extra>%{fullData.name}</extra>",
        )
        if errors:
            trace.update(error_x=errors) if horizontal else trace.update(error_y=errors)
        figure.add_trace(trace)
    figure.update_layout(barmode="group", showlegend=series is not None)
    if reference_line:
        level, text = reference_line
        if horizontal:
            figure.add_vline(x=level, line_dash="dash", line_color=NHS_DARK_BLUE,
                             annotation_text=text, annotation_position="top")
        else:
            figure.add_hline(y=level, line_dash="dash", line_color=NHS_DARK_BLUE,
                             annotation_text=text, annotation_position="top left")
    return styled(figure, y_title=None if horizontal else y_title, x_title=y_title if horizontal else None)


def funnel_steps(labels: Sequence[str], values: Sequence[float | None], *, title_text: str = "People") -> go.Figure:
    """A reach funnel (largest first) as horizontal bars, each labelled with its number and its share
    of the first step. Bars, not Plotly's funnel trace: the page ships Plotly's smaller cartesian
    bundle (assets/plotly-cartesian.min.js), which has no funnel trace."""
    numbers = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce")
    first = numbers.iloc[0] if len(numbers) else float("nan")
    text = ["*" if pd.isna(v) else (f"{v:,.0f}" + (f" ({100.0 * v / first:.0f}%)" if first and pd.notna(first) else ""))
            for v in numbers]
    figure = go.Figure(go.Bar(y=list(labels), x=numbers.tolist(), orientation="h", text=text,
                              textposition="auto", marker={"color": NHS_BLUE}, showlegend=False,
                              hovertemplate="%{y}: %{x:,.0f}<extra></extra>"))
    figure.update_yaxes(autorange="reversed")
    return styled(figure, x_title=title_text)
