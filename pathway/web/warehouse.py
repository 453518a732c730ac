"""The dashboard's one Warehouse per process (opened lazily; read-only under gunicorn) and the
calls pages make through it, with every failure turned into a sentence for people.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pandas as pd
import sqlalchemy as sa

from pathway.db import Warehouse, WarehouseError

log = logging.getLogger(__name__)

_lock = threading.RLock()
_config: dict[str, Any] = {"db_url": None, "read_only": False, "warehouse": None}
_opened: dict[str, Any] = {"pid": None, "warehouse": None, "view_cache": None}

# Metric answers (and what pages derive from them) are kept per process, keyed on the data
# version: a load, from this dashboard or from `pathway load` in another process, a journey
# rebuild or a replaced reference table starts afresh. Nothing expires on a clock; the least
# recently used answers go first once the kept answers pass _CACHE_BYTES.
_CACHE_BYTES = 256 * 1024 * 1024
_cache: "OrderedDict[tuple, tuple[int, Any]]" = OrderedDict()
_cache_bytes = [0]

DATABASE_UNREACHABLE = "The database is not reachable, so this figure cannot be shown"


def configure(db_url: str | None = None, *, read_only: bool = False,
              warehouse: Warehouse | None = None) -> None:
    """Say which database the dashboard reads (before the first request; tests pass a Warehouse)."""
    with _lock:
        _config.update(db_url=db_url, read_only=read_only, warehouse=warehouse)
        _opened.update(pid=None, warehouse=None, view_cache=None)
        _cache.clear()
        _cache_bytes[0] = 0


def web_warehouse() -> Warehouse:
    """This process's Warehouse, opened on first use (after gunicorn forks, so never shared)."""
    with _lock:
        if _config["warehouse"] is not None:
            return _config["warehouse"]
        if _opened["warehouse"] is None or _opened["pid"] != os.getpid():
            # A writing dashboard (`python app.py`) opens the file per request and lets it go
            # after, so read-only commands (`pathway query`) can open it in between.
            warehouse = Warehouse(_config["db_url"], read_only=_config["read_only"],
                                  hold_file=_config["read_only"])
            warehouse.ensure_schema()
            _opened.update(pid=os.getpid(), warehouse=warehouse)
        return _opened["warehouse"]


def close_warehouse() -> None:
    """Close this process's connections (before gunicorn forks: each worker opens its own)."""
    with _lock:
        if _opened["warehouse"] is not None:
            _opened["warehouse"].dispose()
        _opened.update(pid=None, warehouse=None)


def is_read_only() -> bool:
    return bool(_config["read_only"]) and _config["warehouse"] is None


def forget_cached_metrics() -> None:
    """Forget every kept answer (after a load through the Data page)."""
    with _lock:
        _cache.clear()
        _cache_bytes[0] = 0


@dataclass
class MetricResult:
    """A metric's suppressed rows, or why there are none (a sentence, never a traceback)."""

    name: str
    frame: pd.DataFrame | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.frame is not None and self.message is None

    @property
    def empty(self) -> bool:
        return self.frame is None or self.frame.empty


def _metrics():
    from pathway import metrics
    return metrics


def data_version() -> str | None:
    """The data version (pathway.answers: latest load and journey build), asked once per request
    (None when unreachable).

    Inside a Dash callback the answer is kept on flask.g, so the page's many figures cost one
    round trip between them; outside a request (tests, scripts) it is asked every time.
    """
    from flask import g, has_request_context

    from pathway.answers import current_version

    if has_request_context() and "pathway_data_version" in g:
        return g.pathway_data_version
    try:
        warehouse = web_warehouse()
        with warehouse.connect() as conn:
            version = current_version(warehouse, conn).key
    except (WarehouseError, sa.exc.SQLAlchemyError):
        version = None
    if has_request_context():
        g.pathway_data_version = version
    return version


def _size_of(value: Any) -> int:
    """Roughly how many bytes a kept answer holds (DataFrames by their memory use)."""
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(index=True, deep=True).sum())
    if isinstance(value, (list, tuple, dict, set)):
        return 64 * (len(value) + 1)
    return 256


def kept(key: tuple, make: Callable[[], Any]) -> Any:
    """make(), or its answer for the same key and data version kept from an earlier call.

    For answers that only depend on the database and the key: metric rows, reference labels,
    filter choices. Callers must not change what they get back. None (a failure) is not kept."""
    version = data_version()
    if version is None:
        return make()
    full_key = (version, *key)
    with _lock:
        hit = _cache.get(full_key)
        if hit is not None:
            _cache.move_to_end(full_key)
            return hit[1]
    value = make()
    if value is not None:
        size = _size_of(value)
        with _lock:
            old = _cache.pop(full_key, None)
            if old is not None:
                _cache_bytes[0] -= old[0]
            _cache[full_key] = (size, value)
            _cache_bytes[0] += size
            while _cache_bytes[0] > _CACHE_BYTES and len(_cache) > 1:
                _, (gone, _) = _cache.popitem(last=False)
                _cache_bytes[0] -= gone
    return value


def _note_failure() -> None:
    """Say that this request showed a failure in words, so its view is not kept for others."""
    from flask import g, has_request_context

    if has_request_context():
        g.pathway_view_failed = True


def view_failed() -> bool:
    from flask import g, has_request_context

    return has_request_context() and bool(g.get("pathway_view_failed"))


def view_cache():
    """This database's shared view cache (pathway.web.view_cache), or None for a test's Warehouse."""
    from pathway.web.view_cache import ViewCache, folder_for

    with _lock:
        if _config["warehouse"] is not None:
            return None
        if _opened.get("view_cache") is None:
            settings = web_warehouse().settings
            _opened["view_cache"] = ViewCache(folder_for(str(web_warehouse().url), settings.view_cache_dir))
        return _opened["view_cache"]


def _run_metric(name: str, params: dict) -> MetricResult:
    try:
        metrics = _metrics()
    except ImportError:
        return MetricResult(name, message="The metric catalogue is not installed, so this figure cannot be shown.")
    try:
        frame = metrics.run_metric(web_warehouse(), name, params, suppress=True)
    except WarehouseError as error:
        log.warning("metric %s: %s", name, error)
        return MetricResult(name, message=f"{DATABASE_UNREACHABLE} ({error}).")
    except getattr(metrics, "MetricError", ValueError) as error:
        return MetricResult(name, message=str(error))
    except Exception:  # the page must still render; the detail goes to the server log
        log.exception("metric %s with %s failed", name, params)
        return MetricResult(name, message=f"The figure '{name}' could not be calculated; "
                                          "the detail is in the server log.")
    return MetricResult(name, frame)


def fetch_metric(name: str, params: Mapping[str, Any] | None = None) -> MetricResult:
    """run_metric through this process's Warehouse (suppressed), its failures described in words.

    Each (metric, parameters) runs once per data version: the page's other figures, the next
    filter change and the other pages share the answer."""
    params = dict(params or {})
    key = ("metric", name, tuple(sorted((k, str(v)) for k, v in params.items())))
    failure: list[MetricResult] = []
    _note_fetch(name, params)

    def run() -> pd.DataFrame | None:
        result = _run_metric(name, params)
        if not result.ok:
            failure.append(result)  # said in words, never kept: the next request tries again
            _note_failure()
            return None
        return result.frame

    frame = kept(key, run)
    if frame is None:
        return failure[0]
    # A copy, so a page that adds columns cannot change what the next request is given.
    return MetricResult(name, frame.copy())


def _note_fetch(name: str, params: dict) -> None:
    from flask import g, has_request_context

    if has_request_context() and g.get("pathway_fetches") is not None:
        g.pathway_fetches.append([name, params])


def record_fetches() -> None:
    """Start noting which metrics this request fetches (fetched_so_far gives them back)."""
    from flask import g, has_request_context

    if has_request_context():
        g.pathway_fetches = []


def fetched_so_far() -> list:
    from flask import g, has_request_context

    return list(g.get("pathway_fetches") or []) if has_request_context() else []


_PREFETCH_THREADS = 4


def prefetch(requests: list) -> None:
    """Fetch a page's metrics at once, each on its own thread and connection (DuckDB and
    PostgreSQL both answer concurrent reads), so the page's render finds every answer kept."""
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    if len(requests) < 2:
        return
    data_version()  # read once, before the threads share this request's answer

    def fetch(request):
        return fetch_metric(request[0], request[1])

    # each fetch runs in its own copy of this request's context, so all share its data version
    contexts = [contextvars.copy_context() for _ in requests]
    with ThreadPoolExecutor(max_workers=min(_PREFETCH_THREADS, len(requests))) as pool:
        list(pool.map(lambda pair: pair[0].run(fetch, pair[1]), zip(contexts, requests)))


def fetch_economic_assumptions(params: Mapping[str, Any] | None = None) -> MetricResult:
    """Every assumption behind economic_case for these parameters (pathway.metrics.economic_assumptions),
    with its source and status; failures in words, as fetch_metric."""
    try:
        frame = _metrics().economic_assumptions(web_warehouse(), dict(params or {}))
    except WarehouseError as error:
        return MetricResult("economic_assumptions", message=f"{DATABASE_UNREACHABLE} ({error}).")
    except (AttributeError, ImportError):
        return MetricResult("economic_assumptions", message="The list of assumptions is not available in this version.")
    except getattr(_metrics(), "MetricError", ValueError) as error:
        return MetricResult("economic_assumptions", message=str(error))
    except Exception:
        log.exception("economic assumptions with %s failed", params)
        return MetricResult("economic_assumptions", message="The assumptions could not be listed; the detail is "
                                                            "in the server log.")
    return MetricResult("economic_assumptions", frame)


def _select(statement) -> pd.DataFrame:
    with web_warehouse().connect() as conn:
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def areas() -> pd.DataFrame:
    """The areas list (codes, names, ICBs): the filter's choices and the tile map's layout."""
    from pathway.schema import areas as table

    def read():
        try:
            return _select(sa.select(table.c.area_code, table.c.area_name, table.c.icb_code,
                                     table.c.icb_name, table.c.region_code, table.c.region_name)
                           .order_by(table.c.area_name))
        except (WarehouseError, sa.exc.SQLAlchemyError) as error:
            log.warning("areas list: %s", error)
            return None

    found = kept(("areas list",), read)
    return found.copy() if found is not None else pd.DataFrame(
        columns=["area_code", "area_name", "icb_code", "icb_name", "region_code", "region_name"])


def reference_table(name: str) -> pd.DataFrame:
    """One sourced reference table (stages, services, parameters, costs, ...)."""
    from pathway.schema import REFERENCE_TABLES

    def read():
        try:
            return _select(sa.select(REFERENCE_TABLES[name]))
        except (WarehouseError, sa.exc.SQLAlchemyError) as error:
            log.warning("reference %s: %s", name, error)
            return None

    found = kept(("reference table", name), read)
    return found.copy() if found is not None else pd.DataFrame()


def reference_parameter(name: str) -> float | None:
    frame = reference_table("parameters")
    if frame.empty:
        return None
    row = frame[frame["name"] == name]
    # Stored as REAL in some engines: round away the float noise (0.10000000149 -> 0.1).
    return round(float(row["value"].iloc[0]), 6) if len(row) else None


def load_log(limit: int = 50) -> pd.DataFrame:
    """The latest loads, newest first (files, counts and outcomes: no person-level rows)."""
    from pathway.schema import load_log as table
    columns = [table.c.load_id, table.c.file_name, table.c.table_name, table.c.rows_read,
               table.c.rows_loaded, table.c.rows_replaced, table.c.rows_rejected,
               table.c.rows_waiting, table.c.ignored_columns, table.c.ended_at,
               table.c.outcome, table.c.message]
    return _select(sa.select(*columns).order_by(table.c.load_id.desc()).limit(limit))


def health() -> dict[str, Any]:
    """For /health: is the database reachable, and how many pregnancies and activity rows it holds."""
    from pathway.schema import activity, cohort
    try:
        with web_warehouse().connect() as conn:
            pregnancies = conn.execute(sa.select(sa.func.count()).select_from(cohort)).scalar()
            events = conn.execute(sa.select(sa.func.count()).select_from(activity)).scalar()
        return {"status": "ok", "database": "reachable",
                "rows": {"cohort": int(pregnancies or 0), "activity": int(events or 0)}}
    except (WarehouseError, sa.exc.SQLAlchemyError) as error:
        return {"status": "error", "database": "not reachable", "detail": str(error).splitlines()[0],
                "rows": None}


def resolved_period(filters: Mapping[str, Any]) -> dict[str, Any] | None:
    """The births period and data cut-off every metric uses for these filters: {'from', 'to', 'as_at'}
    as dates (the defaults worked out as pathway.metrics does), or None when the warehouse cannot say."""
    given = {name: filters[name] for name in ("from", "to") if filters.get(name)}

    def read():
        from pathway import catalogue
        try:
            binds = _metrics().resolve_parameters(web_warehouse(), catalogue.METRICS["stage_reach"], given)
        except Exception as error:  # the heading then says the period in words only
            log.warning("period for %s: %s", given, error)
            return None
        return {"from": binds["date_from"], "to": binds["date_to"], "as_at": binds["as_at"]}

    return kept(("resolved period", tuple(sorted(given.items()))), read)
