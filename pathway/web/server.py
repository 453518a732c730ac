"""Create the dashboard app (once per process) and serve it: `python app.py` for one process,
`pathway serve` for gunicorn workers with read-only DuckDB connections and a /health endpoint.
"""

from __future__ import annotations

import logging
from pathlib import Path

import plotly.io.json as plotly_json
from dash import Dash
from flask import jsonify
from sqlalchemy.engine import make_url

from pathway.resources import assets_dir
from pathway.settings import load_settings
from pathway.web import warehouse as web_data

log = logging.getLogger(__name__)

PAGES_DIR = Path(__file__).resolve().parent / "pages"
TITLE = "Perinatal Pathway Analytics"

_app: Dash | None = None


def create_app(db_url: str | None = None, *, read_only: bool = False, warehouse=None) -> Dash:
    """The Dash app, made once per process; a later call only points it at another database.

    Dash registers pages and `dash.callback`s globally, so a second Dash instance in the same
    process would miss the shared callbacks: one app per process, by design.
    """
    global _app
    web_data.configure(db_url, read_only=read_only, warehouse=warehouse)
    if _app is not None:
        return _app
    # Dash writes every layout and callback answer with plotly.io's JSON encoder. Its orjson engine
    # walks each dict in Python first and took a third of a filter change; the standard library's
    # C encoder writes the same JSON two to three times faster.
    plotly_json.config.default_engine = "json"
    # name="pathway" makes Dash name the page modules pathway.web.pages.<page>, as Python does.
    app = Dash("pathway", use_pages=True, pages_folder=str(PAGES_DIR), assets_folder=str(assets_dir()),
               title=TITLE, update_title=None, suppress_callback_exceptions=True,
               # gzip/brotli for scripts, layouts and callback answers (flask-compress): the
               # issue's budget is under 1 MB per page load, and Plotly's JSON compresses ~10x.
               compress=True,
               meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}])
    from pathway.web.shell import shell

    app.layout = shell
    # The page language, for screen readers and WCAG 3.1.1.
    app.index_string = app.index_string.replace("<html>", '<html lang="en-GB">', 1)
    app.server.add_url_rule("/health", "health", _health)
    # An upload arrives as base64 (4 characters per 3 bytes) inside one request: a body far
    # over the Data page's own limit is cut off at the door (413) before it fills memory; one
    # a little over it reaches the page, which refuses it in words.
    app.server.config["MAX_CONTENT_LENGTH"] = 2 * load_settings().max_upload_bytes * 4 // 3
    _app = app
    return app


def _health():
    report = web_data.health()
    return jsonify(report), 200 if report["status"] == "ok" else 503


def prepare_database(db_url: str | None = None, *, scale: str = "county", seed: int = 2024) -> bool:
    """Build the demo data set when the warehouse has no pregnancies yet (True when it built it), else
    bring the journey tables up to date with the latest load."""
    import sqlalchemy as sa

    from pathway import journey
    from pathway.db import Warehouse
    from pathway.schema import cohort

    warehouse = Warehouse(db_url)
    current = None  # None: the warehouse is empty
    try:
        warehouse.ensure_schema()
        with warehouse.connect() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(cohort)).scalar():
                current = journey.is_current(conn)
        if current is not None:
            if not current:
                # Read-only workers cannot build the journey tables, and every figure needs them: a
                # warehouse loaded by an older version (or stopped mid-batch) is brought up to date here.
                print("Rebuilding the journey tables (one row per pregnancy) ...", flush=True)
                with warehouse.begin() as conn:
                    journey.refresh(conn)
            return False
        from pathway.demo import build_demo

        log.warning("the warehouse is empty: building the %s demo data set (seed %s)", scale, seed)
        print(f"The database is empty: building the {scale} demo data set (seed {seed}) ...", flush=True)
        build_demo(warehouse, seed=seed, scale=scale, progress=True)
        return True
    finally:
        # Close every connection before gunicorn forks, so workers can open the file read-only.
        warehouse.dispose()


def serve(host: str = "127.0.0.1", port: int = 8050, db_url: str | None = None, workers: int = 2) -> None:
    """`pathway serve`: gunicorn with N workers, each with its own read-only warehouse, no debug mode."""
    from gunicorn.app.base import BaseApplication

    db_url = db_url or load_settings().db_url
    prepare_database(db_url)
    # DuckDB lets many processes read one file only when none of them writes.
    read_only = make_url(db_url).get_backend_name() == "duckdb"
    wsgi = create_app(db_url, read_only=read_only).server

    class DashboardServer(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"{host}:{port}", "workers": max(1, int(workers)),
                               "timeout": 120, "accesslog": "-", "errorlog": "-"}.items():
                self.cfg.set(key, value)

        def load(self):
            return wsgi

    print(f"Serving {TITLE} on http://{host}:{port}/ with {workers} worker(s); health at /health", flush=True)
    DashboardServer().run()


def run_development_server(db_url: str | None = None, host: str = "127.0.0.1", port: int = 8050) -> None:
    """`python app.py`: one process, read-write (the Data page can load files), builds the demo if empty."""
    prepare_database(db_url)
    create_app(db_url).run(host=host, port=port, debug=False)


__all__ = ["create_app", "serve", "prepare_database", "run_development_server"]
