"""The one owner of the database URL, engine and connections (DuckDB or PostgreSQL).

Everything else asks a Warehouse for a connection; nothing else calls create_engine.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from pathway.settings import Settings, load_settings


class WarehouseError(RuntimeError):
    """The database cannot be reached or opened; the message is for people."""


class Warehouse:
    """A SQLAlchemy engine on the configured URL, with the schema made on first use.

    An embedded DuckDB file takes one writer or many readers at a time. `hold_file=False`
    opens it per connection and closes it after (a long-running writer such as the
    dashboard run by `python app.py`), so read-only commands can open it between requests;
    opening a file another process holds is retried for settings.lock_wait_seconds."""

    def __init__(self, url: str | None = None, *, read_only: bool = False,
                 settings: Settings | None = None, hold_file: bool = True):
        self.settings = settings or load_settings()
        self.url = make_url(url or self.settings.db_url)
        self.read_only = read_only
        self.hold_file = hold_file
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("duckdb", "postgresql"):
            raise WarehouseError(f"unsupported database {self.url.render_as_string()}: "
                                 "use duckdb:///FILE or postgresql+psycopg://...")
        self.engine = self._create_engine()
        self._schema_ready = False
        # see data_is_fixed: the connection that holds the file, and how many times it was taken
        self._holder: Any = None
        self._holder_lock = threading.Lock()
        self.holding = 0

    def _create_engine(self) -> Engine:
        if self.dialect == "duckdb":
            database = self.url.database
            if database and database != ":memory:" and not self.read_only:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            connect_args: dict[str, Any] = {
                "config": {"memory_limit": self.settings.duckdb_memory_limit},
            }
            if self.read_only:
                connect_args["read_only"] = True
            pooling: dict[str, Any] = {} if self.hold_file else {"poolclass": NullPool}
            if self.read_only and self.hold_file:
                # A connection going back to the pool asks DuckDB to roll back even when nothing
                # began (DuckDB then raises, and duckdb_engine catches it): a third of a
                # millisecond a metric. A read-only file has nothing to roll back, and a
                # transaction SQLAlchemy began is still rolled back when its connection closes.
                pooling["pool_reset_on_return"] = None
            engine = sa.create_engine(self.url, connect_args=connect_args, **pooling)
            sa.event.listen(engine, "do_connect", self._wait_for_lock)
            return engine
        return sa.create_engine(self.url, pool_pre_ping=True)

    def _wait_for_lock(self, dialect, record, cargs, cparams):
        """Open the DuckDB file, waiting while another process holds it (a load finishing)."""
        deadline = time.monotonic() + self.settings.lock_wait_seconds
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except Exception as error:
                if not is_lock_conflict(error) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    @property
    def duckdb_path(self) -> Path | None:
        """The embedded DuckDB file in full, or None (PostgreSQL, in-memory)."""
        database = self.url.database if self.is_duckdb else None
        if not database or database == ":memory:":
            return None
        return Path(database).expanduser().resolve()

    def where(self) -> str:
        """The warehouse in words for messages: its file in full, else its URL without password."""
        path = self.duckdb_path
        return str(path) if path else self.url.render_as_string(hide_password=True)

    @property
    def is_duckdb(self) -> bool:
        return self.dialect == "duckdb"

    def ensure_schema(self) -> None:
        """Create missing tables and load shipped reference data (idempotent)."""
        if self._schema_ready or self.read_only:
            return
        from pathway import schema, reference

        with self.begin() as conn:
            schema.create_all(conn)
            reference.load_missing(conn, self.settings.reference_dir)
        self._schema_ready = True

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back on any error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as error:
            raise WarehouseError(_describe(self, error)) from error

    @functools.cached_property
    def data_is_fixed(self) -> bool:
        """Whether nothing can change this warehouse's data while it is open: a DuckDB file opened
        read-only and held (pathway serve's workers). DuckDB lets a process open a file for
        writing only when no other process has it open, and this warehouse keeps one connection
        open from its first connection until dispose(), so a load waits until then. What is read
        of the data once (its version) holds until dispose: `holding` counts the holds."""
        return self.is_duckdb and self.read_only and self.hold_file and self.duckdb_path is not None

    def _hold(self) -> None:
        with self._holder_lock:
            if self._holder is None:
                self._holder = self.engine.connect()
                self.holding += 1

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            if self.data_is_fixed and self._holder is None:
                self._hold()
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as error:
            raise WarehouseError(_describe(self, error)) from error

    def query(self, sql: str, params: Mapping[str, Any] | None = None,
              conn: Connection | None = None) -> pd.DataFrame:
        """Run one statement with bound parameters and return its rows as a DataFrame."""
        if conn is not None:
            return _frame(conn.execute(sa.text(sql), dict(params or {})))
        with self.connect() as own:
            return _frame(own.execute(sa.text(sql), dict(params or {})))

    def dispose(self) -> None:
        with self._holder_lock:
            if self._holder is not None:
                self._holder.close()
                self._holder = None
        self.engine.dispose()


def native_duckdb(conn: Connection):
    """The DuckDB connection under a SQLAlchemy connection, for bulk reads (same transaction)."""
    return conn.connection.driver_connection


def drop_temp_types(duck, prefix: str) -> None:
    """Drop the temporary types of this DuckDB connection whose names start with `prefix` (the
    ENUMs a load or a journey build makes for itself)."""
    for (name,) in duck.execute("SELECT type_name FROM duckdb_types() WHERE database_name = 'temp' "
                                "AND starts_with(type_name, $prefix)", {"prefix": prefix}).fetchall():
        duck.execute(f'DROP TYPE "{name}"')


def _frame(result) -> pd.DataFrame:
    # plain tuples: pandas builds a frame from SQLAlchemy's Row objects ten times slower
    return pd.DataFrame(list(map(tuple, result.fetchall())), columns=list(result.keys()))


def is_lock_conflict(error: Exception) -> bool:
    return "Conflicting lock" in str(error) or "Could not set lock" in str(error)


def _describe(warehouse: Warehouse, error: Exception) -> str:
    where = warehouse.where()
    first_line = str(getattr(error, "orig", error)).strip().splitlines()[0]
    if is_lock_conflict(error):
        holder = re.search(r"\(PID (\d+)\)", str(error))
        return (f"the warehouse {where} is in use by another process"
                + (f" (process {holder.group(1)})" if holder else "")
                + ": a DuckDB file takes one process writing or several reading, not both; "
                  "try again when that one has finished")
    if "Out of Memory Error" in first_line:
        # a step that needed more than DuckDB may use (the journey builds in parts when its
        # events are many for the limit): not unreachable, short of memory, and what to change
        # says so
        limit = warehouse.settings.duckdb_memory_limit
        return (f"the warehouse {where} needed more memory than DuckDB may use here "
                f"(PATHWAY_DUCKDB_MEMORY, now {limit}): set PATHWAY_DUCKDB_MEMORY higher (for "
                "example 4GB) and run the command again. Nothing of the step that ran out was "
                f"saved; what was committed before it is kept. DuckDB said: {first_line}")
    return f"database {where} is not reachable: {first_line}"


def close_duckdb_default_connection() -> None:
    """Close DuckDB's process-wide default connection (before a process forks).

    duckdb_engine opens it (duckdb.cursor()) whenever an engine is made, and it runs its own
    worker threads. A forked child inherits the connection but not the threads, and at exit
    it aborts (SIGABRT or SIGSEGV) joining threads it never had. Closed here, a later use
    opens a fresh one in whichever process needs it.
    """
    import duckdb

    duckdb.default_connection().close()
