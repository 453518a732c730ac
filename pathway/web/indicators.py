"""The dashboard's headline indicators, each one area-level percentage of a catalogue metric, with
what a Fingertips profile says beside every indicator: its numerator and denominator in words, its
source (from the catalogue), its period, and whether higher is better (its polarity).

The map, the compare-areas chart and the area profile (spine chart) all read this one list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from dash import html

from pathway.statistics import compare_to_benchmark
from pathway.web.components.summaries import pooled


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    metric: str                   # the catalogue metric it is read from
    value: str                    # the percentage column
    numerator: str                # the count columns it rests on
    denominator: str
    numerator_words: str
    denominator_words: str
    polarity: str = "high is good"    # high is good | low is good | no judgement (Fingertips' words)
    rows: dict = field(default_factory=dict)   # which rows of the metric (column -> value)
    published: str | None = None  # the benchmarks metric name of the published England figure, if any
    domain: str = "Services and access"


INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("booked_by_13_weeks", "Booked by 12 weeks 6 days", "births", "booked_by_13_weeks_pct",
              "booked_by_13_weeks", "booking_known",
              "pregnancies with the antenatal booking appointment at or before 12 weeks 6 days of gestation",
              "pregnancies with a booking date and an estimated date of delivery, births in the period",
              published="births.booked_by_13_weeks", domain="Identification of need"),
    Indicator("antenatal_mood_screening", "Antenatal mood screening", "mood_screening", "pct", "screened", "cohort",
              "live births whose mother had a Whooley, GAD-2, EPDS or PHQ-9 score in pregnancy",
              "live births in the period with the postnatal stage followed up", rows={"stage": "antenatal"},
              domain="Identification of need"),
    Indicator("postnatal_mood_screening", "Postnatal mood screening", "mood_screening", "pct", "screened", "cohort",
              "live births whose mother had a Whooley, GAD-2, EPDS or PHQ-9 score in the first 8 weeks after birth",
              "live births in the period with the postnatal stage followed up", rows={"stage": "postnatal"},
              domain="Identification of need"),
    Indicator("antenatal_hv_contact", "Antenatal health visitor contact", "mandated_contacts", "pct", "numerator",
              "denominator", "live births with an attended health visitor contact from 28 weeks of pregnancy",
              "live births in the period", rows={"contact_code": "antenatal_hv_contact"},
              published="mandated_contacts.antenatal_hv_contact"),
    Indicator("new_birth_visit", "New birth visit within 14 days", "mandated_contacts", "pct", "numerator",
              "denominator", "babies (twins count twice) with an attended new birth visit within 14 days of birth",
              "babies born alive in the period", rows={"contact_code": "new_birth_visit"},
              published="mandated_contacts.new_birth_visit"),
    Indicator("six_eight_week_review", "6-8 week review by 8 weeks", "mandated_contacts", "pct", "numerator",
              "denominator", "babies (twins count twice) with an attended 6-8 week review by day 56",
              "babies born alive in the period", rows={"contact_code": "six_eight_week_review"},
              published="mandated_contacts.six_eight_week_review"),
    Indicator("twelve_month_review", "12-month review by 12 months", "mandated_contacts", "pct", "numerator",
              "denominator", "babies (twins count twice) with an attended 12-month review by the first birthday",
              "babies born alive in the period with a year of follow-up", rows={"contact_code": "twelve_month_review"},
              published="mandated_contacts.twelve_month_review"),
    Indicator("specialist_access", "Specialist perinatal mental health access", "specialist_access", "access_pct",
              "accessed", "live_births",
              "women with an attended assessment or intervention by a specialist perinatal mental health team, "
              "maternal mental health service or mother and baby unit, from conception to a year after birth",
              "live births in the period with a year of follow-up"),
)}

# Fingertips' significance colours (compared with the benchmark, 95% interval), each with a pattern
# so no comparison rests on colour alone.
COMPARISON_STYLE = {
    "better": {"color": "#3D9A3F", "pattern": "", "text": "Better than the benchmark"},
    "similar": {"color": "#FFC000", "pattern": ".", "text": "Similar to the benchmark"},
    "worse": {"color": "#C00000", "pattern": "x", "text": "Worse than the benchmark"},
    "higher": {"color": "#1D4D8C", "pattern": "/", "text": "Higher than the benchmark (no judgement)"},
    "lower": {"color": "#8AB4E6", "pattern": "\\", "text": "Lower than the benchmark (no judgement)"},
    "not compared": {"color": "#D8DDE0", "pattern": "", "text": "Not compared (hidden or no interval)"},
}


def judged(comparison, polarity: str):
    """higher/similar/lower turned into better/similar/worse by the indicator's polarity."""
    def one(value: str) -> str:
        if polarity == "high is good":
            return {"higher": "better", "lower": "worse"}.get(value, value)
        if polarity == "low is good":
            return {"higher": "worse", "lower": "better"}.get(value, value)
        return value
    if isinstance(comparison, (pd.Series, np.ndarray, list)):
        return [one(str(v)) for v in comparison]
    return one(str(comparison))


def polarity_words(indicator: Indicator) -> str:
    return {"high is good": "Higher is better", "low is good": "Lower is better"}.get(
        indicator.polarity, "Neither higher nor lower is better")


def area_values(frame: pd.DataFrame, indicator: Indicator) -> tuple[pd.DataFrame, float | None]:
    """One row per area (area_code, value, ci_low, ci_high, numerator, denominator, comparison) and the
    all-areas benchmark: the areas' shown counts pooled (hidden ones left out), Fingertips-style."""
    for column, wanted in indicator.rows.items():
        frame = frame[frame[column] == wanted]
    everyone = pooled(frame, [], indicator.numerator, indicator.denominator)
    benchmark = float(everyone["pct"].iloc[0]) if len(everyone) and pd.notna(everyone["pct"].iloc[0]) else None
    out = pd.DataFrame({
        "area_code": frame["area_code"].to_numpy(),
        "value": pd.to_numeric(frame[indicator.value], errors="coerce").to_numpy(),
        "ci_low": pd.to_numeric(frame["ci_low"], errors="coerce").to_numpy(),
        "ci_high": pd.to_numeric(frame["ci_high"], errors="coerce").to_numpy(),
        "numerator": pd.to_numeric(frame[indicator.numerator], errors="coerce").to_numpy(),
        "denominator": pd.to_numeric(frame[indicator.denominator], errors="coerce").to_numpy()})
    comparison = compare_to_benchmark(out["value"], out["ci_low"], out["ci_high"],
                                      benchmark if benchmark is not None else float("nan"))
    out["comparison"] = judged(pd.Series(comparison), indicator.polarity)
    return out, benchmark


def definition_panel(indicator: Indicator, period_text: str) -> html.Details:
    """The Fingertips 'definitions' for one indicator, from this list and the metric catalogue."""
    from pathway import catalogue

    metric = catalogue.METRICS.get(indicator.metric)
    rows = [("Indicator", indicator.label), ("Numerator", indicator.numerator_words.capitalize()),
            ("Denominator", indicator.denominator_words.capitalize()),
            ("Definition", metric.description if metric else ""),
            ("Period", period_text), ("Polarity", polarity_words(indicator)),
            ("Interval", "95% Wilson score interval"),
            ("Compared with", "The benchmark (all areas pooled, or England where published) by whether the 95% "
                              "interval includes it"),
            ("Source", (metric.source if metric else "").replace("contract v1 section 5", "the extract contract")),
            ("Domain", indicator.domain)]
    return html.Details([
        html.Summary(f"Definitions: {indicator.label}"),
        html.Dl([item for term, text in rows if text for item in (html.Dt(term), html.Dd(text))],
                className="pathway-definitions"),
    ], className="pathway-definitions-panel")


def significance_key(polarity: str = "high is good") -> html.Div:
    """The key to the comparison colours (and patterns) used on the map and the comparison charts."""
    kinds = ["better", "similar", "worse"] if polarity in ("high is good", "low is good") else \
        ["higher", "similar", "lower"]
    kinds.append("not compared")
    return html.Div([
        html.Span("Compared with the benchmark: ", className="pathway-key__title"),
        *[html.Span([html.Span(className=f"pathway-key__swatch pathway-key__swatch--{kind.replace(' ', '-')}",
                               style={"backgroundColor": COMPARISON_STYLE[kind]["color"]},
                               **{"aria-hidden": "true"}),
                     COMPARISON_STYLE[kind]["text"]], className="pathway-key__item") for kind in kinds],
    ], className="pathway-key", role="note")


# What higher means for the figures of each metric, where the views show a metric rather than one indicator.
METRIC_POLARITY = {"stage_reach": "high is good", "mandated_contacts": "high is good", "mood_screening": "high is good",
                   "specialist_access": "high is good", "referral_funnel": "no judgement",
                   "waiting_times": "high is good", "outcomes": "high is good", "equity": "high is good",
                   "service_gaps": "high is good", "births": "high is good", "trend": "no judgement"}
POLARITY_NOTES = {"waiting_times": "Higher is better for the share seen within 28 days; lower is better for days waited.",
                  "outcomes": "Higher is better for reliable improvement and recovery; lower is better for reliable "
                              "deterioration.",
                  "births": "Higher is better for bookings by 12 weeks 6 days; births themselves carry no judgement."}


def metric_definition(metric_name: str, period_text: str, *, numerator: str | None = None,
                      denominator: str | None = None) -> html.Details:
    """Definitions for a view that shows one catalogue metric's rows (several figures), from the catalogue."""
    from pathway import catalogue

    metric = catalogue.METRICS.get(metric_name)
    if metric is None:
        return html.Details()
    polarity = METRIC_POLARITY.get(metric_name, "no judgement")
    rows = [("Measure", metric.title), ("Definition", metric.description),
            ("Numerator", (numerator or "").capitalize()), ("Denominator", (denominator or "").capitalize()),
            ("Period", period_text),
            ("Polarity", POLARITY_NOTES.get(metric_name) or polarity_words(
                Indicator("", "", metric_name, "", "", "", "", "", polarity=polarity))),
            ("Interval", "95% Wilson score interval" if metric.proportions else ""),
            ("Source", metric.source.replace("contract v1 section 5", "the extract contract"))]
    return html.Details([
        html.Summary(f"Definitions: {metric.title}"),
        html.Dl([item for term, text in rows if text for item in (html.Dt(term), html.Dd(text))],
                className="pathway-definitions"),
    ], className="pathway-definitions-panel")
