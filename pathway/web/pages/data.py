"""Data: upload an extract in the browser (the same loader and rules as `pathway load`), see its
summary and quarantined rows, the load log, and data-quality measures."""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from pathway.web import ids
from pathway.web.components.figure_card import figure_card
from pathway.web.components.messages import empty_state, error_state
from pathway.web.components.tables import html_table, people_frame
from pathway.web.filters import read_filters
from pathway.web.warehouse import (DATABASE_UNREACHABLE, fetch_metric, forget_cached_metrics, is_read_only,
                                   load_log, web_warehouse)

PATH = "/data"
dash.register_page(__name__, path=PATH, name="Data", title="Data - Perinatal Pathway Analytics", order=9,
                   description="Upload an extract, the load log and data quality")

MAX_REJECTS_SHOWN = 200
ACCEPTED = ".csv,.txt,.tsv,.xlsx,.parquet"


MAX_NAME_CHARACTERS = 100


def _safe_file_name(name: str | None) -> str:
    """The uploaded file's own name as people read it (it names the table and appears in the
    load log): its last part only, plain characters, at most MAX_NAME_CHARACTERS long. It is
    never a path: the upload is stored as _stored_name's file."""
    last = re.split(r"[\\/]", name or "")[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._\- ]+", "_", last).strip(" .")
    if not cleaned:
        return "upload.csv"
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,8}", suffix):
        stem, suffix = cleaned, ""
    suffix = f".{suffix}" if suffix else ""
    return (stem[:MAX_NAME_CHARACTERS - len(suffix)].rstrip(" .") or "upload") + suffix


def _stored_name(safe_name: str) -> str:
    """The file name in the upload's private folder: fixed, with the format's suffix only."""
    return "upload" + Path(safe_name).suffix.lower()


def load_uploaded_file(contents: str | None, file_name: str | None):
    """Decode a dcc.Upload payload and load it through pathway.ingest.load_file.

    Returns (summary, None) or (None, a sentence saying why nothing was loaded).
    """
    if not contents:
        return None, "No file was received."
    if is_read_only():
        return None, ("This dashboard is serving a read-only copy of the warehouse, so it cannot load files. "
                      "Load extracts with `pathway load FILE`, or run `python app.py` to load them here.")
    from pathway.db import WarehouseError
    from pathway.ingest import load_file
    from pathway.ingest.limits import Limits, TooBig

    name = _safe_file_name(file_name)
    warehouse = web_warehouse()
    limits = Limits.from_settings(warehouse.settings, upload=True)
    try:
        _, encoded = contents.split(",", 1)
        # Refused before decoding: base64 holds 3 bytes in every 4 characters.
        limits.check_file_size(name, len(encoded) * 3 // 4 - encoded[-2:].count("="))
        raw = base64.b64decode(encoded, validate=False)
    except TooBig as refusal:
        return None, f"{refusal}. Load bigger files with `pathway load FILE`."
    except (ValueError, binascii.Error):
        return None, f"{name}: the upload could not be read; try again."

    with tempfile.TemporaryDirectory(prefix="pathway-upload-") as folder:
        path = Path(folder) / _stored_name(name)
        path.write_bytes(raw)
        try:
            summary = load_file(warehouse, path, display_name=name, limits=limits)
        except WarehouseError as error:
            return None, f"{DATABASE_UNREACHABLE} ({error})."
    forget_cached_metrics()
    return summary, None


def upload_result(summary, message: str | None) -> list:
    """The load summary in words, and the quarantined rows (line, column, value, reason)."""
    if message:
        return [error_state(message)]
    colour = "success" if summary.outcome == "loaded" else "danger"
    children = [html.Div(summary.describe(), className=f"alert alert-{colour}", role="status")]
    rejects = getattr(summary, "rejects", None)
    if rejects is not None and len(rejects):
        shown = rejects.head(MAX_REJECTS_SHOWN)
        children += [html.H3("Quarantined rows", className="h5"),
                     html.P(f"{len(rejects):,} rows were not loaded; each is kept in the rejects table with "
                            "its line, column, value and reason."),
                     html_table(shown, caption=f"Quarantined rows of {summary.file_name}",
                                table_id=ids.DATA_UPLOAD_TABLE)]
    return children


@callback(
    Output(ids.DATA_UPLOAD_RESULT, "children"),
    Output(ids.DATA_LOAD_LOG, "children"),
    Input(ids.DATA_UPLOAD, "contents"),
    State(ids.DATA_UPLOAD, "filename"),
    prevent_initial_call=True,
)
def load_upload(contents, file_name):
    summary, message = load_uploaded_file(contents, file_name)
    return upload_result(summary, message), load_log_block()


def load_log_block():
    try:
        frame = load_log()
    except Exception as error:  # the page must still render; say why
        return error_state(f"{DATABASE_UNREACHABLE} ({str(error).splitlines()[0]}).")
    if frame.empty:
        return empty_state("No files have been loaded yet.")
    frame = frame.assign(ended_at=frame["ended_at"].astype(str).str.slice(0, 19))
    return html_table(frame.fillna(""), caption="Load log, newest first")


def data_quality_card():
    result = fetch_metric("data_quality", {})
    table = people_frame(result.frame, "data_quality") if result.ok and not result.empty else None
    summary = ""
    if table is not None:
        frame = result.frame
        low = frame[pd.to_numeric(frame["completeness_pct"], errors="coerce") < 95]
        summary = (f"{len(frame)} contract columns checked; {len(low)} are less than 95% complete"
                   + (": " + ", ".join(f"{r.table}.{r.column}" for r in low.head(10).itertuples()) if len(low) else "")
                   + ".")
    return figure_card("data-quality", "Data quality", figure=None, table=table, summary=summary,
                       result=result if not result.ok else None,
                       empty_text="No data loaded yet, so there is nothing to measure.",
                       source="Completeness of every contract column, values loaded but unusable, rows "
                              "quarantined and the last load (contract sections 1-3).")


def data_body() -> list:
    upload_help = ("Drop an extract here or choose a file (CSV, XLSX or Parquet): areas, cohort, activity or "
                   "measures. It is checked and loaded with the same rules as `pathway load`.")
    upload = dcc.Upload(
        id=ids.DATA_UPLOAD, accept=ACCEPTED, multiple=False, className="pathway-upload",
        children=html.Div([html.Strong("Upload an extract. "), upload_help,
                           html.Span(" Choose a file", className="btn btn-primary btn-sm ms-2")]),
        style={"border": "2px dashed #425563", "borderRadius": "4px", "padding": "1rem", "background": "white"},
    )
    return [
        dbc.Card(dbc.CardBody([html.H2("Load an extract", className="h4"),
                               upload if not is_read_only() else error_state(
                                   "This dashboard is serving a read-only copy of the warehouse: load extracts "
                                   "with `pathway load FILE`."),
                               dcc.Loading(html.Div(id=ids.DATA_UPLOAD_RESULT, className="mt-3",
                                                    **{"aria-live": "polite"}))]),
                 className="pathway-card mb-4"),
        dbc.Card(dbc.CardBody([html.H2("Load log", className="h4"),
                               html.Div(load_log_block(), id=ids.DATA_LOAD_LOG)]), className="pathway-card mb-4"),
        data_quality_card(),
    ]


def layout(**query):
    from pathway.web.components.page import page

    filters, problems = read_filters(query)
    return page("Data", "Load extracts, see what every load did, and how complete the data are.",
                filters, problems, data_body(), path=PATH, show=())
