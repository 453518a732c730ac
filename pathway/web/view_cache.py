"""What a view derives (its whole layout: cards, figures, tables), kept on disk per view, filters
and data version, and shared by every gunicorn worker on the machine.

Kept as the JSON Dash sends (never pickles, so the folder holds data, not code), in one SQLite
file in a folder only this user can open. An answer is good until the data version changes (a
load, a journey rebuild or a replaced reference table), never until a clock runs out; the
folder is held under a size limit by dropping the least recently used views first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from plotly.io.json import to_json_plotly

log = logging.getLogger(__name__)

# Views whose layout depends on more than the data and the URL (the Data page shows the load
# log and an upload form) are never kept.
UNCACHED_PATHS = ("/data",)
MAX_BYTES = 256 * 1024 * 1024

_SCHEMA = ("create table if not exists views (key text primary key, data_version text not null, "
           "payload blob not null, bytes integer not null, used_at real not null)")
# Which metrics each view fetched the last time it was rendered, with the URL's filter values as
# placeholders: a view's next render fetches them all at once before it starts.
_RECIPES_SCHEMA = "create table if not exists recipes (path text primary key, recipe text not null)"
# Rows of large tables, kept for their download instead of being sent with the page: named by
# their content, so they stay good whatever loads follow (only the size limit drops them).
_ROWS_SCHEMA = ("create table if not exists download_rows (key text primary key, payload blob not null, "
                "bytes integer not null, used_at real not null)")


class ViewCache:
    """One SQLite file of view layouts; every call opens its own short connection (thread- and
    fork-safe), and any failure only means the view is rendered afresh."""

    def __init__(self, folder: Path, max_bytes: int = MAX_BYTES):
        self.folder = folder
        self.path = folder / "views.sqlite"
        self.max_bytes = max_bytes
        self._ready = False
        self._lock = threading.Lock()
        # this process's copies of the views it served lately (a quarter of the size limit)
        self._memory: "OrderedDict[tuple[str, str], bytes]" = OrderedDict()
        self._memory_bytes = 0

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.folder.stat().st_uid != os.getuid():
                raise PermissionError(f"{self.folder} belongs to another user")
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        # a lost view after a power cut is only rendered again: no need to wait for the disk
        conn.execute("pragma synchronous=normal")
        if not self._ready:
            conn.execute("pragma journal_mode=wal")
            conn.execute(_SCHEMA)
            conn.execute(_ROWS_SCHEMA)
            conn.execute(_RECIPES_SCHEMA)
            self._ready = True
        return conn

    def get(self, key: str, data_version: str) -> Any | None:
        payload = self._remembered(key, data_version)
        if payload is None:
            payload = self._read(key, data_version)
        if payload is None:
            return None
        self._remember(key, data_version, payload)
        return json.loads(payload)

    def keys(self, data_version: str) -> set[str]:
        """The views kept for this data version."""
        try:
            conn = self._connect()
            try:
                return {row[0] for row in conn.execute("select key from views where data_version = ?",
                                                       (data_version,))}
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as error:
            log.warning("view cache %s: %s", self.path, error)
            return set()

    def _read(self, key: str, data_version: str) -> bytes | None:
        try:
            conn = self._connect()
            try:
                row = conn.execute("select payload from views where key = ? and data_version = ?",
                                   (key, data_version)).fetchone()
                if row is not None:
                    # once per process and view: this worker's own copy answers after that
                    conn.execute("update views set used_at = ? where key = ?", (time.time(), key))
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as error:
            log.warning("view cache %s: %s", self.path, error)
            return None
        return None if row is None else bytes(row[0])

    def _remembered(self, key: str, data_version: str) -> bytes | None:
        with self._lock:
            found = self._memory.get((key, data_version))
            if found is not None:
                self._memory.move_to_end((key, data_version))
            return found

    def _remember(self, key: str, data_version: str, payload: bytes) -> None:
        with self._lock:
            if (key, data_version) in self._memory:
                return
            self._memory[(key, data_version)] = payload
            self._memory_bytes += len(payload)
            while self._memory_bytes > self.max_bytes // 4 and len(self._memory) > 1:
                _, gone = self._memory.popitem(last=False)
                self._memory_bytes -= len(gone)

    def put(self, key: str, data_version: str, payload: bytes) -> None:
        try:
            conn = self._connect()
            try:
                conn.execute("begin immediate")
                # other versions' views can never be asked for again
                conn.execute("delete from views where data_version <> ?", (data_version,))
                conn.execute("insert or replace into views values (?, ?, ?, ?, ?)",
                             (key, data_version, payload, len(payload), time.time()))
                self._trim(conn, "views")
                conn.execute("commit")
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as error:
            log.warning("view cache %s: %s", self.path, error)
            return
        self._remember(key, data_version, payload)


    def _trim(self, conn: sqlite3.Connection, table: str) -> None:
        """Over the size limit, drop `table`'s least recently used rows until it is back under it.
        `table` is one of this module's own two tables, never a caller's text."""
        assert table in ("views", "download_rows")
        total = conn.execute(f"select coalesce(sum(bytes), 0) from {table}").fetchone()[0]
        if total > self.max_bytes:
            conn.execute(
                f"delete from {table} where key in (select key from (select key, sum(bytes) over "
                f"(order by used_at desc, key) as running from {table}) where running > ?)",
                (self.max_bytes,))

    def keep_rows(self, rows: dict) -> str | None:
        """Keep a table's rows for its download; their key, or None when they cannot be kept."""
        payload = json.dumps(rows, separators=(",", ":")).encode()
        key = hashlib.sha256(payload).hexdigest()
        try:
            conn = self._connect()
            try:
                conn.execute("begin immediate")
                conn.execute("insert or replace into download_rows values (?, ?, ?, ?)",
                             (key, payload, len(payload), time.time()))
                self._trim(conn, "download_rows")
                conn.execute("commit")
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as error:
            log.warning("view cache %s: %s", self.path, error)
            return None
        return key

    def rows(self, key: str) -> dict | None:
        try:
            conn = self._connect()
            try:
                row = conn.execute("select payload from download_rows where key = ?", (key,)).fetchone()
                if row is not None:
                    conn.execute("update download_rows set used_at = ? where key = ?", (time.time(), key))
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as error:
            log.warning("view cache %s: %s", self.path, error)
            return None
        return None if row is None else json.loads(row[0])


    def recipe(self, path: str) -> list | None:
        try:
            conn = self._connect()
            try:
                row = conn.execute("select recipe from recipes where path = ?", (path,)).fetchone()
            finally:
                conn.close()
            return None if row is None else json.loads(row[0])
        except (sqlite3.Error, OSError, ValueError) as error:
            log.warning("view cache %s: %s", self.path, error)
            return None

    def keep_recipe(self, path: str, recipe: list) -> None:
        try:
            conn = self._connect()
            try:
                conn.execute("insert or replace into recipes values (?, ?)", (path, json.dumps(recipe)))
            finally:
                conn.close()
        except (sqlite3.Error, OSError, TypeError, ValueError) as error:
            log.warning("view cache %s: %s", self.path, error)


def as_recipe(fetches: list, query: dict) -> list:
    """The fetches with each value that is the URL's filter value written as {filter}."""
    by_value = {str(v): k for k, v in query.items()}
    return [[name, {k: "{%s}" % by_value[str(v)] if str(v) in by_value else v for k, v in params.items()}]
            for name, params in fetches]


def from_recipe(recipe: list, query: dict) -> list:
    """The recipe's fetches for this URL (a fetch naming a filter the URL lacks is left out)."""
    requests = []
    for name, params in recipe:
        filled = {}
        for k, v in params.items():
            if isinstance(v, str) and v.startswith("{") and v.endswith("}"):
                if v[1:-1] not in query:
                    break
                v = query[v[1:-1]]
            filled[k] = v
        else:
            requests.append([name, filled])
    return requests


def view_key(path: str, query: dict) -> str:
    return json.dumps([path, sorted((str(k), str(v)) for k, v in query.items())])


def folder_for(db_url: str, configured: Path | None) -> Path:
    """PATHWAY_VIEW_CACHE, else a folder per database (and user) under the system temp folder."""
    if configured is not None:
        return configured
    digest = hashlib.sha256(f"{db_url}|{os.getuid()}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"pathway-views-{digest}"


def cached_layout(path: str, layout: Callable[..., Any], cache: Callable[[], ViewCache | None],
                  data_version: Callable[[], str | None], failed: Callable[[], bool],
                  fetches: tuple[Callable, Callable, Callable] | None = None) -> Callable[..., Any]:
    """The page's layout function, answered from the shared cache when this view was rendered for
    the same query string and data version (by any worker), else rendered and kept (unless a
    figure failed: the next request tries again). `fetches` (record, recorded, prefetch) lets a
    render fetch at once, concurrently, the metrics this view fetched last time."""
    if path in UNCACHED_PATHS:
        return layout

    def kept_layout(**query):
        store, version = cache(), data_version()
        if store is None or version is None:
            return layout(**query)
        key = view_key(path, query)
        found = store.get(key, version)
        if found is not None:
            return found
        if fetches is not None:
            record, recorded, prefetch = fetches
            # all areas and one area or ICB fetch differently (Coverage adds all areas to compare)
            recipe_key = f"{path} {'all' if query.get('area') in (None, '', 'all') else 'one'}"
            known = store.recipe(recipe_key)
            if known:
                prefetch(from_recipe(known, query))
            record()
        rendered = layout(**query)
        if fetches is not None:
            recipe = as_recipe(recorded(), query)
            if recipe and recipe != known:
                store.keep_recipe(recipe_key, recipe)
        if not failed():
            # kept under the version read before rendering: a load meanwhile makes it unreachable
            store.put(key, version, to_json_plotly(rendered).encode())
        return rendered

    kept_layout.__wrapped__ = layout
    return kept_layout
