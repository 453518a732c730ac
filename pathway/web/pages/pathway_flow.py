"""Pathway flow: screened, screen positive, referred, assessed, treated and completed, by service;
and waiting times from referral to first attended contact."""

from __future__ import annotations

import dash
import pandas as pd

from pathway.web.components.charts import (axis, bars_with_interval, chart, numbers, plot_height,
                                           series_style, styled, wrapped)
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page, period_words, service_labels
from pathway.web.components.summaries import left_out_words, percent_text, pooled
from pathway.web.components.tables import people_frame
from pathway.web.filters import metric_params, narrow, read_filters
from pathway.web.indicators import metric_definition
from pathway.web.warehouse import fetch_metric

PATH = "/pathway-flow"
dash.register_page(__name__, path=PATH, name="Pathway flow", title="Pathway flow - Perinatal Pathway Analytics",
                   order=2, description="Screening to treatment, and waiting times, by service")

STEPS = ["screened", "screen_positive", "referred", "assessed", "treated", "completed"]
STEP_LABELS = {"screened": "Screened", "screen_positive": "Screen positive", "referred": "Referred",
               "assessed": "Assessed", "treated": "Treated", "completed": "Completed"}


def flow_rows(filters: dict):
    """referral_funnel for the area; for all areas, the shown counts summed per service."""
    result = fetch_metric("referral_funnel", metric_params(filters))
    if not result.ok or result.empty:
        return None, result
    frame = narrow(result.frame, filters, ("service",))
    if filters["area"] == "all":
        left_out = left_out_words(frame, STEPS, noun="area and service rows")
        summed = frame.groupby("service", sort=False)[STEPS].apply(lambda g: g.apply(pd.to_numeric).sum(min_count=1))
        frame = summed.reset_index()
        frame.attrs["left_out"] = left_out
    return frame, result


def flow_figure(frame: pd.DataFrame, labels: dict) -> dict:
    """Services down the side, one bar per step: each step its own colour and pattern (distinct pairs)."""
    names = [wrapped(labels.get(service, service)) for service in frame["service"]]
    traces = []
    for index, step in enumerate(STEPS):
        style = series_style(index)
        traces.append({"type": "bar", "orientation": "h", "name": STEP_LABELS[step], "y": names,
                       "x": numbers(frame[step]),
                       "marker": {"color": style["color"], "pattern": {"shape": style["pattern"]}},
                       "hovertemplate": "%{y}: %{x:,.0f} " + STEP_LABELS[step].lower() + "<extra></extra>"})
    figure = styled(chart(traces, barmode="group"), x_title="People",
                    height=plot_height(len(names) * len(STEPS), per_row=9, extra=160))
    axis(figure, "xaxis", tickformat=",d")
    axis(figure, "yaxis", autorange="reversed", automargin=True)
    figure["layout"]["margin"]["l"] = 20
    return figure


def _count(value) -> str:
    return "*" if value is None or pd.isna(value) else f"{value:,.0f}"


def flow_summary(frame: pd.DataFrame, labels: dict, filters: dict, where: str) -> str:
    """A short text alternative: the people at each step over all services, then the services with most."""
    totals = {step: pd.to_numeric(frame[step], errors="coerce").sum(min_count=1) for step in STEPS}
    referred = frame.assign(referrals=pd.to_numeric(frame["referred"], errors="coerce")).sort_values("referrals", ascending=False)
    top = [f"{labels.get(r.service, r.service)} ({_count(r.referrals)})" for r in referred.head(3).itertuples() if pd.notna(r.referrals)]
    return (f"People at each step for {period_words(filters)} in {where}, over all services (hidden counts left out): "
            + ", ".join(f"{STEP_LABELS[s].lower()} {_count(totals[s])}" for s in STEPS) + ". "
            + ("Most referrals: " + ", ".join(top) + ". " if top else "")
            + "Every service's counts are in the table."
            + (f" Summed over areas from the counts shown: {frame.attrs['left_out']}." if frame.attrs.get("left_out") else ""))


def pathway_flow_body(filters: dict) -> list:
    names, labels = area_names(), service_labels()
    where = area_label(filters, names)
    frame, result = flow_rows(filters)
    cards = []
    if frame is None or frame.empty:
        cards.append(figure_card("pathway-flow", "From screening to treatment", figure=None, table=None, summary="",
                                 result=result if frame is None else None))
    else:
        table = people_frame(frame, "referral_funnel" if filters["area"] != "all" else None)
        table = table.assign(service=table["service"].map(lambda s: labels.get(s, s)))
        cards.append(figure_card("pathway-flow", "From screening to treatment, by service",
                                 figure=flow_figure(frame, labels), table=table,
                                 summary=flow_summary(frame, labels, filters, where),
                                 source="For all areas the shown (rounded) counts of each area are added up, "
                                        "leaving out hidden ones.",
                                 definition=metric_definition("referral_funnel", period_words(filters))))
    cards.append(waiting_times_card(filters, where, labels))
    return cards


def waiting_rows(filters: dict) -> tuple[pd.DataFrame | None, object]:
    """One row per service: the area's own waits, or for all areas (or an ICB's areas) the share seen within
    28 days pooled from the shown counts (medians cannot be pooled, so they are left to the table)."""
    waits = fetch_metric("waiting_times", metric_params(filters))
    if not waits.ok or waits.empty:
        return None, waits
    rows = narrow(waits.frame, filters, ("service",))
    if filters["area"] != "all" and (rows["area_code"] == filters["area"]).any():
        return rows[rows["area_code"] == filters["area"]], waits
    pooled_rows = pooled(rows, ["service"], "seen_within_28_days", "referrals") \
        .rename(columns={"pct": "seen_within_28_days_pct"})
    return pooled_rows, waits


def waiting_times_card(filters: dict, where: str, labels: dict):
    title = "Referrals seen within 28 days, by service"
    rows, waits = waiting_rows(filters)
    if rows is None or rows.empty:
        return figure_card("waiting-times", title, figure=None, table=None, summary="", result=waits)
    # A service nobody was referred to has no waits to show (not a hidden figure): left out, and said.
    no_referrals = rows[pd.to_numeric(rows["referrals"], errors="coerce") == 0]
    rows = rows[pd.to_numeric(rows["referrals"], errors="coerce") != 0]
    if rows.empty:
        return figure_card("waiting-times", title, figure=None, table=None, summary="",
                           empty_text="No referrals to any service for this filter.",
                           empty_hint="Referrals are counted from the extract's activity rows of type referral.")
    rows = rows.assign(service_name=rows["service"].map(lambda s: labels.get(s, s)))
    rows = rows.assign(_p=pd.to_numeric(rows["seen_within_28_days_pct"], errors="coerce")) \
        .sort_values("_p", ascending=False, na_position="last").drop(columns="_p")
    shown = rows.dropna(subset=["seen_within_28_days_pct"])
    summary = f"Share of referrals seen within 28 days in {where}, {period_words(filters)}: "
    if shown.empty:
        summary += "every service's figure is hidden by disclosure control."
    else:
        best, worst = shown.iloc[0], shown.iloc[-1]
        summary += (f"{len(shown)} services shown, from {best.service_name} {percent_text(best.seen_within_28_days_pct)} "
                    f"to {worst.service_name} {percent_text(worst.seen_within_28_days_pct)}. Every service, with its "
                    "median and 90th percentile days, is in the table.")
    if not no_referrals.empty:
        summary += " No referrals to: " + ", ".join(labels.get(s, s) for s in no_referrals["service"]) + "."
    table_columns = [c for c in ("service_name", "referrals", "seen", "seen_within_28_days", "seen_within_28_days_pct",
                                 "ci_low", "ci_high", "median_days", "p90_days") if c in rows.columns]
    return figure_card(
        "waiting-times", title,
        figure=bars_with_interval(rows, x="service_name", value="seen_within_28_days_pct", horizontal=True,
                                  y_title="% seen within 28 days"),
        table=people_frame(rows[table_columns], None),
        summary=summary,
        source="Seen: the first attended assessment, contact or intervention with the same service on or after "
               "the referral. For all areas the share is pooled from each area's shown counts; medians are "
               "per area and are not pooled.",
        definition=metric_definition("waiting_times", period_words(filters), numerator="referrals seen within 28 days",
                                     denominator="referrals in the period"))


def layout(**query):
    filters, problems = read_filters(query)
    return page("Pathway flow", "How many people move from screening to a positive screen, referral, assessment, "
                "treatment and completion in each service, and how long they wait.",
                filters, problems, pathway_flow_body(filters), path=PATH, show=("area", "period", "service"))
