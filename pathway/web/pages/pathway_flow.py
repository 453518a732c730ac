"""Pathway flow: screened, screen positive, referred, assessed, treated and completed, by service;
and waiting times from referral to first attended contact."""

from __future__ import annotations

import dash
import pandas as pd

from pathway.web.components.charts import PATTERNS, SERIES_COLOURS, bars_with_interval, chart, numbers, styled
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page, period_words, service_labels
from pathway.web.components.summaries import left_out_words, percent_text
from pathway.web.components.tables import people_frame
from pathway.web.filters import metric_params, narrow, read_filters
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
    traces = [{"type": "bar", "name": labels.get(row.service, row.service), "x": [STEP_LABELS[s] for s in STEPS],
               "y": numbers([getattr(row, s) for s in STEPS]),
               "marker": {"color": SERIES_COLOURS[index % len(SERIES_COLOURS)],
                          "pattern": {"shape": PATTERNS[index % len(PATTERNS)]}}}
              for index, row in enumerate(frame.itertuples())]
    return styled(chart(traces, barmode="group"), y_title="People")


def pathway_flow_body(filters: dict) -> list:
    names, labels = area_names(), service_labels()
    where = area_label(filters, names)
    frame, result = flow_rows(filters)
    cards = []
    if frame is None or frame.empty:
        cards.append(figure_card("pathway-flow", "From screening to treatment", figure=None, table=None, summary="",
                                 result=result if frame is None else None))
    else:
        summary = f"People at each step for {period_words(filters)} in {where}: " + "; ".join(
            f"{labels.get(r.service, r.service)}: " + ", ".join(
                f"{STEP_LABELS[s].lower()} {'*' if pd.isna(getattr(r, s)) else int(getattr(r, s))}" for s in STEPS)
            for r in frame.itertuples()) + "." + (
            f" Summed over areas from the counts shown; {frame.attrs['left_out']}."
            if frame.attrs.get("left_out") else "")
        cards.append(figure_card("pathway-flow", "From screening to treatment, by service",
                                 figure=flow_figure(frame, labels),
                                 table=people_frame(frame, "referral_funnel" if filters["area"] != "all" else None),
                                 summary=summary, source="Contract metric referral_funnel. For all areas the shown "
                                 "(rounded) counts are added up, leaving out hidden ones."))
    waits = fetch_metric("waiting_times", metric_params(filters))
    title = "Waiting times from referral to first attended contact"
    if not waits.ok or waits.empty:
        cards.append(figure_card("waiting-times", title, figure=None, table=None, summary="", result=waits))
        return cards
    rows = narrow(waits.frame, filters, ("service",))
    if filters["area"] != "all":
        rows = rows[rows["area_code"] == filters["area"]] if (rows["area_code"] == filters["area"]).any() else rows
    rows = rows.assign(service_name=rows["service"].map(lambda s: labels.get(s, s)),
                       area_name=rows["area_code"].map(lambda c: names.get(c, c)))
    rows = rows.assign(label=rows["service_name"] + (" · " + rows["area_name"] if filters["area"] == "all" else ""))
    cards.append(figure_card(
        "waiting-times", title,
        figure=bars_with_interval(rows, x="label", value="seen_within_28_days_pct",
                                  y_title="% of referrals seen within 28 days"),
        table=people_frame(rows.drop(columns=["label"]), None),
        summary=f"Referrals seen within 28 days in {where}: " + "; ".join(
            f"{r.label} {percent_text(r.seen_within_28_days_pct)}"
            f" (median {'*' if pd.isna(r.median_days) else f'{r.median_days:.0f}'} days)"
            for r in rows.itertuples()) + ".",
        source="Days to the first attended assessment, contact or intervention with the same service on or after "
               "the referral (contract metric waiting_times)."))
    return cards


def layout(**query):
    filters, problems = read_filters(query)
    return page("Pathway flow", "How many people move from screening to a positive screen, referral, assessment, "
                "treatment and completion in each service, and how long they wait.",
                filters, problems, pathway_flow_body(filters), path=PATH, show=("area", "period", "service"))
