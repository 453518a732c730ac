"""Compare areas, as public-health profiles do: every area's figure for one indicator with its 95%
interval, the benchmark line and colours by significance (sortable); and an area profile (spine chart)
of every headline indicator against the range of all areas and England's published figure where loaded.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, html

from pathway.web import ids
from pathway.web.components.charts import (NHS_BLACK, NHS_DARK_BLUE, NHS_DARK_GREY, axis, chart, plot_height, styled,
                                           vertical_line, wrapped)
from pathway.web.components.figure_card import figure_card, loading
from pathway.web.components.page import area_label, area_names, page, period_words
from pathway.web.components.summaries import percent_text
from pathway.web.components.tables import people_frame
from pathway.web.filters import filters_from_query, metric_params, read_filters
from pathway.web.indicators import COMPARISON_STYLE, INDICATORS, area_values, definition_panel, judged, \
    polarity_words, significance_key
from pathway.web.pages._pickers import chosen_measure, keep_measure_in_url
from pathway.web.warehouse import fetch_metric

PATH = "/compare"
dash.register_page(__name__, path=PATH, name="Compare areas", title="Compare areas - Perinatal Pathway Analytics",
                   order=7.5, description="Every area's figure against the benchmark, and an area profile")

SORTS = {"value_desc": "Highest first", "value_asc": "Lowest first", "name": "Area name"}
# Comparison markers differ by shape as well as colour (WCAG 1.4.1).
COMPARISON_SYMBOL = {"better": "circle", "similar": "diamond", "worse": "square", "higher": "triangle-up",
                     "lower": "triangle-down", "not compared": "x"}


def england_value(indicator) -> tuple[float | None, str | None]:
    """England's latest published figure for the indicator, when a benchmarks file with it is loaded."""
    from pathway.published import latest_published

    if not indicator.published:
        return None, None
    published = fetch_metric("benchmarks")
    if not published.ok or published.empty:
        return None, None
    picks = [p for p in latest_published(published.frame[published.frame["metric"] == indicator.published])
             if p["level"] == "national"]
    return (float(picks[0]["pct"]), str(picks[0]["period"])) if picks else (None, None)


def indicator_rows(filters: dict, key: str):
    indicator = INDICATORS[key]
    result = fetch_metric(indicator.metric, metric_params({**filters, "area": "all"}))
    if not result.ok or result.empty:
        return None, None, result
    values, benchmark = area_values(result.frame, indicator)
    return values, benchmark, result


# ---- compare areas --------------------------------------------------------------------------
def compare_figure(values: pd.DataFrame, names: dict, selected: str, benchmark: float | None,
                   england: float | None) -> dict:
    """One horizontal bar per area, coloured and patterned by its comparison, with its 95% interval."""
    traces = []
    labels = [wrapped(names.get(c, c)) for c in values["area_code"]]
    for kind, style in COMPARISON_STYLE.items():
        rows = values[values["comparison"] == kind]
        if rows.empty:
            continue
        value = pd.to_numeric(rows["value"], errors="coerce")
        traces.append({
            "type": "bar", "orientation": "h", "name": style["text"],
            "y": [wrapped(names.get(c, c)) for c in rows["area_code"]],
            "x": [0 if pd.isna(v) else v for v in value],
            "text": ["*" if pd.isna(v) else "" for v in value], "textposition": "outside", "cliponaxis": False,
            "marker": {"color": style["color"], "pattern": {"shape": style["pattern"]},
                       "line": {"color": [NHS_BLACK if c == selected else style["color"] for c in rows["area_code"]],
                                "width": [3 if c == selected else 0 for c in rows["area_code"]]}},
            "error_x": {"type": "data", "symmetric": False, "color": NHS_DARK_GREY, "thickness": 1.5,
                        "array": (pd.to_numeric(rows["ci_high"], errors="coerce") - value).tolist(),
                        "arrayminus": (value - pd.to_numeric(rows["ci_low"], errors="coerce")).tolist()},
            "customdata": [percent_text(v) for v in value],
            "hovertemplate": "%{y}: %{customdata}<extra>" + style["text"] + "</extra>"})
    figure = chart(traces, barmode="overlay")
    # The benchmark lines are named in the legend (a label on the plot would sit on the legend).
    for level, name, colour, dash in ((benchmark, "All areas", NHS_DARK_BLUE, "dash"),
                                      (england, "England (published)", NHS_BLACK, "dot")):
        if level is None:
            continue
        vertical_line(figure, level, "", colour=colour, dash=dash)
        figure["layout"]["annotations"].pop()
        figure["data"].append({"type": "scatter", "x": [None], "y": [None], "mode": "lines", "hoverinfo": "skip",
                               "name": f"{name} {percent_text(level)}", "line": {"color": colour, "dash": dash}})
    styled(figure, x_title="%", height=plot_height(len(labels), per_row=30, extra=170))
    axis(figure, "yaxis", categoryorder="array", categoryarray=labels, autorange="reversed", automargin=True)
    figure["layout"]["margin"]["l"] = 20
    figure["layout"]["legend"] = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}
    figure["layout"]["margin"]["t"] = 80
    return figure


def sorted_values(values: pd.DataFrame, names: dict, sort: str) -> pd.DataFrame:
    if sort == "name":
        return values.assign(_k=values["area_code"].map(lambda c: names.get(c, c))).sort_values("_k").drop(columns="_k")
    return values.sort_values("value", ascending=sort == "value_asc", na_position="last", kind="stable")


def compare_card(filters: dict, key: str, sort: str = "value_desc"):
    indicator = INDICATORS[key]
    names = area_names()
    values, benchmark, result = indicator_rows(filters, key)
    if values is None or values.empty:
        return figure_card("compare-areas", indicator.label, figure=None, table=None, summary="", result=result)
    england, england_period = england_value(indicator)
    values = sorted_values(values, names, sort)
    counts = values["comparison"].value_counts()
    summary = (f"{indicator.label}, {period_words(filters)}, {len(values)} areas against all areas "
               f"({percent_text(benchmark)}): " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ". "
               + (f"England's published figure: {percent_text(england)} ({england_period}). " if england is not None
                  else "")
               + "Highest: " + ", ".join(f"{names.get(r.area_code, r.area_code)} {percent_text(r.value)}"
                                          for r in values.dropna(subset=["value"]).nlargest(3, "value").itertuples())
               + ". Every area is in the table.")
    table = values.assign(area_name=values["area_code"].map(lambda c: names.get(c, c)))[
        ["area_code", "area_name", "numerator", "denominator", "value", "ci_low", "ci_high", "comparison"]]
    return figure_card(
        "compare-areas", f"{indicator.label}: every area", figure=compare_figure(values, names, filters["area"],
                                                                                 benchmark, england),
        table=people_frame(table, None), summary=summary,
        extra=html.Div([html.P(html.Strong(polarity_words(indicator) + "."), className="pathway-polarity mb-1"),
                        significance_key(indicator.polarity)]),
        source="Benchmark: all areas pooled from their shown counts; the comparison asks whether the 95% Wilson "
               "interval includes it (Fingertips' method). Dotted line: England's published figure, where loaded.",
        definition=definition_panel(indicator, period_words(filters)))


# ---- the area profile (spine chart) ------------------------------------------------------------
def profile_rows(filters: dict) -> pd.DataFrame:
    """One row per headline indicator: the area's value and comparison, the benchmark (England where
    published, else all areas), and the spread of all areas (lowest, quartiles, highest)."""
    rows = []
    area = filters["area"]
    for key, indicator in INDICATORS.items():
        values, pooled_benchmark, _ = indicator_rows(filters, key)
        if values is None or values.empty:
            continue
        england, _period = england_value(indicator)
        benchmark = england if england is not None else pooled_benchmark
        shown = pd.to_numeric(values["value"], errors="coerce").dropna()
        own = values[values["area_code"] == area]
        value = float(own["value"].iloc[0]) if len(own) and pd.notna(own["value"].iloc[0]) else None
        comparison = "not compared"
        if len(own) and value is not None and benchmark is not None:
            from pathway.statistics import compare_to_benchmark
            comparison = judged(str(compare_to_benchmark(value, own["ci_low"].iloc[0], own["ci_high"].iloc[0],
                                                         benchmark)), indicator.polarity)
        rows.append({"indicator": indicator.label, "key": key, "polarity": indicator.polarity,
                     "count": own["numerator"].iloc[0] if len(own) else None,
                     "value": value, "benchmark": benchmark,
                     "benchmark_is": "England (published)" if england is not None else "All areas",
                     "lowest": shown.min() if len(shown) else None, "q1": shown.quantile(0.25) if len(shown) else None,
                     "q3": shown.quantile(0.75) if len(shown) else None, "highest": shown.max() if len(shown) else None,
                     "comparison": comparison})
    return pd.DataFrame(rows)


def _scaled(value, benchmark, half, flip):
    if value is None or pd.isna(value) or benchmark is None:
        return None
    position = 0.5 + (value - benchmark) / (2 * half)
    return 1 - position if flip else position


def spine_figure(rows: pd.DataFrame) -> dict:
    """Fingertips' spine chart: each indicator's range of areas (light grey), middle half (dark grey) and
    the area (a marker by significance) on a scale centred on the benchmark, worse to the left."""
    labels, bars = [wrapped(i) for i in rows["indicator"]], {"range": ([], []), "middle": ([], [])}
    points = {kind: ([], []) for kind in COMPARISON_STYLE}
    for r in rows.itertuples():
        if r.benchmark is None or pd.isna(r.lowest):
            for part in bars.values():
                part[0].append(None), part[1].append(None)
            continue
        half = max(abs(r.benchmark - r.lowest), abs(r.highest - r.benchmark), 1e-9)
        flip = r.polarity == "low is good"
        for part, (low, high) in (("range", (r.lowest, r.highest)), ("middle", (r.q1, r.q3))):
            a, b = sorted((_scaled(low, r.benchmark, half, flip), _scaled(high, r.benchmark, half, flip)))
            bars[part][0].append(a), bars[part][1].append(b - a)
        if r.value is not None:
            points[r.comparison][0].append(_scaled(r.value, r.benchmark, half, flip))
            points[r.comparison][1].append(wrapped(r.indicator))
    traces = [{"type": "bar", "orientation": "h", "y": labels, "base": bars[part][0], "x": bars[part][1],
               "name": name, "marker": {"color": colour}, "hoverinfo": "skip", "width": width}
              for part, name, colour, width in (("range", "Range of areas (lowest to highest)", "#D8DDE0", 0.6),
                                                ("middle", "Middle half of areas (25th to 75th percentile)",
                                                 "#768692", 0.6))]
    for kind, (x, y) in points.items():
        if x:
            traces.append({"type": "scatter", "mode": "markers", "x": x, "y": y, "name": "This area: " +
                           COMPARISON_STYLE[kind]["text"].lower(),
                           "marker": {"color": COMPARISON_STYLE[kind]["color"], "size": 14,
                                      "symbol": COMPARISON_SYMBOL[kind], "line": {"color": NHS_BLACK, "width": 1}},
                           "hoverinfo": "skip"})
    figure = chart(traces, barmode="overlay")
    figure["layout"].setdefault("shapes", []).append(
        {"type": "line", "xref": "x", "x0": 0.5, "x1": 0.5, "yref": "paper", "y0": 0, "y1": 1,
         "line": {"color": NHS_DARK_BLUE, "width": 2}})
    styled(figure, height=plot_height(len(labels), per_row=44, extra=190))
    axis(figure, "xaxis", range=[-0.02, 1.02], tickvals=[0, 0.5, 1], ticktext=["Worse", "Benchmark", "Better"],
         showgrid=False)
    axis(figure, "yaxis", autorange="reversed", automargin=True, categoryorder="array", categoryarray=labels)
    figure["layout"]["margin"]["l"] = 20
    figure["layout"]["legend"] = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}
    figure["layout"]["margin"]["t"] = 110
    return figure


def profile_card(filters: dict):
    names = area_names()
    where = area_label(filters, names)
    rows = profile_rows(filters)
    title = f"Area profile: {where}"
    if rows.empty:
        return figure_card("area-profile", title, figure=None, table=None, summary="")
    chosen = filters["area"] != "all" and rows["value"].notna().any()
    summary = (f"Each headline indicator for {period_words(filters)}: "
               + "; ".join(f"{r.indicator} {percent_text(r.value) + ' (' + r.comparison + '), ' if chosen else ''}"
                           f"{r.benchmark_is.lower()} {percent_text(r.benchmark)}, areas from "
                           f"{percent_text(r.lowest)} to {percent_text(r.highest)}" for r in rows.itertuples()) + ".")
    if not chosen:
        summary += (" Choose an area or ICB in the filter to mark it on the profile"
                    + (" (an ICB is compared with areas, so its marker is not drawn)." if filters["area"] != "all"
                       else "."))
    table = rows[["indicator", "count", "value", "benchmark", "benchmark_is", "lowest", "q1", "q3", "highest",
                  "comparison"]].rename(columns={"q1": "25th percentile", "q3": "75th percentile",
                                                 "benchmark_is": "benchmark from", "value": "this area"})
    return figure_card("area-profile", title, figure=spine_figure(rows), table=people_frame(table, None),
                       summary=summary, extra=significance_key(),
                       source="Spine chart as in OHID's Fingertips profiles: each row is scaled so the benchmark "
                              "(the vertical line: England's published figure where loaded, else all areas) is in the "
                              "middle and the area furthest from it at the edge; worse is always to the left. Light "
                              "grey: lowest to highest area; dark grey: the middle half of areas.")


@callback(Output(ids.COMPARE_CARD, "children"), Input(ids.COMPARE_SORT, "value"), State(ids.URL, "search"),
          prevent_initial_call=True)
def sort_compare_areas(sort, search):
    filters = filters_from_query(search)
    options = [{"value": key} for key in INDICATORS]
    return compare_card(filters, chosen_measure(filters, options), sort if sort in SORTS else "value_desc")


def layout(**query):
    filters, problems = read_filters(query)
    options = [{"label": indicator.label, "value": key} for key, indicator in INDICATORS.items()]
    chosen = chosen_measure(filters, options)
    body = [
        profile_card(filters),
        dbc.Row([
            dbc.Col([dbc.Label("Indicator", html_for=ids.COMPARE_METRIC, className="pathway-filter__label"),
                     dbc.Select(id=ids.COMPARE_METRIC, options=options, value=chosen)], xs=12, md=6),
            dbc.Col([dbc.Label("Sort areas", html_for=ids.COMPARE_SORT, className="pathway-filter__label"),
                     dbc.Select(id=ids.COMPARE_SORT, value="value_desc",
                                options=[{"label": v, "value": k} for k, v in SORTS.items()])], xs=12, md=6),
        ], className="g-2 mb-3", style={"maxWidth": "48rem"}),
        loading(compare_card(filters, chosen), ids.COMPARE_CARD),
    ]
    return page("Compare areas", "Every area's figure for one indicator against the benchmark, and the chosen "
                "area's profile across every headline indicator, as OHID's Fingertips profiles show them.",
                filters, problems, body, path=PATH, show=("area", "period"))


keep_measure_in_url(ids.COMPARE_METRIC)
