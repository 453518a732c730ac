"""The figure card: a chart with its text alternative, a table alternative and CSV/XLSX downloads.

Every chart on every page is one of these, so each has the same accessible parts and the same
downloads of the same suppressed aggregate rows the screen shows.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import MATCH, Input, Output, State, callback, ctx, dcc, html, no_update

from pathway.web import exports, ids
from pathway.web.components.messages import NO_DATA, empty_state, error_state
from pathway.web.components.tables import html_table, records
from pathway.web.warehouse import MetricResult

GRAPH_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}


def _card_id(kind: str, card: str) -> dict:
    return {"type": kind, "card": card}


def figure_card(card: str, title: str, *, figure: dict | None, table: pd.DataFrame | None,
                summary: str, source: str | None = None, result: MetricResult | None = None,
                empty_text: str = NO_DATA, extra: Any = None,
                empty_hint: str | None = "Try a wider period, another area or fewer filters.",
                definition: Any = None) -> html.Section:
    """One card. `figure` is a plain-dict Plotly figure (pathway.web.components.charts); `table` holds
    the people-formatted rows ('*' for suppressed counts).

    When `result` failed, the card says why in words; when `table` is empty, it says there is no
    data for this filter. It never shows a blank chart.
    """
    heading = html.H2(title, className="pathway-card__title h4", id=f"{card}-title")
    if result is not None and result.message:
        body = [error_state(result.message)]
    elif table is None or table.empty:
        body = [empty_state(empty_text, empty_hint)]
    else:
        description_id = f"{card}-description"
        body = [
            html.P(summary, id=description_id, className="pathway-text-alternative"),
            html.Div(dcc.Graph(id=_card_id(ids.CARD_GRAPH_TYPE, card), figure=figure,
                               config=GRAPH_CONFIG, className="pathway-graph"),
                     className="pathway-graph-scroll",
                     **{"aria-describedby": description_id}) if figure is not None else None,
            extra,
            html.Details([html.Summary("Show the figures as a table"),
                          html_table(table, caption=title, table_id=_card_id(ids.CARD_TABLE_TYPE, card))],
                         className="pathway-table-details"),
            html.Div([
                html.Button("Download CSV", id=_card_id(ids.CARD_CSV_TYPE, card), type="button",
                            className="btn btn-outline-primary btn-sm me-2",
                            **{"aria-label": f"Download CSV: {title}"}),
                html.Button("Download XLSX", id=_card_id(ids.CARD_XLSX_TYPE, card), type="button",
                            className="btn btn-outline-primary btn-sm",
                            **{"aria-label": f"Download XLSX: {title}"}),
                dcc.Download(id=_card_id(ids.CARD_DOWNLOAD_TYPE, card)),
                dcc.Store(id=_card_id(ids.CARD_DATA_TYPE, card),
                          data={"columns": [str(c) for c in table.columns], "rows": records(table)}),
            ], className="pathway-downloads"),
        ]
    if source:
        body.append(html.P(source, className="pathway-source"))
    if definition is not None:
        body.append(definition)
    return html.Section(dbc.Card(dbc.CardBody([heading, *[b for b in body if b is not None]]),
                                 className="pathway-card mb-4"),
                        id=_card_id(ids.CARD_TYPE, card), **{"aria-labelledby": f"{card}-title"})


def card_download(kind: str, card: str, stored: dict | None, context: dict | None = None) -> dict | None:
    """The dcc.Download payload for a card's rows as 'csv' or 'xlsx' (formulas made inert).

    `context` (exports.download_context: the area and the births period) is written into every row
    and into the file name, so a file read later still says what it covers."""
    if not stored or not stored.get("rows"):
        return None
    frame = exports.with_context(exports.frame_from_records(stored["rows"], stored.get("columns")), context)
    if kind == "xlsx":
        return dcc.send_bytes(exports.xlsx_bytes(frame, sheet_name=card),
                              exports.download_name(card, "xlsx", context))
    return dcc.send_bytes(exports.csv_bytes(frame), exports.download_name(card, "csv", context))


@callback(
    Output(_card_id(ids.CARD_DOWNLOAD_TYPE, MATCH), "data"),
    Input(_card_id(ids.CARD_CSV_TYPE, MATCH), "n_clicks"),
    Input(_card_id(ids.CARD_XLSX_TYPE, MATCH), "n_clicks"),
    State(_card_id(ids.CARD_DATA_TYPE, MATCH), "data"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def download_figure_data(_csv_clicks, _xlsx_clicks, stored, search=None):
    trigger = ctx.triggered_id
    if not trigger:
        return no_update
    kind = "xlsx" if trigger["type"] == ids.CARD_XLSX_TYPE else "csv"
    return card_download(kind, trigger["card"], stored, download_context(search)) or no_update


def download_context(search: str | None) -> dict:
    """The area (code and name), the births period and the data cut-off of the filters in the URL."""
    from pathway.web.components.page import area_names
    from pathway.web.filters import filters_from_query
    from pathway.web.warehouse import resolved_period

    filters = filters_from_query(search)
    area = filters.get("area", "all")
    period = resolved_period(filters) or {}
    return {"area_code": area, "area_name": "All areas" if area == "all" else area_names().get(area, area),
            **{key: (str(period[key]) if period.get(key) else filters.get(key, "")) for key in ("from", "to", "as_at")}}


def loading(children: Any, component_id: str | None = None) -> dcc.Loading:
    """A loading state around content a callback replaces: while new figures are worked out the old
    ones are dimmed under a spinner, so a stale figure is never read as the answer to new filters."""
    return dcc.Loading(html.Div(children, id=component_id) if component_id else children, type="default",
                       delay_show=250, overlay_style={"visibility": "visible", "opacity": 0.3},
                       color="#005eb8", parent_className="pathway-loading")
