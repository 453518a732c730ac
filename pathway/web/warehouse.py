"""The dashboard's one Warehouse per process (opened lazily; read-only under gunicorn) and the
calls pages make through it, with every failure turned into a sentence for people.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pandas as pd
import sqlalchemy as sa

from pathway.db import Warehouse, WarehouseError

log = logging.getLogger(__name__)

_lock = threading.RLock()
_config: dict[str, Any] = {"db_url": None, "read_only": False, "warehouse": None}
_opened: dict[str, Any] = {"pid": None, "warehouse": None}

# Metric answers (and what pages derive from them) are kept per process, keyed on the data
# version: a load, from this dashboard or from `pathway load` in another process, starts afresh.
# Reference tables can also be replaced without a load, so nothing is kept longer than
# _CACHE_SECONDS either.
_CACHE_SECONDS = 300
_CACHE_SIZE = 1024
_cache: "OrderedDict[tuple, tuple[float, Any]]" = OrderedDict()

# The latest load and journey build: what a cached answer was computed from.
_DATA_VERSION = sa.text("select (select coalesce(max(load_id), 0) from load_log), "
                        "(select max(built_at) from journey_state)")

DATABASE_UNREACHABLE = "The database is not reachable, so this figure cannot be shown"


def configure(db_url: str | None = None, *, read_only: bool = False,
              warehouse: Warehouse | None = None) -> None:
    """Say which database the dashboard reads (before the first request; tests pass a Warehouse)."""
    with _lock:
        _config.update(db_url=db_url, read_only=read_only, warehouse=warehouse)
        _opened.update(pid=None, warehouse=None)
        _cache.clear()


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


def is_read_only() -> bool:
    return bool(_config["read_only"]) and _config["warehouse"] is None


def forget_cached_metrics() -> None:
    """Forget every kept answer (after a load through the Data page)."""
    with _lock:
        _cache.clear()


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


def data_version() -> tuple | None:
    """The latest load id and journey build, asked once per request (None when unreachable).

    Inside a Dash callback the answer is kept on flask.g, so the page's many figures cost one
    round trip between them; outside a request (tests, scripts) it is asked every time.
    """
    from flask import g, has_request_context

    if has_request_context() and "pathway_data_version" in g:
        return g.pathway_data_version
    try:
        with web_warehouse().connect() as conn:
            version = tuple(conn.execute(_DATA_VERSION).one())
    except (WarehouseError, sa.exc.SQLAlchemyError):
        version = None
    if has_request_context():
        g.pathway_data_version = version
    return version


def kept(key: tuple, make: Callable[[], Any]) -> Any:
    """make(), or its answer for the same key and data version kept from an earlier call.

    For answers that only depend on the database and the key: metric rows, reference labels,
    filter choices. Callers must not change what they get back. None (a failure) is not kept."""
    version = data_version()
    if version is None:
        return make()
    full_key = (version, *key)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(full_key)
        if hit and now - hit[0] < _CACHE_SECONDS:
            _cache.move_to_end(full_key)
            return hit[1]
    value = make()
    if value is not None:
        with _lock:
            _cache[full_key] = (now, value)
            _cache.move_to_end(full_key)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return value


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

    def run() -> pd.DataFrame | None:
        result = _run_metric(name, params)
        if not result.ok:
            failure.append(result)  # said in words, never kept: the next request tries again
            return None
        return result.frame

    frame = kept(key, run)
    if frame is None:
        return failure[0]
    # A copy, so a page that adds columns cannot change what the next request is given.
    return MetricResult(name, frame.copy())


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
