"""Trends: a monthly series with its statistical process control limits (XmR chart, NHS 'Making
Data Count') and special-cause points marked by shape and words, not colour alone."""

from __future__ import annotations

import dash
import pandas as pd
from dash import html

from pathway.web import ids
from pathway.web.components.charts import (NHS_BLACK, NHS_BLUE, NHS_DARK_GREY, NHS_ORANGE, NHS_PURPLE, chart,
                                           numbers, styled)
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page
from pathway.web.components.tables import people_frame
from pathway.web.filters import metric_params, read_filters
from pathway.web.pages._pickers import chosen_measure, keep_measure_in_url, metric_choices, metric_picker
from pathway.web.indicators import metric_definition
from pathway.statistics import RUN_LENGTH, TREND_LENGTH
from pathway.web.warehouse import fetch_metric, reference_parameter

PATH = "/trends"
dash.register_page(__name__, path=PATH, name="Trends", title="Trends - Perinatal Pathway Analytics", order=6,
                   description="Monthly series with SPC limits")


# NHS England 'Making Data Count' variation icons, in words (the icon's meaning, never colour alone).
VARIATION_WORDS = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation of an improving nature: significantly higher",
    "improvement_low": "Special cause variation of an improving nature: significantly lower",
    "concern_high": "Special cause variation of a concerning nature: significantly higher",
    "concern_low": "Special cause variation of a concerning nature: significantly lower",
    "neither_high": "Special cause variation: significantly higher (neither better nor worse for this measure)",
    "neither_low": "Special cause variation: significantly lower (neither better nor worse for this measure)",
}
VARIATION_GLYPH = {"high": "▲", "low": "▼"}
# Special-cause points differ by shape as well as colour (WCAG 1.4.1), as the legend says.
SPECIAL_CAUSE_STYLE = {
    "improvement": ("Special cause: improvement", NHS_BLUE, "circle"),
    "concern": ("Special cause: concern", NHS_ORANGE, "diamond"),
    "neither": ("Special cause", NHS_PURPLE, "square"),
}
# run_of_7 and trend_of_6 keep their v1 column names; their lengths are reference data
# (ref_parameters spc_shift_run_length and spc_trend_run_length, default 7 each).
def rule_words() -> dict[str, str]:
    shift = reference_parameter("spc_shift_run_length") or RUN_LENGTH
    trend = reference_parameter("spc_trend_run_length") or TREND_LENGTH
    return {"outside_limits": "outside the limits", "run_of_7": f"a run of {shift:g} on one side of the mean",
            "trend_of_6": f"{trend:g} rising or falling", "two_of_three": "2 of 3 near a limit"}


def variation_words(code: str | None) -> str:
    return VARIATION_WORDS.get(str(code), "Not enough months to judge variation") if code else \
        "Not enough months to judge variation"


def variation_icon(code: str | None) -> html.P:
    """The latest month's variation, as NHS 'Making Data Count' names it, with a direction glyph."""
    glyph = VARIATION_GLYPH.get(str(code).rsplit("_", 1)[-1], "●") if code else "●"
    return html.P([html.Span(glyph, className="pathway-variation__glyph", **{"aria-hidden": "true"}), " ",
                   html.Strong("Latest month: "), variation_words(code)],
                  className="pathway-variation", id="trend-variation")


def spc_figure(frame: pd.DataFrame, value_title: str = "Value") -> dict:
    months = frame["month"].tolist()
    traces = [
        {"type": "scatter", "x": months, "y": numbers(frame["value"]), "mode": "lines+markers",
         "name": "Monthly value", "line": {"color": NHS_DARK_GREY}, "marker": {"size": 6, "color": NHS_DARK_GREY}},
        {"type": "scatter", "x": months, "y": numbers(frame["mean"]), "mode": "lines", "name": "Mean",
         "line": {"color": NHS_BLACK, "width": 1.5}},
    ]
    # One legend entry for both limits: two entries drawn alike could not be told apart.
    for column, name in (("upper_limit", "Upper process limit"), ("lower_limit", "Lower process limit")):
        traces.append({"type": "scatter", "x": months, "y": numbers(frame[column]), "mode": "lines", "name": name,
                       "line": {"color": NHS_DARK_GREY, "dash": "dash"}, "legendgroup": "limits",
                       "showlegend": column == "upper_limit",})
    traces[2]["name"] = "Process limits"
    traces[2]["hovertemplate"] = "%{x}: upper process limit %{y:,.1f}<extra></extra>"
    traces[3]["hovertemplate"] = "%{x}: lower process limit %{y:,.1f}<extra></extra>"
    special = frame[frame["special_cause"].fillna(False).astype(bool)]
    kinds = special["variation"].astype(str).str.split("_").str[0]
    for kind, (name, colour, symbol) in SPECIAL_CAUSE_STYLE.items():
        points = special[kinds == kind]
        if not points.empty:
            traces.append({"type": "scatter", "x": points["month"].tolist(), "y": numbers(points["value"]),
                           "mode": "markers", "name": name,
                           "marker": {"color": colour, "size": 13, "symbol": symbol,
                                      "line": {"width": 1.5, "color": "white"}},
                           "text": [variation_words(v) for v in points["variation"]],
                           "hovertemplate": "%{x}: %{y:.1f}<br>%{text}<extra></extra>"})
    return styled(chart(traces), y_title=value_title, x_title="Month")


def _rules(row) -> str:
    return ", ".join(words for rule, words in rule_words().items() if bool(getattr(row, rule, False)))


def trend_params(filters: dict, metric: str | None) -> dict:
    return metric_params(filters, metric=metric, stage=filters.get("stage"), tier=filters.get("tier"),
                         service=filters.get("service"))


# The measures whose monthly value is a count (births) or a share of two counts, so all areas can be
# pooled month by month; a median (waiting times) cannot be.
POOLED_VALUE = {"births": "count"}


def pooled_trend(frame: pd.DataFrame, measure: str) -> pd.DataFrame | None:
    """All areas as one series: each month's shown numerators and denominators added up (hidden ones
    left out), then the XmR limits and rules on that series. None for a measure that cannot be pooled."""
    from pathway import metrics

    if measure == "waiting_times":
        return None
    counts_only = POOLED_VALUE.get(measure) == "count"
    numerator = pd.to_numeric(frame["numerator"], errors="coerce")
    denominator = pd.to_numeric(frame["denominator"], errors="coerce")
    hidden = numerator.isna() | (denominator.isna() if not counts_only else False)
    months = pd.DataFrame({"month": frame["month"], "numerator": numerator.where(~hidden, 0),
                           "denominator": denominator.where(~hidden, 0), "hidden": hidden.astype(int)}) \
        .groupby("month", sort=True).sum().reset_index()
    if counts_only:
        months["value"] = months["numerator"]
        months["denominator"] = None
    else:
        months["value"] = (100.0 * months["numerator"] / months["denominator"].where(months["denominator"] > 0))
    months.insert(0, "area_code", "all")
    months["measure"] = measure
    limits = metrics.xmr_charts_by_area(months, improvement=metrics._IMPROVEMENT.get(measure, "up"))
    # the pooled value, mean and limits to one decimal place, as the table prints them: worked
    # out from shown counts they give nothing back, and a chart sends no more than its table
    for column in ("mean", "upper_limit", "lower_limit"):
        if column in limits.columns:
            limits[column] = pd.to_numeric(limits[column], errors="coerce").round(1)
    months["value"] = pd.to_numeric(months["value"], errors="coerce").round(1)
    return pd.concat([months, limits], axis=1)


def trend_card(filters: dict, metric: str | None):
    result = fetch_metric("trend", trend_params(filters, metric))
    title = "Monthly trend with process limits"
    if not result.ok or result.empty:
        return figure_card("trend", title, figure=None, table=None, summary="", result=result)
    frame = result.frame
    measure = str(frame["measure"].iloc[0]) if "measure" in frame.columns else (metric or "births")
    pooled_note = ""
    if frame["area_code"].nunique() > 1 or filters["area"] == "all":
        # One series per chart: an SPC chart of several areas at once would mix their processes.
        if filters["area"] in set(frame["area_code"]):
            frame = frame[frame["area_code"] == filters["area"]]
        else:
            frame = pooled_trend(frame, measure)
            if frame is None:
                return figure_card("trend", title, figure=None, table=None, summary="",
                                   empty_text="Median waiting times cannot be added up across areas.",
                                   empty_hint="Choose an area or ICB in the filter to see its monthly median wait.")
            pooled_note = (" All areas are pooled: each month adds up the areas' shown counts"
                           + (f", leaving out {int(frame['hidden'].sum())} hidden area-months." if frame["hidden"].sum()
                              else "."))
    frame = frame.sort_values("month")
    value_title = {"births": "Live births", "waiting_times": "Median days to be seen",
                   "risk_pathway.referred_antenatal": "% of families at risk referred before birth"
                   }.get(measure, "% of births")
    where = area_label(filters, area_names())
    mean = pd.to_numeric(frame["mean"], errors="coerce")
    if mean.isna().all():
        return figure_card("trend", title, figure=None, table=None, summary="",
                           empty_text=f"Every month's figure in {where} is hidden by disclosure control (counts from "
                                      "1 to 7), so no process limits can be drawn.",
                           empty_hint="Choose a larger area or the ICB, or a measure with more people a month.")
    special = frame[frame["special_cause"].fillna(False).astype(bool)]
    latest = frame["latest_variation"].dropna().iloc[-1] if frame["latest_variation"].notna().any() else None
    shown_months = int(pd.to_numeric(frame["value"], errors="coerce").notna().sum())
    # A count or a percentage cannot go below 0 (nor a percentage above 100): limits beyond are shown at
    # the bound, as the Making Data Count tools do.
    ceiling = 100.0 if measure not in ("births", "waiting_times") else float("inf")
    frame = frame.assign(lower_limit=pd.to_numeric(frame["lower_limit"], errors="coerce").clip(lower=0),
                         upper_limit=pd.to_numeric(frame["upper_limit"], errors="coerce").clip(upper=ceiling))
    few = (f" Only {shown_months} months are shown (the rest are hidden by disclosure control or have no "
           "births), fewer than the 12 that reliable limits need: read them as trial limits, or choose a "
           "larger area or a longer period." if shown_months < 12 else "")
    summary = (f"{MEASURE_WORDS.get(measure, measure.replace('_', ' ')).capitalize()} by month in {where}: "
               f"{len(frame)} months ({shown_months} shown), mean {mean.iloc[-1]:,.1f}, process limits "
               f"{frame['lower_limit'].iloc[-1]:,.1f} to {frame['upper_limit'].iloc[-1]:,.1f}.{few} "
               + ("Special-cause variation in " + "; ".join(
                   f"{r.month} ({_rules(r)})" for r in special.itertuples()) + "." if not special.empty
                  else "No special-cause variation: only common-cause variation.")
               + f" Latest month: {variation_words(latest).lower()}." + pooled_note)
    shown = frame[["area_code", "month", "numerator", "denominator", "value", "mean", "lower_limit", "upper_limit",
                   "special_cause", "variation"]].assign(
        special_cause=frame["special_cause"].map(lambda v: "yes" if v else "no"),
        variation=frame["variation"].map(lambda v: variation_words(v) if isinstance(v, str) else ""))
    return figure_card("trend", title, figure=spc_figure(frame, value_title), table=people_frame(shown, None),
                       summary=summary, extra=variation_icon(latest),
                       source="XmR chart (NHS England 'Making Data Count'): mean ± 2.66 × mean moving range; special "
                              "cause: a point outside the limits, a run of 7 on one side of the mean, 7 rising or "
                              "falling (run lengths from the reference table parameters), or 2 of 3 in the outer "
                              "third near a limit.",
                       definition=metric_definition("trend", f"{len(frame)} months ending {frame['month'].iloc[-1]}"))


# What each trend measure counts, in words (the picker's labels come from the catalogue).
MEASURE_WORDS = {"births": "live births", "waiting_times": "median days from referral to being seen",
                 "specialist_access": "specialist perinatal mental health access",
                 "stage_reach": "reach", "mood_screening": "mood screening"}


def layout(**query):
    filters, problems = read_filters(query)
    options = metric_choices("trend")
    chosen = chosen_measure(filters, options)
    body = [metric_picker(ids.TRENDS_METRIC, "Measure", options, chosen),
            html.Div(trend_card(filters, chosen), id="trend-card")]
    return page("Trends", "Month by month, with process limits that show which changes are more than "
                "common-cause variation.", filters, problems, body, path=PATH, show=("area", "period", "stage", "tier", "service"))


keep_measure_in_url(ids.TRENDS_METRIC)
