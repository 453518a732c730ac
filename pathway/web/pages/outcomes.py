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
from pathway.web.indicators import metric_definition
from pathway.web.warehouse import fetch_metric, reference_table

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


def _measurable(measure: str) -> set[str]:
    """Instruments a measure applies to: reliable change needs ref_instruments.reliable_change,
    recovery a case threshold (contract v1.1: a scale with neither shows only mean change)."""
    instruments = reference_table("instruments")
    if instruments.empty:
        return set()
    column = "case_threshold" if measure == "Recovery" else "reliable_change"
    return set(instruments.loc[instruments[column].notna(), "instrument"])


def outcome_rows(filters: dict):
    """One row per service, instrument and measure: pct with its interval (pooled for all areas)."""
    result = fetch_metric("outcomes", metric_params(filters))
    if not result.ok or result.empty:
        return None, result
    frame = narrow(result.frame, filters, ("service",))
    long = []
    for measure, pct, numerator, denominator, low, high in MEASURES:
        measured = frame[frame["instrument"].isin(_measurable(measure))]
        if measured.empty:
            continue
        if filters["area"] == "all":
            rows = pooled(measured, ["service", "instrument"], numerator, denominator) \
                .rename(columns={numerator: "people", denominator: "out_of"})
        else:
            rows = measured.rename(columns={pct: "pct", low: "ci_low", high: "ci_high", numerator: "people",
                                         denominator: "out_of"})
        rows = rows[["service", "instrument", "people", "out_of", "pct", "ci_low", "ci_high"]].assign(measure=measure)
        long.append(rows)
    return (pd.concat(long, ignore_index=True) if long else None), result


def mean_change_card(filters: dict, where: str):
    """Scales with no confirmed threshold or reliable change (LOAF, ASQ:SE-2, KIPS...): mean change
    only, read with the scale's direction (contract v1.1)."""
    title = "Mean change where no threshold is confirmed"
    result = fetch_metric("outcomes", metric_params(filters))
    instruments = reference_table("instruments")
    if not result.ok or result.empty or instruments.empty:
        return None
    unthresholded = instruments[instruments["case_threshold"].isna() & instruments["reliable_change"].isna()]
    better = dict(zip(unthresholded["instrument"], unthresholded["higher_is_better"]))
    frame = narrow(result.frame, filters, ("service",))
    rows = frame[frame["instrument"].isin(better)]
    if filters["area"] == "all" or rows.empty:
        # a mean over areas would rest on each area's paired count: shown per area only
        return None if rows.empty else figure_card(
            "outcomes-mean-change", title, figure=None, table=None, summary="",
            empty_text="Choose an area to see the mean change of scales with no confirmed threshold.")
    labels = service_labels()
    rows = rows.assign(direction=[("higher is better" if better[i] else "lower is better")
                                  for i in rows["instrument"]],
                       service=rows["service"].map(lambda s: labels.get(s, s)))
    summary = f"Mean change in {where}: " + "; ".join(
        f"{r.service} {r.instrument} {'*' if pd.isna(r.mean_change) else f'{r.mean_change:+.1f}'} "
        f"({r.direction}, {'*' if pd.isna(r.paired) else int(r.paired)} paired)" for r in rows.itertuples()) + "."
    table = people_frame(rows[["service", "instrument", "paired", "mean_baseline", "mean_end", "mean_change",
                               "direction"]], None)
    return figure_card("outcomes-mean-change", title, figure=None, table=table, summary=summary,
                       source="No case threshold or reliable change is confirmed for these scales "
                              "(reference table instruments), so no improvement or recovery rate is given.")


def _people(value) -> str:
    return "*" if value is None or pd.isna(value) else f"{value:,.0f}"


def measure_range(rows: pd.DataFrame, measure: str) -> str:
    """One sentence per measure: its lowest and highest service and instrument (hidden figures left out)."""
    shown = rows.assign(_pct=pd.to_numeric(rows["pct"], errors="coerce")).dropna(subset=["_pct"]).sort_values("_pct")
    if shown.empty:
        return f"{measure}: every figure hidden."
    low, high = shown.iloc[0], shown.iloc[-1]
    if len(shown) == 1:
        return f"{measure} {percent_text(low.pct)} ({low.group}, of {_people(low.out_of)})."
    return (f"{measure} from {percent_text(low.pct)} ({low.group}, of {_people(low.out_of)}) to "
            f"{percent_text(high.pct)} ({high.group}, of {_people(high.out_of)}).")


def outcomes_body(filters: dict) -> list:
    names, labels = area_names(), service_labels()
    where = area_label(filters, names)
    rows, result = outcome_rows(filters)
    title = "Reliable improvement, deterioration and recovery"
    mean_change = mean_change_card(filters, where)
    if rows is not None and not rows.empty:
        # A measure with nobody to judge (no paired scores, no case at baseline) is not a 0%: leave it out.
        rows = rows[pd.to_numeric(rows["out_of"], errors="coerce").fillna(-1) != 0]
    if rows is None or rows.empty:
        return [card for card in (
            figure_card("outcomes", title, figure=None, table=None, summary="",
                        result=result if not result.ok else None,
                        empty_text="No paired baseline and end scores for this filter.",
                        empty_hint="Outcomes need a baseline and an end score of the same instrument; "
                                   "try another service or a wider period."),
            mean_change) if card is not None]
    rows = rows.assign(group=rows["service"].map(lambda s: labels.get(s, s)) + " · " + rows["instrument"])
    summary = f"Outcomes of paired scores for {period_words(filters)} in {where}, by service and instrument: " + \
        " ".join(measure_range(rows[rows["measure"] == measure], measure) for measure in rows["measure"].unique()) + \
        " Every figure, with the number of people it rests on, is in the table."
    table = people_frame(rows.drop(columns=["group"]), None)
    table = table.assign(service=table["service"].map(lambda s: labels.get(s, s)))
    return [figure_card("outcomes", title,
                        figure=bars_with_interval(rows, x="group", series="measure", horizontal=True,
                                                  y_title="% of paired scores (recovery: % of cases at baseline)"),
                        table=table, summary=summary,
                        source="First baseline and last end score of the same pregnancy, service and instrument; "
                               "reliable change and caseness thresholds from the instruments' reference table "
                               "(NHS Talking Therapies definitions). Reliable deterioration: lower is better.",
                        definition=metric_definition("outcomes", period_words(filters),
                                                     numerator="people reliably improved, reliably deteriorated, or "
                                                               "recovered (a case at baseline, not at the end)",
                                                     denominator="people with a paired baseline and end score "
                                                                 "(recovery: those who were a case at baseline)")),
            mean_change][:2 if mean_change else 1]


def layout(**query):
    filters, problems = read_filters(query)
    return page("Outcomes", "For people with a baseline and an end score: how many reliably improved, reliably "
                "deteriorated or recovered.", filters, problems, outcomes_body(filters), path=PATH,
                show=("area", "period", "service"))
