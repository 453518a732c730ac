"""Equity: any reach metric by deprivation quintile, ethnic group and age band, with rate ratios
against the reference group; and reach among families with risk factors against those without."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, callback, html

from pathway.web import ids
from pathway.web.components.charts import bars_with_interval
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page, period_words
from pathway.web.components.summaries import percent_text
from pathway.web.components.tables import people_frame
from pathway.web.filters import filters_from_query, metric_params, read_filters
from pathway.web.pages._pickers import metric_choices, metric_picker
from pathway.web.warehouse import fetch_metric

PATH = "/equity"
dash.register_page(__name__, path=PATH, name="Equity", title="Equity - Perinatal Pathway Analytics", order=4,
                   description="Reach by deprivation, ethnic group, age band and risk factors")

DIMENSION_TITLES = {"imd_quintile": "Deprivation quintile (1 = most deprived)", "ethnic_group": "Ethnic group",
                    "age_band": "Age band", "risk_factor": "Risk factors (rf_*)"}


def equity_cards(filters: dict, metric: str | None) -> list:
    params = metric_params(filters, metric=metric, stage=filters.get("stage"), tier=filters.get("tier"))
    result = fetch_metric("equity", params)
    where = area_label(filters, area_names())
    if not result.ok or result.empty:
        return [figure_card("equity", "Reach by group", figure=None, table=None, summary="", result=result)]
    cards = []
    for dimension, rows in result.frame.groupby("dimension", sort=False):
        rows = rows[rows["group"] != "all"]
        title = f"Reach by {DIMENSION_TITLES.get(dimension, dimension).lower()}"
        summary = f"{metric or 'Reach'} for {period_words(filters)} in {where}, by {dimension.replace('_', ' ')}: " + \
            "; ".join(f"{r.group} {percent_text(r.pct)} (rate ratio "
                      f"{'*' if pd.isna(r.rate_ratio) else f'{r.rate_ratio:.2f}'})" for r in rows.itertuples()) + "."
        cards.append(figure_card(f"equity-{dimension}", title,
                                 figure=bars_with_interval(rows, x="group", y_title="% reached"),
                                 table=people_frame(rows, "equity"), summary=summary,
                                 source="Rate ratio against the least deprived, White or 25-34 group; "
                                        "95% intervals by the Wilson method."))
    return cards


@callback(Output("equity-cards", "children"), Input(ids.EQUITY_METRIC, "value"), State(ids.URL, "search"),
          prevent_initial_call=True)
def change_equity_metric(metric, search):
    return equity_cards(filters_from_query(search), metric)


def layout(**query):
    filters, problems = read_filters(query)
    options = metric_choices("equity")
    chosen = options[0]["value"] if options else None
    body = [metric_picker(ids.EQUITY_METRIC, "Reach measure", options, chosen),
            html.Div(equity_cards(filters, chosen), id="equity-cards")]
    return page("Equity", "Who is reached, by deprivation, ethnic group and age, and among families with risk "
                "factors, with rate ratios against the reference group.", filters, problems, body, path=PATH,
                show=("area", "period", "stage", "tier"))
