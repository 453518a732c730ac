"""Economic case: what raising access returns to the public sector (the figure a commissioner's
budget sees) beside what it returns to society (mother and child, lifetime), the cost of illness
for the area's birth cohort, a one-way sensitivity (tornado) of the public-sector return, and
every assumption with its source and status.

The scenario inputs and the assumptions below them can be changed for this browser session
(kept in a session dcc.Store and the inputs' session persistence, never in the warehouse); the
reference data itself changes with `pathway reference replace NAME FILE`. Every figure is worked
out by pathway.economics from economic_case's disclosed counts, so a change here never needs
unrounded data."""

from __future__ import annotations

import math
import textwrap

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from pathway import economics
from pathway.economics import money_text
from pathway.web import ids
from pathway.web.components.charts import (NHS_AQUA_GREEN, NHS_BLUE, NHS_DARK_BLUE, NHS_MID_GREY, NHS_ORANGE,
                                           NHS_PURPLE, axis, chart, numbers, styled, vertical_line)
from pathway.web.components.figure_card import figure_card
from pathway.web.components.messages import error_state
from pathway.web.components.page import area_label, area_names, page, period_words
from pathway.web.components.tables import html_table
from pathway.web.filters import filters_from_query, merge_query, metric_params, read_filters
from pathway.web.warehouse import fetch_economic_assumptions, fetch_metric, reference_parameter, reference_table

PATH = "/economic-case"
dash.register_page(__name__, path=PATH, name="Economic case", title="Economic case - Perinatal Pathway Analytics",
                   order=8, description="The return on raising access, for the public sector and for society")

NEED_LEVELS = {"low": "Low", "mid": "Middle (the default)", "high": "High"}
# Statuses in ref tables, in words people can act on; shown as text, never by colour alone.
STATUS_WORDS = {"sourced": "sourced", "confirmed": "confirmed in the source",
                "secondary": "secondary: a copy quoting the source", "check": "check: a shipped default to confirm",
                "illustrative": "illustrative: replace with your own",
                "assumption": "assumption: replace with your own",
                "your setting": "your setting (this session)"}
# The assumptions a person may change for the session, beside the scenario inputs.
SHARE_INPUTS = (("public_share", "Public-sector share of every condition's cost (0 to 1)",
                 "public_sector_share_of_cost"),
                ("nhs_social_care_share", "NHS and social care share (0 to 1)", "nhs_social_care_share_of_cost"))
EPISODE_INPUTS = (("specialist_episode_cost", "Specialist treatment episode, £", "specialist_episode"),
                  ("targeted_episode_cost", "Targeted treatment course, £", "targeted_episode"))


# ---- the scenario's inputs ------------------------------------------------------------------------
def default_scenario() -> dict:
    """The scenario's starting values, from the sourced reference tables."""
    years = reference_table("deflators")
    return {"target_access_pct": reference_parameter("national_ambition_pct"),
            "targeted_target_pct": reference_parameter("targeted_target_pct"),
            "effect": reference_parameter("effect_avoided_share"),
            "price_year": max(years["price_year"]) if not years.empty else None, "need": "mid"}


def scenario_params(filters: dict, target, effect, price_year, need=None, targeted=None) -> dict:
    """The economic_case parameters for the filters and the scenario inputs (blank: the reference default)."""
    return metric_params(filters, target_access_pct=target, targeted_target_pct=targeted, effect=effect,
                         price_year=price_year, need=need)


def session_changes(stored: dict | None) -> economics.Changes:
    """The session's own assumptions (the store: {"key": value}) as pathway.economics.Changes."""
    stored = {k: v for k, v in (stored or {}).items() if v not in (None, "")}
    scalars = {k: float(v) for k, v in stored.items() if k in economics.SCALAR_ASSUMPTIONS}
    per_1000 = {k.split(":", 1)[1]: float(v) for k, v in stored.items() if k.startswith("per_1000:")}
    costs = {k.split(":", 1)[1]: float(v) for k, v in stored.items() if k.startswith("cost:")}
    return economics.Changes(scalars=scalars, per_1000=per_1000, cost_per_case=costs)


def _condition_labels() -> dict[str, str]:
    frame = reference_table("economic_conditions")
    return dict(zip(frame["condition"], frame["label"])) if not frame.empty else {}


def _parameters() -> dict[str, float]:
    frame = reference_table("parameters")
    return {str(n): float(v) for n, v in zip(frame.get("name", []), frame.get("value", []))}


# ---- figures --------------------------------------------------------------------------------------
def _wrapped(label: str, width: int = 20) -> str:
    """A long axis label on short lines, so a phone-width chart keeps room for its bars."""
    return "<br>".join(textwrap.wrap(str(label), width)) or str(label)


def _money(values) -> pd.Series:
    """Money as the table shows it, to 3 significant figures (contract 7.4): the chart sends no
    more than the table prints."""
    from pathway.disclosure import at_unit

    return at_unit(pd.Series(list(values), dtype=float), "money")


def cost_of_illness_figure(frame: pd.DataFrame, labels: dict) -> dict:
    """Per costed condition: the mother's and the child's part, and the part the source does not split."""
    costed = frame[frame["costed"].astype(bool)]
    by_condition = costed.groupby("condition", sort=False)[["cost_of_illness", "mother_cost", "child_cost"]] \
        .sum(min_count=1)
    names = [_wrapped(labels.get(c, c)) for c in by_condition.index]
    mother, child = by_condition["mother_cost"].fillna(0), by_condition["child_cost"].fillna(0)
    unsplit = (by_condition["cost_of_illness"] - mother - child).clip(lower=0)
    traces = [{"type": "bar", "y": names, "x": numbers(_money(values)), "name": name, "orientation": "h",
               "marker": {"color": colour, "pattern": {"shape": pattern}},
               "hovertemplate": "%{y}: £%{x:,.3s}<extra>" + name + "</extra>"}
              for values, name, colour, pattern in ((mother, "Mother", NHS_BLUE, ""),
                                                    (child, "Child", NHS_AQUA_GREEN, "/"),
                                                    (unsplit, "Not split by the source", NHS_MID_GREY, "x"))]
    figure = chart(traces, barmode="stack")
    axis(figure, "yaxis", autorange="reversed")
    axis(figure, "xaxis", tickprefix="£", tickformat=".3s")
    return styled(figure, x_title="Long-term cost to society for this birth cohort")


def scenario_figure(totals: dict) -> dict:
    """One area: extra spend against the cost avoided for the public sector and for society."""
    steps = [("Extra spend", totals["extra_spend"], NHS_ORANGE, "x"),
             ("Avoided: public sector", totals["avoided_public_cost"], NHS_BLUE, ""),
             ("Avoided: society", totals["avoided_cost"], NHS_AQUA_GREEN, "/")]
    figure = chart([{"type": "bar", "x": [s[0] for s in steps], "y": numbers(_money([s[1] for s in steps])),
                     "text": [money_text(s[1]) for s in steps], "textposition": "auto", "showlegend": False,
                     "marker": {"color": [s[2] for s in steps], "pattern": {"shape": [s[3] for s in steps]}},
                     "hovertemplate": "%{x}: %{text}<extra></extra>"}])
    axis(figure, "yaxis", tickprefix="£", tickformat=".3s")
    return styled(figure, y_title="For this birth cohort")


def areas_figure(per_area: pd.DataFrame, names: dict) -> dict:
    """Several areas: each area's return for the public sector and for society, so ROI by area shows."""
    shown = per_area.sort_values("roi_public", na_position="first")
    labels = [_wrapped(names.get(a, a)) for a in shown["area_code"]]
    traces = [{"type": "bar", "y": labels, "x": numbers(pd.to_numeric(shown[column], errors="coerce").round(2)),
               "name": name, "orientation": "h",
               "marker": {"color": colour, "pattern": {"shape": pattern}},
               "hovertemplate": "%{y}: £%{x:.2f} per £1<extra>" + name + "</extra>"}
              for column, name, colour, pattern in (("roi_public", "Public sector", NHS_BLUE, ""),
                                                    ("roi_society", "Society", NHS_AQUA_GREEN, "/"))]
    figure = vertical_line(chart(traces, barmode="group"), 1.0, "break-even (£1 per £1)")
    return styled(figure, x_title="£ avoided per £1 of extra spend", height=max(380, 34 * len(labels) + 120))


def tornado_figure(table: pd.DataFrame, base: float) -> dict:
    """The public-sector return at each assumption's low and high value, widest swing on top."""
    rows = table.dropna(subset=["low_value", "high_value"])
    names = [_wrapped(a) for a in rows["assumption"]]
    base = round(float(base), 2)  # returns to the penny, as the table prints them
    traces = []
    for column, label_column, name, colour, pattern in (("low_value", "low_label", "Low value", NHS_PURPLE, "x"),
                                                        ("high_value", "high_label", "High value", NHS_AQUA_GREEN, "")):
        values = rows[column].astype(float).round(2)
        traces.append({"type": "bar", "y": names, "x": numbers((values - base).round(2)), "base": base, "orientation": "h",
                       "name": name, "text": [f"{v:.2f} ({w})" for v, w in zip(values, rows[label_column])],
                       # the values are in the hover, the table and the summary: printed on the bars they
                       # ran into the labels at phone width
                       "textposition": "none",
                       "marker": {"color": colour, "pattern": {"shape": pattern}},
                       "hovertemplate": "%{y}, %{text}<extra>" + name + "</extra>"})
    figure = vertical_line(chart(traces, barmode="overlay"), base, f"as shown: {base:.2f}", colour=NHS_DARK_BLUE)
    axis(figure, "yaxis", autorange="reversed", automargin=True)
    return styled(figure, x_title="Public-sector return: £ avoided per £1 spent",
                  height=max(320, 52 * len(names) + 140))


def _tiles(items: list[tuple[str, str, str]]) -> dbc.Row:
    return dbc.Row([dbc.Col(html.Div([html.P(value, className="pathway-headline__value"),
                                      html.P(label, className="pathway-headline__label"),
                                      html.P(note, className="pathway-source")], className="pathway-headline"),
                            xs=12, sm=6, lg=True, className="mb-3") for label, value, note in items], className="g-3")


def _ratio_text(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"£{value:.2f}"


def _money_table(frame: pd.DataFrame, labels: dict, columns: dict[str, str]) -> pd.DataFrame:
    """Rows as people read them: money at 3 significant figures, '*' where a count is hidden."""
    out = pd.DataFrame()
    for column, heading in columns.items():
        values = frame[column]
        if column == "condition":
            out[heading] = [labels.get(c, c) for c in values]
        elif column in economics.MONEY_COLUMNS or column == "cost_per_case":
            out[heading] = ["not costed" if column in ("cost_per_case", "cost_of_illness") and not costed
                            else "not split" if column in ("mother_cost", "child_cost") and pd.isna(v) and costed
                            and pd.notna(whole) else money_text(v)
                            for v, costed, whole in zip(values, frame["costed"].astype(bool), frame["cost_of_illness"])]
        elif column in economics.RATIO_COLUMNS:
            out[heading] = [_ratio_text(v) if pd.notna(v) else ("*" if pd.isna(b) else "–")
                            for v, b in zip(values, frame["extra_spend"])]
        elif column in economics.PEOPLE_COLUMNS:
            out[heading] = [economics.people_text(v) for v in values]
        elif column in ("live_births", "treated", "specialist_treated", "targeted_treated"):
            out[heading] = ["*" if pd.isna(v) else f"{int(v):,}" for v in values]
        else:
            out[heading] = ["" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    return out


# ---- the results ----------------------------------------------------------------------------------
def economic_results(filters: dict, target, effect, price_year, need=None, targeted=None,
                     stored: dict | None = None) -> list:
    """Both perspectives, the scenario, the cost of illness, the sensitivity and every assumption."""
    params = scenario_params(filters, target, effect, price_year, need, targeted)
    result = fetch_metric("economic_case", params)
    if not result.ok or result.empty:
        return [figure_card("economic-scenario", "The return on raising access", figure=None, table=None,
                            summary="", result=result)]
    changes = session_changes(stored)
    frame = economics.evaluate(result.frame, changes)
    labels, names = _condition_labels(), area_names()
    totals = economics.totals(frame)
    where = area_label(filters, names)
    year = frame["price_year"].iloc[0]
    left_out = economics.left_out_words(totals)
    not_costed = economics.not_costed_words(labels, totals)
    access = " ".join(economics.access_sentences(frame))

    lead = (f"For {period_words(filters)} in {where}, in {year} prices: raising access as set above returns "
            f"{economics.roi_words(totals['roi_public'])} to the public sector (NHS, social care and other public "
            f"services), a net {money_text(totals['net_benefit_public'])}; to society (mother and child, over their "
            f"lifetimes) it returns {economics.roi_words(totals['roi_society'])}, a net "
            f"{money_text(totals['net_benefit'])}. Extra spend {money_text(totals['extra_spend'])} on about "
            f"{economics.people_text(totals['extra_treated'])} more women treated. {access} {left_out}")
    break_even = totals["break_even_effect_public"]
    perspectives = html.Section(dbc.Card(dbc.CardBody([
        html.H2("The return on raising access", className="h4", id="economic-return-title"),
        html.P(lead, className="pathway-text-alternative", id="economic-return-summary"),
        html.H3("Public sector: NHS, social care and other public services", className="h5"),
        _tiles([("Return for the public sector", _ratio_text(totals["roi_public"]),
                 "avoided per £1 of extra spend"),
                ("Net benefit to the public sector", money_text(totals["net_benefit_public"]),
                 "public-sector cost avoided − extra spend"),
                ("Break-even effect", "–" if math.isnan(break_even) else f"{break_even:.3g}",
                 "share of a case's cost treatment must avoid for the public sector to break even")]),
        html.H3("Society: mother and child, over their lifetimes", className="h5"),
        _tiles([("Return to society", _ratio_text(totals["roi_society"]), "avoided per £1 of extra spend"),
                ("Net benefit to society", money_text(totals["net_benefit"]), "cost avoided − extra spend"),
                ("Extra spend", money_text(totals["extra_spend"]), "extra women treated × episode cost")]),
        html.P(not_costed, className="pathway-source"),
    ]), className="pathway-card mb-4"), **{"aria-labelledby": "economic-return-title"})

    several = frame["area_code"].nunique() > 1
    per_area = economics.by_area(frame)
    scenario_table = _money_table(frame, labels, {
        "area_code": "Area code", "condition": "Condition", "treated": "Women treated now",
        "extra_treated": "Extra treated", "extra_spend": "Extra spend",
        "avoided_public_cost": "Avoided: public sector", "roi_public": "Return: public sector",
        "avoided_cost": "Avoided: society", "roi_society": "Return: society"})
    if several and per_area["roi_public"].notna().any():
        figure = areas_figure(per_area, names)
        scenario_summary = (f"The return per £1 in each of {len(per_area)} areas, public sector beside society: "
                            f"from {_ratio_text(per_area['roi_public'].min())} to "
                            f"{_ratio_text(per_area['roi_public'].max())} for the public sector. {access}")
    elif totals["extra_spend"] > 0:
        figure = scenario_figure(totals)
        scenario_summary = (f"Extra spend {money_text(totals['extra_spend'])} against "
                            f"{money_text(totals['avoided_public_cost'])} avoided for the public sector and "
                            f"{money_text(totals['avoided_cost'])} for society. {access}")
    else:
        figure = None
        scenario_summary = access
    scenario_card = figure_card(
        "economic-scenario", "The scenario: raising access to the targets", figure=figure, table=scenario_table,
        summary=scenario_summary, extra=None if figure is not None else html.P(access),
        source="Extra women treated = each tier's target × live births − the women it treats now (no cap at "
               "expected need), shared among the conditions the tier treats in proportion to their prevalence. "
               "Avoided cost = extra treated × cost per case × effect (public sector: × the public-sector share). "
               + left_out)

    cost_table = _money_table(frame, labels, {
        "area_code": "Area code", "condition": "Condition", "live_births": "Live births",
        "per_1000": "Per 1,000", "expected_cases": "Expected cases", "cost_per_case": "Cost per case",
        "cost_of_illness": "Cost of illness", "mother_cost": "Mother", "child_cost": "Child",
        "public_sector_cost": "Public sector", "nhs_social_care_cost": "NHS and social care"})
    cost_summary = (f"Perinatal depression, anxiety and psychosis cost this birth cohort "
                    f"{money_text(totals['cost_of_illness'])} over the long term: mother "
                    f"{money_text(totals['mother_cost'])}, child {money_text(totals['child_cost'])} (psychosis is not "
                    f"split by the source); {money_text(totals['public_sector_cost'])} of it falls on the public "
                    f"sector, {money_text(totals['nhs_social_care_cost'])} on the NHS and social care. Current spend "
                    f"on the women treated: {money_text(totals['current_service_spend'])}. {left_out}")
    cost_card = figure_card(
        "economic-cost", "Cost of illness for this birth cohort", figure=cost_of_illness_figure(frame, labels),
        table=cost_table, summary=cost_summary,
        source="Expected cases = live births × prevalence; cost per case and its parts from Bauer et al. (2014), "
               "uplifted by the GDP deflator; public-sector parts are the overall shares (1.7bn and 1.2bn of "
               "8.1bn), not confirmed per condition. " + not_costed)
    return [perspectives, scenario_card, cost_card, sensitivity_card(frame, changes),
            assumptions_block(params, stored)]


def sensitivity_variations(frame: pd.DataFrame) -> list[economics.Variation]:
    """The assumptions the sensitivity moves, for an evaluated frame (its cost price year and effect)
    and the reference ranges (the disclosure attack works the same returns out from them)."""
    deflators = reference_table("deflators")
    years = dict(zip(deflators.get("price_year", []), deflators.get("index_value", [])))
    cost_year = frame["cost_price_year"].dropna().iloc[0] if frame["cost_price_year"].notna().any() else None
    return economics.variations(_parameters(), years, cost_year, float(frame["effect"].iloc[0]))


def sensitivity_card(frame: pd.DataFrame, changes: economics.Changes) -> html.Section:
    """One-way sensitivity (tornado) of the public-sector return, and the break-even effect."""
    table = economics.tornado(frame, sensitivity_variations(frame), "roi_public", changes)
    base = float(table["base"].iloc[0]) if len(table) else math.nan
    if math.isnan(base):
        return figure_card("economic-sensitivity", "How sure is the return? One assumption at a time", figure=None,
                           table=None, summary="", empty_text="No extra spend in this scenario, so there is no "
                           "return to test: every tier is already at or above its target, or its count is hidden.")
    people = pd.DataFrame({
        "Assumption": table["assumption"], "Low": table["low_label"],
        "Return at low": [_ratio_text(v) for v in table["low_value"]], "High": table["high_label"],
        "Return at high": [_ratio_text(v) for v in table["high_value"]],
        "Swing": [_ratio_text(v) for v in table["swing"]]})
    totals = economics.totals(economics.evaluate(frame, changes))
    top = ", ".join(table["assumption"].head(3).str.lower())
    summary = (f"The public-sector return of {_ratio_text(base)} per £1 moves most with {top}. Moving one "
               f"assumption at a time to its low and high value, it ranges from "
               f"{_ratio_text(min(table['low_value'].min(), table['high_value'].min()))} to "
               f"{_ratio_text(max(table['low_value'].max(), table['high_value'].max()))}. Break-even: treatment must "
               f"avoid {totals['break_even_effect_public']:.3g} of a case's cost for the public sector and "
               f"{totals['break_even_effect_society']:.3g} for society.")
    return figure_card("economic-sensitivity", "How sure is the return? One assumption at a time",
                       figure=tornado_figure(table, base), table=people, summary=summary,
                       source="Ranges: prevalence low and high (reference table), cost per case and episode cost "
                              "by the percentages in ref_parameters, the effect's low and high values, the price "
                              "year of Bauer's costs one year either side (GDP deflator), and the public-sector "
                              "share cut to the NHS and social care part.")


def assumptions_block(params: dict, stored: dict | None = None) -> html.Section:
    """Every assumption behind the figures above, step by step, with its source and status."""
    found = fetch_economic_assumptions(params)
    heading = html.H2("Every assumption and its source", className="h4", id="economic-assumptions-title")
    mine = {k: v for k, v in (stored or {}).items() if v not in (None, "")}
    if not found.ok:
        body = error_state(found.message or "The assumptions could not be listed.")
    else:
        frame = found.frame.assign(status=found.frame["status"].map(lambda s: STATUS_WORDS.get(s, s)),
                                   value=[("" if pd.isna(v) else f"{v:,.6g}") for v in found.frame["value"]])
        body = html_table(frame[["step", "value", "unit", "status", "source"]],
                          caption="Assumptions behind the economic case, in the order they are used")
    changed = (html.P("Your settings for this session: " + "; ".join(f"{k.replace('_', ' ')} = {v:g}"
                                                                   for k, v in sorted(mine.items())) + ".")
               if mine else None)
    return html.Section(dbc.Card(dbc.CardBody([
        heading,
        html.P("'confirmed' is read in the source, 'secondary' in a copy quoting it, 'check' marks a shipped default "
               "to confirm, 'illustrative' or 'assumption' a value to replace with your own; 'your setting' is a "
               "value changed above, for this session only. Replace the shipped tables with "
               "`pathway reference replace NAME FILE` (e.g. costs, economic_conditions, condition_services, "
               "unit_costs, parameters)."),
        changed, body]), className="pathway-card mb-4"), id=ids.ECONOMIC_ASSUMPTIONS,
        **{"aria-labelledby": "economic-assumptions-title"})


# ---- the inputs -----------------------------------------------------------------------------------
def _edit(key: str, label: str, placeholder) -> dbc.Col:
    """One assumption's input, inside its label (a pattern id has no plain id for `for`)."""
    component_id = {"type": ids.ECONOMIC_EDIT_TYPE, "key": key}
    shown = "" if placeholder is None or pd.isna(placeholder) else f"{float(placeholder):g}"
    return dbc.Col(html.Label([html.Span(label, className="d-block"),
                               dbc.Input(id=component_id, type="number", min=0, placeholder=shown, debounce=True,
                                         persistence=True, persistence_type="session")],
                              className="form-label w-100"), md=4, className="mb-2")


def assumption_inputs() -> html.Details:
    """Inputs for the assumptions a person may change for this session (blank: the reference value)."""
    conditions = reference_table("economic_conditions")
    costs = reference_table("costs").set_index("condition") if not reference_table("costs").empty else pd.DataFrame()
    unit_costs = reference_table("unit_costs")
    unit = dict(zip(unit_costs.get("item", []), unit_costs.get("cost", [])))
    unit_years = dict(zip(unit_costs.get("item", []), unit_costs.get("price_year", [])))
    fields = []
    for row in conditions.sort_values("sort_order").itertuples() if not conditions.empty else []:
        fields.append(_edit(f"per_1000:{row.condition}", f"{row.label}: prevalence per 1,000", row.per_1000_mid))
        if row.cost_condition and row.cost_condition in costs.index:
            cost = costs.loc[row.cost_condition]
            fields.append(_edit(f"cost:{row.condition}",
                                f"{row.label}: cost per case, £ ({cost['price_year']} prices)", cost["cost_per_case"]))
    for key, label, name in SHARE_INPUTS:
        fields.append(_edit(key, label, reference_parameter(name)))
    for key, label, item in EPISODE_INPUTS:
        fields.append(_edit(key, f"{label} (in the price year above; shipped: {unit_years.get(item, '')} prices)",
                            unit.get(item)))
    return html.Details([
        html.Summary("Change the assumptions for this session"),
        html.P("Blank keeps the reference value shown in grey. Your values stay for this browser session only; they "
               "are never saved to the warehouse. Prevalence here replaces the need level chosen above.",
               id="economic-edit-help", className="pathway-source"),
        dbc.Row(fields, className="g-2"),
        html.Button("Reset to the reference values", id=ids.ECONOMIC_RESET, type="button",
                    className="btn btn-outline-primary btn-sm mt-2"),
    ], className="mt-3")


def scenario_panel(defaults: dict) -> dbc.Card:
    years = reference_table("deflators")
    year_options = [{"label": y, "value": y} for y in years["price_year"]] if not years.empty else []
    persist = {"persistence": True, "persistence_type": "session"}
    return dbc.Card(dbc.CardBody([
        html.H2("Scenario", className="h4"),
        html.P("Change these for this session; each change recalculates every figure below."),
        dbc.Row([
            dbc.Col([dbc.Label("Specialist target (% of live births treated)", html_for=ids.ECONOMIC_TARGET),
                     dbc.Input(id=ids.ECONOMIC_TARGET, type="number", min=0, max=100, step=0.5,
                               value=defaults["target_access_pct"], debounce=True, **persist)], md=4, lg=2),
            dbc.Col([dbc.Label("Targeted target (% of live births treated)", html_for=ids.ECONOMIC_TARGETED_TARGET),
                     dbc.Input(id=ids.ECONOMIC_TARGETED_TARGET, type="number", min=0, max=100, step=0.5,
                               value=defaults["targeted_target_pct"], debounce=True, **persist)], md=4, lg=2),
            dbc.Col([dbc.Label("Effect: share of a case's cost avoided (0 to 1)", html_for=ids.ECONOMIC_EFFECT),
                     dbc.Input(id=ids.ECONOMIC_EFFECT, type="number", min=0, max=1, step=0.01,
                               value=defaults["effect"], debounce=True, **persist)], md=4, lg=3),
            dbc.Col([dbc.Label("Expected need (prevalence)", html_for=ids.ECONOMIC_NEED),
                     dbc.Select(id=ids.ECONOMIC_NEED, value=defaults["need"],
                                options=[{"label": v, "value": k} for k, v in NEED_LEVELS.items()], **persist)],
                    md=6, lg=3),
            dbc.Col([dbc.Label("Price year", html_for=ids.ECONOMIC_PRICE_YEAR),
                     dbc.Select(id=ids.ECONOMIC_PRICE_YEAR, options=year_options, value=defaults["price_year"],
                                **persist)], md=6, lg=2),
        ], className="g-3"),
        html.P("Defaults: the NHS Long Term Plan ambition (10% of births) for specialist access, an illustrative "
               "12.5% for targeted access, a conservative illustrative effect, the middle prevalence and the latest "
               "price year.", className="pathway-source mt-2"),
        assumption_inputs(),
        dcc.Store(id=ids.ECONOMIC_STORE, storage_type="session"),
    ]), className="pathway-card mb-4")


@callback(Output(ids.ECONOMIC_STORE, "data"), Output({"type": ids.ECONOMIC_EDIT_TYPE, "key": ALL}, "value"),
          Input({"type": ids.ECONOMIC_EDIT_TYPE, "key": ALL}, "value"), Input(ids.ECONOMIC_RESET, "n_clicks"),
          State({"type": ids.ECONOMIC_EDIT_TYPE, "key": ALL}, "id"))
def remember_assumptions(values, _reset, component_ids):
    """The session's own assumptions, from the inputs (blank = the reference value); reset clears them."""
    if ctx.triggered_id == ids.ECONOMIC_RESET:
        return {}, [None] * len(component_ids)
    return session_assumptions(values, component_ids), list(values)


def session_assumptions(values, component_ids) -> dict:
    """{assumption key: value} for the inputs a person filled in (blank keeps the reference value)."""
    return {c["key"]: v for c, v in zip(component_ids, values) if v not in (None, "")}


@callback(Output(ids.ECONOMIC_RESULTS, "children"), Input(ids.ECONOMIC_TARGET, "value"),
          Input(ids.ECONOMIC_EFFECT, "value"), Input(ids.ECONOMIC_PRICE_YEAR, "value"),
          Input(ids.ECONOMIC_NEED, "value"), Input(ids.ECONOMIC_TARGETED_TARGET, "value"),
          Input(ids.ECONOMIC_STORE, "data"), State(ids.URL, "search"), prevent_initial_call=True)
def change_scenario(target, effect, price_year, need, targeted, stored, search):
    return economic_results(filters_from_query(search), target, effect, price_year, need, targeted, stored)


# The scenario's inputs and their names in the URL (?target=12&effect=0.2&price_year=2023/24 ...).
SCENARIO_IN_URL = {"target": ("target_access_pct", float), "targeted": ("targeted_target_pct", float),
                   "effect": ("effect", float), "need": ("need", str), "price_year": ("price_year", str)}


def scenario_from_url(defaults: dict, filters: dict) -> dict:
    """The scenario's starting values: the reference defaults, replaced by any given in the URL."""
    scenario = dict(defaults)
    for name, (key, kind) in SCENARIO_IN_URL.items():
        if filters.get(name):
            try:
                scenario[key] = kind(filters[name])
            except ValueError:
                continue  # the default stays; the scenario panel shows it
    return scenario


@callback(Output(ids.URL, "search", allow_duplicate=True), Input(ids.ECONOMIC_TARGET, "value"),
          Input(ids.ECONOMIC_TARGETED_TARGET, "value"), Input(ids.ECONOMIC_EFFECT, "value"),
          Input(ids.ECONOMIC_NEED, "value"), Input(ids.ECONOMIC_PRICE_YEAR, "value"), State(ids.URL, "search"),
          prevent_initial_call=True)
def keep_scenario_in_url(target, targeted, effect, need, price_year, search):
    """Each scenario change is written to the URL, so a copied link or the back button brings it back."""
    new = merge_query(search, {"target": target, "targeted": targeted, "effect": effect, "need": need,
                               "price_year": price_year})
    return no_update if new == (search or "") else new


def layout(**query):
    filters, problems = read_filters(query)
    defaults = scenario_from_url(default_scenario(), filters)
    body = [scenario_panel(defaults),
            html.Div(economic_results(filters, defaults["target_access_pct"], defaults["effect"],
                                      defaults["price_year"], defaults["need"], defaults["targeted_target_pct"]),
                     id=ids.ECONOMIC_RESULTS, **{"aria-live": "polite"})]
    return page("Economic case", "What raising access to perinatal mental health care returns to the public "
                "sector and to society, what the problems cost this birth cohort, and how sure the figures are.",
                filters, problems, body, path=PATH, show=("area", "period"))
