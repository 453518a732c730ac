"""Outcomes: reliable improvement, reliable deterioration and recovery by instrument and service,
with the number of paired scores and 95% intervals."""

from __future__ import annotations

import dash
import pandas as pd

from pathway.web.components.charts import bars_with_interval
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page, period_words, service_labels
from pathway.web.components.summaries import percent_text, pooled
from pathway.web.components.tables import people_frame
from pathway.web.filters import metric_params, narrow, read_filters
from pathway.web.warehouse import fetch_metric

PATH = "/outcomes"
dash.register_page(__name__, path=PATH, name="Outcomes", title="Outcomes - Perinatal Pathway Analytics",
                   order=3, description="Reliable improvement, deterioration and recovery")

# (label, percentage column, numerator, denominator, interval columns)
MEASURES = [
    ("Reliable improvement", "reliable_improvement_pct", "reliably_improved", "paired",
     "reliable_improvement_ci_low", "reliable_improvement_ci_high"),
    ("Reliable deterioration", "reliable_deterioration_pct", "reliably_deteriorated", "paired",
     "reliable_deterioration_ci_low", "reliable_deterioration_ci_high"),
    ("Recovery", "recovered_pct", "recovered", "cases_at_baseline", "recovered_ci_low", "recovered_ci_high"),
]


def outcome_rows(filters: dict):
    """One row per service, instrument and measure: pct with its interval (pooled for all areas)."""
    result = fetch_metric("outcomes", metric_params(filters))
    if not result.ok or result.empty:
        return None, result
    frame = narrow(result.frame, filters, ("service",))
    long = []
    for measure, pct, numerator, denominator, low, high in MEASURES:
        if filters["area"] == "all":
            rows = pooled(frame, ["service", "instrument"], numerator, denominator) \
                .rename(columns={numerator: "people", denominator: "out_of"})
        else:
            rows = frame.rename(columns={pct: "pct", low: "ci_low", high: "ci_high", numerator: "people",
                                         denominator: "out_of"})
        rows = rows[["service", "instrument", "people", "out_of", "pct", "ci_low", "ci_high"]].assign(measure=measure)
        long.append(rows)
    return pd.concat(long, ignore_index=True), result


def outcomes_body(filters: dict) -> list:
    names, labels = area_names(), service_labels()
    where = area_label(filters, names)
    rows, result = outcome_rows(filters)
    title = "Reliable improvement, deterioration and recovery"
    if rows is None or rows.empty or rows["out_of"].fillna(0).eq(0).all():
        return [figure_card("outcomes", title, figure=None, table=None, summary="",
                            result=result if rows is None else None,
                            empty_text="No paired baseline and end scores for this filter.")]
    rows = rows.assign(group=rows["service"].map(lambda s: labels.get(s, s)) + " · " + rows["instrument"])
    summary = f"Outcomes of paired scores for {period_words(filters)} in {where}: " + "; ".join(
        f"{r.group} {r.measure.lower()} {percent_text(r.pct)} of "
        f"{'*' if pd.isna(r.out_of) else int(r.out_of)}" for r in rows.itertuples()) + "."
    return [figure_card("outcomes", title,
                        figure=bars_with_interval(rows, x="group", series="measure", y_title="% of paired scores"),
                        table=people_frame(rows.drop(columns=["group"]), None), summary=summary,
                        source="First baseline and last end score of the same pregnancy, service and instrument; "
                               "reliable change and caseness thresholds from the reference table instruments "
                               "(NHS Talking Therapies definitions).")]


def layout(**query):
    filters, problems = read_filters(query)
    return page("Outcomes", "For people with a baseline and an end score: how many reliably improved, reliably "
                "deteriorated or recovered.", filters, problems, outcomes_body(filters), path=PATH,
                show=("area", "period", "service"))
