"""Create the dashboard app (once per process) and serve it: `python app.py` for one process,
`pathway serve` for gunicorn workers with read-only DuckDB connections and a /health endpoint.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import plotly.io.json as plotly_json
from dash import Dash
from flask import jsonify
from sqlalchemy.engine import make_url

from pathway.resources import assets_dir
from pathway.settings import Settings, load_settings
from pathway.web import access, headers
from pathway.web import warehouse as web_data

log = logging.getLogger(__name__)

PAGES_DIR = Path(__file__).resolve().parent / "pages"
TITLE = "Perinatal Pathway Analytics"

_app: Dash | None = None


def create_app(db_url: str | None = None, *, read_only: bool = False, warehouse=None,
               open_access: bool = False, settings: Settings | None = None) -> Dash:
    """The Dash app, made once per process; a later call only points it at another database and
    says again how people get in.

    Sign-in is on unless open_access (`python app.py` on loopback: one analyst, no accounts).
    Dash registers pages and `dash.callback`s globally, so a second Dash instance in the same
    process would miss the shared callbacks: one app per process, by design.
    """
    global _app
    settings = settings or load_settings()
    web_data.configure(db_url, read_only=read_only, warehouse=warehouse)
    access.configure(settings, open_access=open_access)
    if _app is not None:
        _app.server.config["MAX_CONTENT_LENGTH"] = _largest_request(settings)
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
    # A dashboard upload arrives base64-encoded inside a JSON callback: 4/3 of the file, plus the rest.
    app.server.config["MAX_CONTENT_LENGTH"] = _largest_request(settings)
    access.install(app.server, settings)
    headers.install(app)
    _share_views_between_workers()
    _app = app
    return app


def _share_views_between_workers() -> None:
    """Every page's layout answered from the shared view cache (pathway.web.view_cache) when any
    worker rendered it for the same URL and data version."""
    import dash

    from pathway.web.view_cache import cached_layout

    for page in dash.page_registry.values():
        if callable(page.get("layout")) and not hasattr(page["layout"], "__wrapped__"):
            page["layout"] = cached_layout(page["path"], page["layout"], web_data.view_cache,
                                           web_data.data_version, web_data.view_failed,
                                           (web_data.record_fetches, web_data.fetched_so_far,
                                            web_data.prefetch))


def _largest_request(settings: Settings) -> int:
    return settings.dashboard_upload_limit * 4 // 3 + 1_000_000


def _health():
    """Open to anyone (load balancers): only whether the database answers, unless signed in."""
    report = web_data.health()
    status = 200 if report["status"] == "ok" else 503
    if not access.identify():
        report = {"status": report["status"]}
    return jsonify(report), status


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
                current = journey.is_current(conn) and journey.built_by_this_code(conn)
        if current is not None:
            if not current:
                # Read-only workers cannot build the journey tables, and every figure needs them: a
                # warehouse loaded or built by an older version (or stopped mid-batch) is brought
                # up to date here.
                print("Rebuilding the journey tables (one row per pregnancy) ...", flush=True)
                with warehouse.begin() as conn:
                    journey.refresh_after_load(conn)
            _precompute_answers(warehouse)
            return False
        from pathway.demo import build_demo

        print(f"The database is empty: building the {scale} demo data set (seed {seed}) ...", flush=True)
        build_demo(warehouse, seed=seed, scale=scale, progress=True)
        _precompute_answers(warehouse)
        return True
    finally:
        # Close every connection before gunicorn forks, so workers can open the file read-only.
        warehouse.dispose()


def _precompute_answers(warehouse) -> None:
    """The first-request answers for the current data, unless a load already stored them all."""
    from pathway.answers import precompute

    if warehouse.settings.precompute_seconds <= 0:
        return
    summary = precompute(warehouse, progress=lambda text: None)
    if summary.answers:
        print(summary.describe(), flush=True)


def serve(host: str = "127.0.0.1", port: int = 8050, db_url: str | None = None, workers: int = 2) -> None:
    """`pathway serve`: gunicorn with N workers, each with its own read-only warehouse, no debug mode."""
    from gunicorn.app.base import BaseApplication

    from pathway.db import close_duckdb_default_connection

    settings = load_settings()
    db_url = db_url or settings.db_url
    prepare_database(db_url)
    _prepare_sign_in(db_url, settings)
    # DuckDB lets many processes read one file only when none of them writes.
    read_only = make_url(db_url).get_backend_name() == "duckdb"
    # One signing key for every worker (made here, before gunicorn forks, unless configured).
    if not settings.secret_key:
        import secrets
        settings = settings.with_overrides(secret_key=secrets.token_hex(32))
    wsgi = create_app(db_url, read_only=read_only, settings=settings).server

    class DashboardServer(BaseApplication):
        def load_config(self):
            # preload: the app is made once, before the fork, so workers share its pages in memory
            for key, value in {"bind": f"{host}:{port}", "workers": max(1, int(workers)),
                               "timeout": 120, "accesslog": "-", "errorlog": "-",
                               "preload_app": True, "post_worker_init": ready_worker,
                               # before each fork: no DuckDB threads for a worker to inherit
                               "pre_fork": lambda server, worker: close_duckdb_default_connection(),
                               }.items():
                self.cfg.set(key, value)

        def load(self):
            return wsgi

    def ready_worker(worker) -> None:
        # Open this worker's warehouse and answer one figure before the first request does
        # (read-only DuckDB connections cannot be opened before the fork and shared).
        warm_up_worker()

    warm_up_imports()
    rendered, seconds = warm_views(load_settings().view_warmup_seconds)
    if rendered:
        print(f"Rendered {rendered} views for the first requests in {seconds:.0f} s", flush=True)
    print(f"Serving {TITLE} on http://{host}:{port}/ with {workers} worker(s); health at /health; "
          "sign-in required", flush=True)
    # Objects made so far are never freed: moving them out of the collector's reach keeps it from
    # writing to (and so copying) the pages the workers share after the fork.
    gc.collect()
    gc.freeze()
    DashboardServer().run()


def warm_up_imports() -> None:
    """Import, before the fork, what the first request would otherwise import in every worker."""
    import duckdb  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from pathway import answers, metrics  # noqa: F401


def warm_views(seconds: float) -> tuple[int, float]:
    """Render every view for all areas, then every ICB, then every area, into the shared view cache
    (pathway.web.view_cache; views already kept for this data version are skipped), until `seconds`
    pass: a first click then costs what a repeat does. Runs once per data version, before the
    fork; the connection it opened is closed before the workers open their own."""
    import time

    import dash

    started = time.perf_counter()
    if seconds <= 0 or _app is None or web_data.view_cache() is None:
        return 0, 0.0
    from pathway.web.view_cache import view_key

    rendered = 0
    try:
        known = web_data.areas()
        codes = list(known["area_code"])
        icbs = sorted(set(known["icb_code"].dropna()) - set(codes))
        pages = [(page["path"], page["layout"]) for page in dash.page_registry.values()
                 if hasattr(page.get("layout"), "__wrapped__")]
        kept = web_data.view_cache().keys(web_data.data_version() or "")
        for query in [{}] + [{"area": code} for code in icbs + codes]:
            for path, layout in pages:
                if view_key(path, query) in kept:
                    continue
                if time.perf_counter() - started > seconds:
                    return rendered, time.perf_counter() - started
                # a request context per view, as a real request has (its own flask.g)
                with _app.server.test_request_context():
                    layout(**query)
                rendered += 1
    except Exception:  # warming is an optimisation: a failure leaves the views to be rendered when asked
        log.exception("rendering the views before serving failed")
    finally:
        web_data.close_warehouse()
    return rendered, time.perf_counter() - started


def warm_up_worker() -> None:
    """Open the warehouse and run one stored figure, so a worker's first request is not its slowest."""
    try:
        web_data.data_version()
        web_data.fetch_metric("births", {"area": "all"})
    except Exception:  # a warm-up must never stop a worker: the request will say what is wrong
        log.exception("warming up the worker failed")


def _prepare_sign_in(db_url: str, settings: Settings) -> None:
    """Before the workers start: move the audit journal into the warehouse (nothing else writes
    now), and say how to add the first account when there is none."""
    from pathway import accounts, audit
    from pathway.db import Warehouse

    warehouse = Warehouse(db_url)
    try:
        warehouse.ensure_schema()
        audit.import_journal(warehouse)
        if not accounts.list_users(warehouse) and not settings.trusted_proxies:
            print("No dashboard accounts yet: add one with `pathway users add NAME --role data_manager` "
                  "(or set PATHWAY_TRUSTED_PROXIES for a signing-in proxy).", flush=True)
    finally:
        warehouse.dispose()


def run_development_server(db_url: str | None = None, host: str = "127.0.0.1", port: int = 8050) -> None:
    """`python app.py`: one process, read-write (the Data page can load files), builds the demo if empty.

    Open, with no sign-in, for one analyst on this computer only: it refuses any other address."""
    from pathway.web.access import is_loopback

    if not is_loopback(host):
        raise SystemExit(f"python app.py runs without sign-in, so it serves this computer only (127.0.0.1), "
                         f"not {host}. To share the dashboard use `pathway serve --host {host}`, which asks "
                         "everyone to sign in.")
    prepare_database(db_url)
    app = create_app(db_url, open_access=True)
    print(f"Open for one analyst on this computer, without sign-in, at http://{host}:{port}/ "
          "(to share the dashboard with a team, use `pathway serve`, which asks everyone to sign in).",
          flush=True)
    app.run(host=host, port=port, debug=False)


__all__ = ["create_app", "serve", "prepare_database", "run_development_server"]
