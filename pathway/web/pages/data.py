"""Data: upload an extract in the browser (the same loader and rules as `pathway load`), see its
summary and quarantined rows, the load log, data-quality measures and the audit log.

For data managers only: a viewer gets a sentence saying so, and pathway.web.access refuses a
viewer's callback naming any of this page's components (ids.DATA_MANAGER_ONLY) with 403."""

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
from pathway.web.access import may_manage_data, record_event
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


def upload_limit() -> int:
    """The largest file a data manager may upload here (contract 7.2: 200 MB by default)."""
    from pathway.web.access import policy
    return policy().upload_limit


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB"


def load_uploaded_file(contents: str | None, file_name: str | None):
    """Decode a dcc.Upload payload and load it through pathway.ingest.load_file.

    Returns (summary, None) or (None, a sentence saying why nothing was loaded).
    """
    if not contents:
        return None, "No file was received."
    if not may_manage_data():
        return None, "Only a data manager can load files."
    if is_read_only():
        return None, ("This dashboard is serving a read-only copy of the warehouse, so it cannot load files. "
                      "Load extracts with `pathway load FILE`, or run `python app.py` to load them here.")
    name = _safe_file_name(file_name)
    # The file's size from its base64 length, before decoding anything (4 characters per 3 bytes).
    start = contents.find(",") + 1
    if start == 0:
        return None, f"{name}: the upload could not be read; try again."
    size = (len(contents) - start) * 3 // 4 - contents.count("=", len(contents) - 2)
    if size > upload_limit():
        record_event("upload", "refused", {"file_name": name, "bytes": size, "why": "too large"})
        return None, (f"{name} is {_megabytes(size)}, more than the {_megabytes(upload_limit())} the "
                      "dashboard accepts: load it with `pathway load FILE`.")
    from pathway.db import WarehouseError
    from pathway.ingest import load_file

    with tempfile.TemporaryDirectory(prefix="pathway-upload-") as folder:
        path = Path(folder) / _stored_name(name)   # never the client's name
        try:
            _write_decoded(contents, start, path)
        except (ValueError, binascii.Error):
            return None, f"{name}: the upload could not be read; try again."
        try:
            # the upload's size is checked above; columns and XLSX unpacked size as for any load
            summary = load_file(web_warehouse(), path, display_name=name)
        except WarehouseError as error:
            return None, f"{DATABASE_UNREACHABLE} ({error})."
    record_event("upload", summary.outcome, {"file_name": name, "bytes": size,
                                             "table": summary.table,
                                             "rows_loaded": summary.rows_loaded,
                                             "rows_rejected": summary.rows_rejected})
    forget_cached_metrics()
    if summary.outcome == "loaded":
        # the answers the views ask first, stored for the new data as `pathway load` stores them;
        # in the background, so the upload answers now (until then views are worked out on request)
        from pathway.answers import BACKGROUND

        BACKGROUND.start(web_warehouse())
    return summary, None


_DECODE_CHUNK = 4 * 1024 * 1024  # characters, a multiple of 4


def _write_decoded(contents: str, start: int, path: Path) -> None:
    """Decode the base64 after `start` into `path` a few megabytes at a time, so the server holds
    no second or third copy of a large upload (the payload itself is already in memory)."""
    with path.open("wb") as out:
        for offset in range(start, len(contents), _DECODE_CHUNK):
            out.write(base64.b64decode(contents[offset:offset + _DECODE_CHUNK], validate=False))


def upload_result(summary, message: str | None) -> list:
    """The load summary in words, and the quarantined rows (line, column, value, reason)."""
    if message:
        return [error_state(message)]
    colour = "success" if summary.outcome == "loaded" else "danger"
    children = [html.Div(summary.describe(), className=f"alert alert-{colour}", role="status")]
    if summary.outcome == "loaded" and web_warehouse().settings.precompute_seconds > 0:
        children.append(html.P("The views' first answers for the new data are being worked out in the "
                               "background; until they are, a view may take a little longer to show."))
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
                   "measures. It is checked and loaded with the same rules as `pathway load`. Files up to "
                   f"{_megabytes(upload_limit())}; a larger file is not sent (load it with `pathway load FILE`).")
    upload = dcc.Upload(
        id=ids.DATA_UPLOAD, accept=ACCEPTED, multiple=False, className="pathway-upload",
        max_size=upload_limit(),
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
        dbc.Card(dbc.CardBody([html.H2("Audit log", className="h4"),
                               html.Div(audit_log_block(), id=ids.DATA_AUDIT_LOG)]), className="pathway-card mb-4"),
    ]


def audit_log_block(limit: int = 100):
    """The latest sign-ins, uploads, downloads, reports and reference changes, newest first."""
    from pathway import audit

    try:
        frame = audit.read_events(web_warehouse(), limit=limit)
    except Exception as error:  # the page must still render; say why
        return error_state(f"{DATABASE_UNREACHABLE} ({str(error).splitlines()[0]}).")
    if frame.empty:
        return empty_state("Nothing has been recorded yet.")
    frame = frame.assign(occurred_at=frame["occurred_at"].astype(str).str.slice(0, 19),
                         event=frame["event"].map(lambda e: audit.EVENT_WORDS.get(e, e)))
    frame.columns = ["Time (UTC)", "User", "Address", "Event", "Outcome", "Details"]
    return html_table(frame.fillna(""), caption=f"Audit log: the latest {limit} events, newest first "
                                                "(`pathway audit --since DATE` lists them all)")


def layout(**query):
    from pathway.web.components.page import page

    filters, problems = read_filters(query)
    if not may_manage_data():
        return page("Data", "Loading extracts, the load log, data quality and the audit log are for data managers.",
                    filters, problems, [empty_state("Your account is a viewer's: ask a data manager if you need "
                                                    "to load an extract or check the data.")],
                    path=PATH, show=())
    return page("Data", "Load extracts, see what every load did, and how complete the data are.",
                filters, problems, data_body(), path=PATH, show=())
