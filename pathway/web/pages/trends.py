"""Trends: a monthly series with its statistical process control limits (XmR chart, NHS 'Making
Data Count') and special-cause points marked by shape and words, not colour alone."""

from __future__ import annotations

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, html

from pathway.web import ids
from pathway.web.components.charts import NHS_BLUE, NHS_DARK_GREY, NHS_ORANGE, styled
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page
from pathway.web.components.tables import people_frame
from pathway.web.filters import filters_from_query, metric_params, read_filters
from pathway.web.pages._pickers import metric_choices, metric_picker
from pathway.web.warehouse import fetch_metric

PATH = "/trends"
dash.register_page(__name__, path=PATH, name="Trends", title="Trends - Perinatal Pathway Analytics", order=6,
                   description="Monthly series with SPC limits")


def _column(frame: pd.DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def spc_figure(frame: pd.DataFrame) -> go.Figure:
    value = _column(frame, "value", "metric_value", "pct")
    upper = _column(frame, "upper_limit", "upper_process_limit", "upper")
    lower = _column(frame, "lower_limit", "lower_process_limit", "lower")
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=frame["month"], y=frame[value], mode="lines+markers", name="Monthly value",
                                line={"color": NHS_BLUE}, marker={"size": 7}))
    figure.add_trace(go.Scatter(x=frame["month"], y=frame["mean"], mode="lines", name="Mean",
                                line={"color": NHS_DARK_GREY}))
    for column, name in ((upper, "Upper process limit"), (lower, "Lower process limit")):
        if column:
            figure.add_trace(go.Scatter(x=frame["month"], y=frame[column], mode="lines", name=name,
                                        line={"color": NHS_DARK_GREY, "dash": "dash"}))
    special = frame[frame["special_cause"].fillna(False).astype(bool)] if "special_cause" in frame.columns else frame.iloc[0:0]
    if not special.empty:
        figure.add_trace(go.Scatter(x=special["month"], y=special[value], mode="markers", name="Special cause",
                                    marker={"color": NHS_ORANGE, "size": 14, "symbol": "diamond-open",
                                            "line": {"width": 3}}))
    return styled(figure, y_title="Value", x_title="Month")


def trend_card(filters: dict, metric: str | None):
    result = fetch_metric("trend", metric_params(filters, metric=metric, stage=filters.get("stage"),
                                                 tier=filters.get("tier"), service=filters.get("service")))
    title = "Monthly trend with process limits"
    if not result.ok or result.empty:
        return figure_card("trend", title, figure=None, table=None, summary="", result=result)
    frame = result.frame
    if frame["area_code"].nunique() > 1:
        # One series per chart: an SPC chart of several areas at once would mix their processes.
        if filters["area"] in set(frame["area_code"]):
            frame = frame[frame["area_code"] == filters["area"]]
        else:
            return figure_card("trend", title, figure=None, table=None, summary="",
                               empty_text="Choose an area or ICB in the filter to see its monthly trend.")
    frame = frame.sort_values("month")
    value = _column(frame, "value", "metric_value", "pct")
    special = frame[frame["special_cause"].fillna(False).astype(bool)] if "special_cause" in frame.columns else frame.iloc[0:0]
    where = area_label(filters, area_names())
    summary = (f"{metric or 'The measure'} by month in {where}: {len(frame)} months, mean "
               f"{pd.to_numeric(frame['mean'], errors='coerce').iloc[-1]:.1f}. "
               + (f"Special-cause variation in {', '.join(map(str, special['month']))}." if not special.empty
                  else "No special-cause variation: only common-cause variation."))
    return figure_card("trend", title, figure=spc_figure(frame), table=people_frame(frame, None), summary=summary,
                       source="XmR chart: mean ± 2.66 × mean moving range; special cause: a point outside the limits, "
                              "a run of 7 on one side, 6 rising or falling, or 2 of 3 near a limit (value column: "
                              f"{value}).")


@callback(Output("trend-card", "children"), Input(ids.TRENDS_METRIC, "value"), State(ids.URL, "search"),
          prevent_initial_call=True)
def change_trend_metric(metric, search):
    return trend_card(filters_from_query(search), metric)


def layout(**query):
    filters, problems = read_filters(query)
    options = metric_choices("trend")
    chosen = options[0]["value"] if options else None
    body = [metric_picker(ids.TRENDS_METRIC, "Measure", options, chosen),
            html.Div(trend_card(filters, chosen), id="trend-card")]
    return page("Trends", "Month by month, with process limits that show which changes are more than "
                "common-cause variation.", filters, problems, body, path=PATH, show=("area", "period", "stage", "tier", "service"))
