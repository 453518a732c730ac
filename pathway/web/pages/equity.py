"""Equity: any reach metric by deprivation quintile, ethnic group and age band, with rate ratios
against the reference group; and reach among families with risk factors against those without."""

from __future__ import annotations

import dash
import pandas as pd
from dash import html

from pathway.web import ids
from pathway.web.components.charts import bars_with_interval
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page, period_words
from pathway.web.components.summaries import percent_text
from pathway.web.components.tables import people_frame
from pathway.web.filters import metric_params, read_filters
from pathway.web.pages._pickers import chosen_measure, keep_measure_in_url, metric_choices, metric_picker
from pathway.web.indicators import metric_definition
from pathway.web.warehouse import fetch_metric

PATH = "/equity"
dash.register_page(__name__, path=PATH, name="Equity", title="Equity - Perinatal Pathway Analytics", order=4,
                   description="Reach by deprivation, ethnic group, age band and risk factors")

DIMENSION_TITLES = {"imd_quintile": "Deprivation quintile (1 = most deprived)", "ethnic_group": "Ethnic group",
                    "age_band": "Age band", "risk_factors": "Any risk factor or none",
                    "risk_factor": "Each risk factor"}
DIMENSION_WORDS = {"imd_quintile": "deprivation quintile", "ethnic_group": "ethnic group", "age_band": "age band",
                   "risk_factors": "whether any risk factor was recorded", "risk_factor": "risk factor"}
# Risk-factor flags (rf_* columns of the cohort file) in words; a flag not listed is read from its name.
RISK_FACTOR_WORDS = {"rf_asylum_or_migrant": "Asylum seeker or migrant", "rf_domestic_abuse": "Domestic abuse",
                     "rf_learning_disability": "Learning disability",
                     "rf_mental_health_history": "History of mental illness", "rf_previous_loss": "Previous loss",
                     "rf_social_care": "Social care involvement", "rf_substance_misuse": "Substance misuse",
                     "rf_teenage_parent": "Teenage parent"}


def group_words(group) -> str:
    text = str(group)
    if text.startswith("rf_"):
        return RISK_FACTOR_WORDS.get(text, text[3:].replace("_", " ").capitalize())
    return text[:1].upper() + text[1:]


def measure_title(metric: str | None) -> str:
    options = {o["value"]: o["label"] for o in metric_choices("equity")}
    return options.get(metric, "Reach") if metric else "Reach"


def with_ratio_to_everyone(rows: pd.DataFrame, everyone_pct: float | None) -> tuple[pd.DataFrame, bool]:
    """When the reference group's figure is hidden (so every rate ratio is), each group's reach against
    everyone's instead (both shown percentages), so the key comparison is not lost. (rows, used)."""
    ratios = pd.to_numeric(rows["rate_ratio"], errors="coerce")
    reference = rows[rows["group"].astype(str) == str(rows["reference_group"].iloc[0])] if len(rows) else rows
    reference_hidden = reference.empty or pd.to_numeric(reference["pct"], errors="coerce").isna().all()
    if not reference_hidden or ratios.notna().any() or not everyone_pct:
        return rows, False
    pct = pd.to_numeric(rows["pct"], errors="coerce")
    return rows.assign(ratio_to_everyone=(pct / everyone_pct).round(2)), True


def equity_cards(filters: dict, metric: str | None) -> list:
    params = metric_params(filters, metric=metric, stage=filters.get("stage"), tier=filters.get("tier"))
    result = fetch_metric("equity", params)
    where = area_label(filters, area_names())
    if not result.ok or result.empty:
        return [figure_card("equity", "Reach by group", figure=None, table=None, summary="", result=result)]
    cards = []
    title_of_measure = measure_title(metric)
    for dimension, rows in result.frame.groupby("dimension", sort=False):
        everyone = rows[rows["group"] == "all"]
        everyone_pct = pd.to_numeric(everyone["pct"], errors="coerce").dropna()
        everyone_pct = float(everyone_pct.iloc[0]) if len(everyone_pct) else None
        # 'all' is everyone (the line across the chart); a group with nobody in it has nothing to show.
        rows = rows[(rows["group"] != "all") & (pd.to_numeric(rows["cohort"], errors="coerce").fillna(-1) != 0)]
        rows, against_everyone = with_ratio_to_everyone(rows, everyone_pct)
        rows = rows.assign(group=rows["group"].map(group_words),
                           reference_group=rows["reference_group"].map(group_words))
        reference = rows["reference_group"].iloc[0] if len(rows) else ""
        title = f"{title_of_measure} by {DIMENSION_WORDS.get(dimension, dimension.replace('_', ' '))}"

        def ratio_text(r) -> str:
            if against_everyone:
                return f"{'*' if pd.isna(r.ratio_to_everyone) else f'{r.ratio_to_everyone:.2f}'} times everyone's"
            return f"rate ratio {'*' if pd.isna(r.rate_ratio) else f'{r.rate_ratio:.2f}'}"

        summary = (f"{title_of_measure} for {period_words(filters)} in {where}, by "
                   f"{DIMENSION_WORDS.get(dimension, dimension)}: "
                   + "; ".join(f"{r.group} {percent_text(r.pct)} ({ratio_text(r)})" for r in rows.itertuples()) + ". "
                   + (f"Everyone: {percent_text(everyone_pct)}. " if everyone_pct is not None else "")
                   + (f"The reference group ({reference}) is hidden by disclosure control, so each group is set "
                      "against everyone instead." if against_everyone else ""))
        table = people_frame(rows.drop(columns=[c for c in ("area_code", "measure", "dimension") if c in rows.columns]),
                             None if against_everyone else "equity")
        figure = bars_with_interval(rows, x="group", y_title="% reached", horizontal=dimension == "risk_factor",
                                    reference_line=(everyone_pct, f"Everyone {percent_text(everyone_pct)}")
                                    if everyone_pct is not None else None)
        cards.append(figure_card(
            f"equity-{dimension}", title, figure=figure, table=table, summary=summary,
            source=(f"Rate ratio: a group's reach divided by the reference group's ({reference}); "
                    if not against_everyone else
                    f"The reference group ({reference}) is hidden (a count from 1 to 7, or hidden so that another "
                    "cannot be worked out), so its rate ratios are too; 'times everyone's' divides each group's "
                    "reach by everyone's. ")
                   + "95% intervals by the Wilson method; * marks a group hidden by disclosure control.",
            definition=metric_definition("equity", period_words(filters),
                                         numerator=f"people in the group counted by {title_of_measure.lower()}",
                                         denominator="live births in the group, in the period")))
    return cards


def layout(**query):
    filters, problems = read_filters(query)
    options = metric_choices("equity")
    chosen = chosen_measure(filters, options)
    body = [metric_picker(ids.EQUITY_METRIC, "Reach measure", options, chosen),
            html.Div(equity_cards(filters, chosen), id="equity-cards")]
    return page("Equity", "Who is reached, by deprivation, ethnic group and age, and among families with risk "
                "factors, with rate ratios against the reference group.", filters, problems, body, path=PATH,
                show=("area", "period", "stage", "tier"))


keep_measure_in_url(ids.EQUITY_METRIC)
