"""Economic case: the cost of illness for the area's birth cohort (mother, child and public-sector
parts), current service spend, and a scenario panel (target access, effect assumption, need, price
year) showing extra spend, avoided cost, net benefit and return on investment. Every assumption is
listed with its source and status; the scenario's can be changed here for this session (the
reference data itself changes with `pathway reference replace`)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, html

from pathway.web import ids
from pathway.web.components.charts import NHS_AQUA_GREEN, NHS_BLUE, NHS_MID_GREY, NHS_ORANGE, axis, chart, numbers, styled
from pathway.web.components.figure_card import figure_card
from pathway.web.components.messages import error_state
from pathway.web.components.page import area_label, area_names, page, period_words
from pathway.web.components.summaries import left_out_words
from pathway.web.components.tables import html_table, people_frame
from pathway.web.filters import filters_from_query, metric_params, read_filters
from pathway.web.warehouse import fetch_economic_assumptions, fetch_metric, reference_parameter, reference_table

PATH = "/economic-case"
dash.register_page(__name__, path=PATH, name="Economic case", title="Economic case - Perinatal Pathway Analytics",
                   order=8, description="Cost of illness and the return on raising access")

NEED_LEVELS = {"low": "Low", "mid": "Middle (the default)", "high": "High"}
# Statuses in ref tables, in words people can act on; shown as text, never by colour alone.
STATUS_WORDS = {"sourced": "sourced", "check": "check: a shipped default to confirm",
                "illustrative": "illustrative: replace with your own", "your setting": "your setting (this session)"}


def default_scenario() -> dict:
    """The scenario's starting values, from the sourced reference tables."""
    years = reference_table("deflators")
    return {"target_access_pct": reference_parameter("national_ambition_pct"),
            "effect": reference_parameter("effect_avoided_share"),
            "price_year": years["price_year"].iloc[-1] if not years.empty else None, "need": "mid"}


def scenario_params(filters: dict, target, effect, price_year, need=None) -> dict:
    """The economic_case parameters for the filters and the scenario inputs (blank: the reference default)."""
    return metric_params(filters, target_access_pct=target, effect=effect, price_year=price_year, need=need)


def _money(value) -> str:
    """Pounds to 3 significant figures (contract 7.4), as every money figure of the metric is."""
    return "*" if value is None or pd.isna(value) else f"£{float(f'{value:.3g}'):,.0f}"


def _sum(frame: pd.DataFrame, column: str) -> float:
    return float(pd.to_numeric(frame[column], errors="coerce").sum(min_count=1)) if column in frame else float("nan")


def scenario_totals(frame: pd.DataFrame) -> dict[str, float]:
    """The cohort's totals over conditions (and areas): the figures the headline tiles show.

    ROI is the total avoided cost over the total extra spend, not an average of the rows' ROIs."""
    totals = {column: _sum(frame, column) for column in (
        "cost_of_illness", "mother_cost", "child_cost", "public_sector_cost", "current_service_spend",
        "extra_treated", "extra_spend", "avoided_cost", "net_benefit")}
    spend = totals["extra_spend"]
    totals["roi"] = totals["avoided_cost"] / spend if spend and pd.notna(spend) else float("nan")
    return totals


def _condition_labels() -> dict[str, str]:
    frame = reference_table("prevalence")
    return dict(zip(frame["condition"], frame["label"])) if not frame.empty else {}


def cost_of_illness_figure(frame: pd.DataFrame, labels: dict) -> dict:
    """Per condition: the mother's and the child's part, and the part the source does not split."""
    by_condition = frame.groupby("condition", sort=False)[["cost_of_illness", "mother_cost", "child_cost"]] \
        .sum(min_count=1)
    names = [labels.get(c, c) for c in by_condition.index]
    mother, child = by_condition["mother_cost"].fillna(0), by_condition["child_cost"].fillna(0)
    unsplit = (by_condition["cost_of_illness"] - mother - child).clip(lower=0)
    traces = [{"type": "bar", "y": names, "x": numbers(values), "name": name, "orientation": "h",
               "marker": {"color": colour, "pattern": {"shape": pattern}},
               "hovertemplate": "%{y}: £%{x:,.0f}<extra>" + name + "</extra>"}
              for values, name, colour, pattern in ((mother, "Mother", NHS_BLUE, ""),
                                                    (child, "Child", NHS_AQUA_GREEN, "/"),
                                                    (unsplit, "Not split by the source", NHS_MID_GREY, "x"))]
    figure = chart(traces, barmode="stack")
    axis(figure, "yaxis", autorange="reversed")
    return styled(figure, x_title="£, long-term cost for this birth cohort")


def scenario_figure(totals: dict) -> dict:
    steps = [("Extra spend", totals["extra_spend"], NHS_ORANGE, "x"), ("Avoided cost", totals["avoided_cost"], NHS_BLUE, ""),
             ("Net benefit", totals["net_benefit"], NHS_AQUA_GREEN, "/")]
    return styled(chart([{"type": "bar", "x": [s[0] for s in steps], "y": numbers([s[1] for s in steps]),
                          "text": [_money(s[1]) for s in steps], "textposition": "auto", "showlegend": False,
                          "marker": {"color": [s[2] for s in steps], "pattern": {"shape": [s[3] for s in steps]}},
                          "hovertemplate": "%{x}: £%{y:,.0f}<extra></extra>"}]), y_title="£")


def _tiles(items: list[tuple[str, str, str]]) -> dbc.Row:
    return dbc.Row([dbc.Col(html.Div([html.P(value, className="pathway-headline__value"),
                                      html.P(label, className="pathway-headline__label"),
                                      html.P(note, className="pathway-source")], className="pathway-headline"),
                            xs=12, sm=6, lg=True, className="mb-3") for label, value, note in items], className="g-3")


def economic_results(filters: dict, target, effect, price_year, need=None) -> list:
    """The cost of illness, the scenario and every assumption, for these filters and inputs."""
    params = scenario_params(filters, target, effect, price_year, need)
    result = fetch_metric("economic_case", params)
    if not result.ok or result.empty:
        return [figure_card("economic-cost", "Cost of illness for this birth cohort", figure=None, table=None,
                            summary="", result=result)]
    frame, labels = result.frame, _condition_labels()
    totals = scenario_totals(frame)
    where = area_label(filters, area_names())
    year = frame["price_year"].iloc[0]
    # every total says how many rows it leaves out, and why (contract 7.3, 7.4)
    left_out = left_out_words(frame, ["cost_of_illness"])
    caveat = f" ({left_out})" if left_out else ""
    scenario_left_out = left_out_words(frame, ["extra_treated", "extra_spend"])
    table = people_frame(frame.assign(condition=frame["condition"].map(lambda c: labels.get(c, c))), "economic_case")

    cost_summary = (f"For {period_words(filters)} in {where}, in {year} prices{caveat}: perinatal mental health "
                    f"problems cost {_money(totals['cost_of_illness'])} over the long term: mother "
                    f"{_money(totals['mother_cost'])}, child {_money(totals['child_cost'])} (psychosis is not split "
                    f"by the source); {_money(totals['public_sector_cost'])} of it falls on the public sector. "
                    f"Current service spend on the people treated: {_money(totals['current_service_spend'])}.")
    cost_card = figure_card(
        "economic-cost", "Cost of illness for this birth cohort", figure=cost_of_illness_figure(frame, labels),
        table=table, summary=cost_summary,
        extra=_tiles([("Cost of illness", _money(totals["cost_of_illness"]), "long term, mother and child"),
                      ("Public-sector part", _money(totals["public_sector_cost"]), "NHS, social care and other"),
                      ("Current service spend", _money(totals["current_service_spend"]), "people treated × episode cost")]),
        source="Expected cases = live births × prevalence (Joint Commissioning Panel for Mental Health 2012); cost per "
               "case and its parts from Bauer et al. (2014), uplifted by the GDP deflator.")

    roi_words = (f"{totals['roi']:.2f} pounds avoided per pound spent" if pd.notna(totals["roi"]) else
                 "no return to work out: the target is already met, so there is no extra spend")
    target_shown = frame["target_access_pct"].iloc[0]
    effect_shown = frame["effect"].iloc[0]
    scenario_summary = (f"Raising access to {target_shown:g}% of live births, with treatment avoiding "
                        f"{100 * effect_shown:g}% of a case's cost: {totals['extra_treated']:,.1f} more people treated, "
                        f"extra spend {_money(totals['extra_spend'])}, avoided cost {_money(totals['avoided_cost'])}, "
                        f"net benefit {_money(totals['net_benefit'])}; return on investment: {roi_words}."
                        + (f" {scenario_left_out}." if scenario_left_out else ""))
    scenario_card = figure_card(
        "economic-scenario", "The scenario: raising access", figure=scenario_figure(totals),
        table=table[[c for c in ("area_code", "condition", "treating_tier", "treated", "extra_treated", "extra_spend",
                                 "avoided_cost", "net_benefit", "roi") if c in table.columns]],
        summary=scenario_summary,
        extra=_tiles([("Extra spend", _money(totals["extra_spend"]), "extra treated × episode cost"),
                      ("Avoided cost", _money(totals["avoided_cost"]), "extra treated × cost per case × effect"),
                      ("Net benefit", _money(totals["net_benefit"]), "avoided cost − extra spend"),
                      ("Return on investment", f"{totals['roi']:.2f}" if pd.notna(totals["roi"]) else "–",
                       "avoided cost ÷ extra spend")]),
        source="The effect assumption is a labelled, user-set share of a case's cost avoided by treatment, not a "
               "published trial result.")
    return [cost_card, scenario_card, assumptions_block(params)]


def assumptions_block(params: dict) -> html.Section:
    """Every assumption behind the figures above, step by step, with its source and status."""
    found = fetch_economic_assumptions(params)
    heading = html.H2("Every assumption and its source", className="h4", id="economic-assumptions-title")
    if not found.ok:
        body = error_state(found.message or "The assumptions could not be listed.")
    else:
        frame = found.frame.assign(status=found.frame["status"].map(lambda s: STATUS_WORDS.get(s, s)),
                                   value=[("" if pd.isna(v) else f"{v:,.6g}") for v in found.frame["value"]])
        body = html_table(frame[["step", "value", "unit", "status", "source"]],
                          caption="Assumptions behind the economic case, in the order they are used")
    return html.Section(dbc.Card(dbc.CardBody([
        heading,
        html.P("'check' marks a shipped default to confirm and 'illustrative' a value to replace with your own; "
               "'your setting' is a value changed in the scenario above, for this session only. Replace the "
               "shipped tables with `pathway reference replace NAME FILE`."),
        body]), className="pathway-card mb-4"), id=ids.ECONOMIC_ASSUMPTIONS,
        **{"aria-labelledby": "economic-assumptions-title"})


def scenario_panel(defaults: dict) -> dbc.Card:
    years = reference_table("deflators")
    year_options = [{"label": y, "value": y} for y in years["price_year"]] if not years.empty else []
    return dbc.Card(dbc.CardBody([
        html.H2("Scenario", className="h4"),
        html.P("Change these for this session; each change recalculates every figure below."),
        dbc.Row([
            dbc.Col([dbc.Label("Target access (% of live births treated)", html_for=ids.ECONOMIC_TARGET),
                     dbc.Input(id=ids.ECONOMIC_TARGET, type="number", min=0, max=100, step=0.5,
                               value=defaults["target_access_pct"], debounce=True)], md=3),
            dbc.Col([dbc.Label("Effect: share of a case's cost avoided (0 to 1)", html_for=ids.ECONOMIC_EFFECT),
                     dbc.Input(id=ids.ECONOMIC_EFFECT, type="number", min=0, max=1, step=0.01,
                               value=defaults["effect"], debounce=True)], md=3),
            dbc.Col([dbc.Label("Expected need (prevalence)", html_for=ids.ECONOMIC_NEED),
                     dbc.Select(id=ids.ECONOMIC_NEED, value=defaults["need"],
                                options=[{"label": v, "value": k} for k, v in NEED_LEVELS.items()])], md=3),
            dbc.Col([dbc.Label("Price year", html_for=ids.ECONOMIC_PRICE_YEAR),
                     dbc.Select(id=ids.ECONOMIC_PRICE_YEAR, options=year_options, value=defaults["price_year"])], md=3),
        ], className="g-3"),
        html.P("Defaults: the NHS Long Term Plan ambition (about 10% of births), a conservative illustrative effect, "
               "the middle prevalence and the latest price year.", className="pathway-source mt-2"),
    ]), className="pathway-card mb-4")


@callback(Output(ids.ECONOMIC_RESULTS, "children"), Input(ids.ECONOMIC_TARGET, "value"),
          Input(ids.ECONOMIC_EFFECT, "value"), Input(ids.ECONOMIC_PRICE_YEAR, "value"),
          Input(ids.ECONOMIC_NEED, "value"), State(ids.URL, "search"), prevent_initial_call=True)
def change_scenario(target, effect, price_year, need, search):
    return economic_results(filters_from_query(search), target, effect, price_year, need)


def layout(**query):
    filters, problems = read_filters(query)
    defaults = default_scenario()
    body = [scenario_panel(defaults),
            html.Div(economic_results(filters, defaults["target_access_pct"], defaults["effect"],
                                      defaults["price_year"], defaults["need"]),
                     id=ids.ECONOMIC_RESULTS, **{"aria-live": "polite"})]
    return page("Economic case", "What perinatal mental health problems cost for this birth cohort, and what "
                "raising access would cost and save.", filters, problems, body, path=PATH, show=("area", "period"))
