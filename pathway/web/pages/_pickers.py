"""Choices for a page's metric picker, read from the catalogue so pickers and `pathway query` agree."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from pathway.web import ids
from pathway.web.filters import merge_query

FALLBACK_REACH_METRICS = ("stage_reach", "specialist_access", "mandated_contacts", "mood_screening")


def metric_choices(metric: str, parameter: str = "metric") -> list[dict]:
    from pathway import catalogue

    declared = catalogue.METRICS.get(metric)
    found = declared.parameter(parameter) if declared else None
    names = found.choices if found and found.choices else FALLBACK_REACH_METRICS
    titles = {m.name: m.title for m in catalogue.list_metrics()}
    return [{"label": titles.get(name.split(".")[0], name.replace("_", " ")) +
             (f" ({name.split('.', 1)[1].replace('_', ' ')})" if "." in name else ""), "value": name}
            for name in names]


def metric_picker(component_id: str, label_text: str, options: list[dict], value: str | None) -> html.Div:
    values = [o["value"] for o in options]
    return html.Div([
        dbc.Label(label_text, html_for=component_id, className="pathway-filter__label"),
        dbc.Select(id=component_id, options=options, value=value if value in values else (values[0] if values else None)),
    ], className="mb-3", style={"maxWidth": "32rem"})


def chosen_measure(filters: dict, options: list[dict]) -> str | None:
    """The measure named in the URL when it is one of this page's choices, else the page's first."""
    values = [o["value"] for o in options]
    wanted = filters.get("measure")
    return wanted if wanted in values else (values[0] if values else None)


def keep_measure_in_url(component_id: str) -> None:
    """A page's measure picker writes its choice to the URL (?measure=...), so a copied link, the
    back button and the page's other figures all follow it."""
    @callback(Output(ids.URL, "search", allow_duplicate=True), Input(component_id, "value"),
              State(ids.URL, "search"), prevent_initial_call=True)
    def write_measure(value, search):
        new = merge_query(search, {"measure": value})
        return no_update if new == (search or "") else new
