"""Economic case: the cost of illness for the area's birth cohort (mother, child and public-sector
parts), current service spend, and a scenario panel (target access, effect assumption, price year)
showing extra spend, avoided cost, net benefit and return on investment. Every assumption is listed
with its source; the scenario's are editable here, the rest with `pathway reference replace`."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, html

from pathway.web import ids
from pathway.web.components.charts import NHS_AQUA_GREEN, NHS_BLUE, NHS_PURPLE, styled
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page, period_words
from pathway.web.components.tables import html_table, people_frame
from pathway.web.filters import filters_from_query, metric_params, read_filters
from pathway.web.warehouse import fetch_metric, reference_parameter, reference_table

PATH = "/economic-case"
dash.register_page(__name__, path=PATH, name="Economic case", title="Economic case - Perinatal Pathway Analytics",
                   order=8, description="Cost of illness and the return on raising access")

# Scenario inputs, named as the economic_case metric's parameters.
SCENARIO_PARAMETERS = {"target_access_pct": ids.ECONOMIC_TARGET, "effect": ids.ECONOMIC_EFFECT,
                       "price_year": ids.ECONOMIC_PRICE_YEAR}


def _declared_parameters() -> set[str]:
    from pathway import catalogue
    metric = catalogue.METRICS.get("economic_case")
    return {p.name for p in metric.parameters} if metric else {"target_access_pct"}


def scenario_params(filters: dict, target, effect, price_year) -> dict:
    """The metric parameters for a scenario: only those economic_case declares (aliases allowed)."""
    declared = _declared_parameters()
    chosen = {"target_access_pct": target, "price_year": price_year}
    for name in ("effect", "effect_avoided_share", "effect_assumption"):
        if name in declared:
            chosen[name] = effect
    return metric_params(filters, **{k: v for k, v in chosen.items() if k in declared and v not in (None, "")})


def _money(value) -> str:
    return "*" if value is None or pd.isna(value) else f"£{value:,.0f}"


def economic_results(filters: dict, target, effect, price_year) -> list:
    result = fetch_metric("economic_case", scenario_params(filters, target, effect, price_year))
    title = "Cost of illness and the scenario"
    if not result.ok or result.empty:
        return [figure_card("economic-case", title, figure=None, table=None, summary="", result=result)]
    frame = result.frame
    totals = frame.select_dtypes("number").sum(min_count=1)
    parts = [(c, label) for c, label in (("mother_cost", "Mother"), ("child_cost", "Child"),
                                          ("public_sector_cost", "Public sector"), ("cost_of_illness", "Total"),
                                          ("extra_spend", "Extra spend"), ("avoided_cost", "Avoided cost"),
                                          ("net_benefit", "Net benefit")) if c in frame.columns]
    figure = go.Figure(go.Bar(x=[label for _, label in parts], y=[totals[c] for c, _ in parts],
                              marker={"color": [NHS_BLUE, NHS_AQUA_GREEN, NHS_PURPLE, NHS_BLUE, NHS_PURPLE,
                                                NHS_AQUA_GREEN, NHS_BLUE][:len(parts)]},
                              text=[_money(totals[c]) for c, _ in parts], textposition="outside"))
    styled(figure, y_title="£")
    roi = totals.get("avoided_cost", float("nan")) / totals.get("extra_spend", float("nan")) \
        if "extra_spend" in totals and totals.get("extra_spend") else float("nan")
    where = area_label(filters, area_names())
    summary = (f"For {period_words(filters)} in {where}: " + "; ".join(f"{label} {_money(totals[c])}" for c, label in parts)
               + (f"; return on investment {roi:.2f} pounds avoided per pound spent." if pd.notna(roi) else "."))
    return [figure_card("economic-case", title, figure=figure, table=people_frame(frame, "economic_case"),
                        summary=summary, source="Bauer et al. (2014) costs per case; prevalence from the Joint "
                        "Commissioning Panel for Mental Health (2012); the effect assumption is yours to set.")]


def assumptions_table() -> html.Div:
    rows = []
    for table, name_column, value_column in (("prevalence", "label", "per_1000_mid"), ("costs", "label", "cost_per_case"),
                                             ("unit_costs", "label", "cost"), ("parameters", "description", "value")):
        frame = reference_table(table)
        for _, row in frame.iterrows():
            rows.append({"table": table, "assumption": row.get(name_column), "value": row.get(value_column),
                         "price year": row.get("price_year", ""), "status": row.get("status", ""),
                         "source": row.get("source", "")})
    frame = pd.DataFrame(rows).fillna("")
    return html.Div([
        html.H2("Every assumption and its source", className="h4"),
        html.P("Figures marked 'check' or 'illustrative' are shipped defaults: replace them with your own with "
               "`pathway reference replace NAME FILE`."),
        html_table(frame, caption="Assumptions behind the economic case") if len(frame) else
        html.P("No reference data loaded."),
    ], className="mb-4")


def scenario_panel() -> dbc.Card:
    effect = reference_parameter("effect_avoided_share")
    ambition = reference_parameter("national_ambition_pct")
    years = reference_table("deflators")
    year_options = [{"label": y, "value": y} for y in years["price_year"]] if not years.empty else []
    latest = year_options[-1]["value"] if year_options else None
    return dbc.Card(dbc.CardBody([
        html.H2("Scenario", className="h4"),
        dbc.Row([
            dbc.Col([dbc.Label("Target specialist access (% of births)", html_for=ids.ECONOMIC_TARGET),
                     dbc.Input(id=ids.ECONOMIC_TARGET, type="number", min=0, max=100, step=0.5,
                               value=ambition if ambition is not None else 10, debounce=True)], md=4),
            dbc.Col([dbc.Label("Share of a case's cost avoided by treatment", html_for=ids.ECONOMIC_EFFECT),
                     dbc.Input(id=ids.ECONOMIC_EFFECT, type="number", min=0, max=1, step=0.01,
                               value=effect if effect is not None else 0.1, debounce=True)], md=4),
            dbc.Col([dbc.Label("Price year", html_for=ids.ECONOMIC_PRICE_YEAR),
                     dbc.Select(id=ids.ECONOMIC_PRICE_YEAR, options=year_options, value=latest)], md=4),
        ], className="g-3"),
        html.P("The effect assumption is a conservative default (illustrative, not from a trial): set your own.",
               className="pathway-source mt-2"),
    ]), className="pathway-card mb-4")


@callback(Output(ids.ECONOMIC_RESULTS, "children"), Input(ids.ECONOMIC_TARGET, "value"),
          Input(ids.ECONOMIC_EFFECT, "value"), Input(ids.ECONOMIC_PRICE_YEAR, "value"), State(ids.URL, "search"),
          prevent_initial_call=True)
def change_scenario(target, effect, price_year, search):
    return economic_results(filters_from_query(search), target, effect, price_year)


def layout(**query):
    filters, problems = read_filters(query)
    ambition = reference_parameter("national_ambition_pct")
    effect = reference_parameter("effect_avoided_share")
    years = reference_table("deflators")
    latest = years["price_year"].iloc[-1] if not years.empty else None
    body = [scenario_panel(),
            html.Div(economic_results(filters, ambition if ambition is not None else 10, effect, latest),
                     id=ids.ECONOMIC_RESULTS, **{"aria-live": "polite"}),
            assumptions_table()]
    return page("Economic case", "What perinatal mental health problems cost for this birth cohort, and what "
                "raising access would cost and save.", filters, problems, body, path=PATH, show=("area", "period"))
