"""The filter bar (area or ICB, period, stage, tier, service). Its state lives in the URL query
string, so a copied link reproduces the view and the browser's back and forward buttons work.

Each page renders the bar from its query string; changing a control rewrites the query string,
and Dash pages renders the page again from it.
"""

from __future__ import annotations

import json
from typing import Iterable, Mapping

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from pathway.reference import short_label
from pathway.web import ids
from pathway.web.filters import ALL_AREAS, FILTER_NAMES, merge_query
from pathway.web.warehouse import areas, kept, reference_table

ALL_FILTERS = ("area", "period", "stage", "tier", "service")
# The "any stage/tier/service" choice. Not an empty value: a native <select> whose chosen option has
# value "" is drawn blank by dbc.Select, so "All stages" would not show.
ANY = ALL_AREAS


def _filter_id(name: str) -> dict:
    return {"type": ids.FILTER_TYPE, "name": name}


def dom_id(component_id: dict) -> str:
    """The id Dash gives a pattern-matching component in the page (sorted keys, compact JSON),
    so a <label for=...> can point at it."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def area_options() -> list[dict]:
    """'All areas', then each ICB, then each area (codes from the loaded areas list)."""
    return list(kept(("filter choices", "area"), _area_options))


def _area_options() -> list[dict]:
    options = [{"label": "All areas", "value": ALL_AREAS}]
    frame = areas()
    if frame.empty:
        return options
    icbs = frame.dropna(subset=["icb_code"]).drop_duplicates("icb_code").sort_values("icb_name")
    options += [{"label": f"ICB: {row.icb_name or row.icb_code}", "value": row.icb_code}
                for row in icbs.itertuples()]
    options += [{"label": f"{row.area_name} ({row.area_code})", "value": row.area_code}
                for row in frame.itertuples()]
    return options


def _reference_options(table: str, column: str, label_column: str = "label", *,
                       code_list: str | None = None) -> list[dict]:
    return list(kept(("filter choices", table, column, label_column, code_list),
                     lambda: _read_reference_options(table, column, label_column, code_list)))


def _read_reference_options(table: str, column: str, label_column: str, code_list: str | None) -> list[dict]:
    frame = reference_table(table)
    if frame.empty:
        return []
    if code_list:
        frame = frame[(frame["code_list"] == code_list) & (frame["code"] == frame["canonical"])]
    if "sort_order" in frame.columns:
        frame = frame.sort_values("sort_order")
    return [{"label": short_label(label or code), "value": code}
            for code, label in zip(frame[column], frame[label_column])]


def _select(name: str, label_text: str, options: list[dict], value: str | None, any_label: str) -> dbc.Col:
    choices = ([{"label": any_label, "value": ANY}] if any_label else []) + options
    known = {o["value"] for o in choices}
    if value and value not in known:  # a code from a copied link that this database lacks
        choices.append({"label": f"{value} (not in this database)", "value": value})
        known.add(value)
    current = value if value in known else (choices[0]["value"] if choices else None)
    return dbc.Col([
        dbc.Label(label_text, html_for=dom_id(_filter_id(name)), className="pathway-filter__label"),
        # dbc.Select is a native <select>: keyboard- and screen-reader-friendly without scripting.
        dbc.Select(id=_filter_id(name), options=choices, value=current),
    ], xs=12, sm=6, lg=True, className="pathway-filter")


def filter_bar(filters: Mapping[str, str], *, show: Iterable[str] = ALL_FILTERS, page_path: str = "/") -> html.Section:
    """The bar for one page; controls not shown keep their values in the URL."""
    show = tuple(show)
    columns = []
    if "area" in show:
        columns.append(_select("area", "Area or ICB", area_options(), filters.get("area", ALL_AREAS), ""))
    if "period" in show:
        for name, text in (("from", "Births from"), ("to", "Births to")):
            columns.append(dbc.Col([
                dbc.Label(text, html_for=dom_id(_filter_id(name)), className="pathway-filter__label"),
                dbc.Input(id=_filter_id(name), type="date", value=filters.get(name) or None,
                          debounce=True),
            ], xs=12, sm=6, lg=True, className="pathway-filter"))
    if "stage" in show:
        columns.append(_select("stage", "Stage", _reference_options("stages", "stage"),
                               filters.get("stage"), "All stages"))
    if "tier" in show:
        columns.append(_select("tier", "Tier", _reference_options("codes", "code", code_list="tier"),
                               filters.get("tier"), "All tiers"))
    if "service" in show:
        columns.append(_select("service", "Service", _reference_options("services", "service"),
                               filters.get("service"), "All services"))
    return html.Section([
        html.H2("Filters", className="visually-hidden"),
        dbc.Row(columns, className="g-2 align-items-end"),
        html.P([
            "The period is the births from and to these dates (blank: the last 12 months with "
            "complete follow-up). ",
            dcc.Link("Clear filters", href=page_path, id=ids.FILTER_RESET),
        ], className="pathway-filter__help"),
    ], id=ids.FILTER_BAR, className="pathway-filter-bar", **{"aria-label": "Filters"})


def search_for_filters(values: list, control_ids: list[dict], current_search: str | None) -> str:
    """The new query string after the controls changed (blank or 'any' removes a filter)."""
    changes = {}
    for value, control in zip(values, control_ids):
        name = control["name"]
        if name in FILTER_NAMES:
            changes[name] = None if value in (None, "", ANY) else value
    return merge_query(current_search, changes)


@callback(
    Output(ids.URL, "search"),
    Input(_filter_id(ALL), "value"),
    State(_filter_id(ALL), "id"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def write_filters_to_url(values, control_ids, current_search):
    new_search = search_for_filters(values, control_ids, current_search)
    return no_update if new_search == (current_search or "") else new_search
