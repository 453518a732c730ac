"""The one owner of the database URL, engine and connections (DuckDB or PostgreSQL).

Everything else asks a Warehouse for a connection; nothing else calls create_engine.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from pathway.settings import Settings, load_settings


class WarehouseError(RuntimeError):
    """The database cannot be reached or opened; the message is for people."""


class Warehouse:
    """A SQLAlchemy engine on the configured URL, with the schema made on first use."""

    def __init__(self, url: str | None = None, *, read_only: bool = False,
                 settings: Settings | None = None):
        self.settings = settings or load_settings()
        self.url = make_url(url or self.settings.db_url)
        self.read_only = read_only
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("duckdb", "postgresql"):
            raise WarehouseError(f"unsupported database {self.url.render_as_string()}: "
                                 "use duckdb:///FILE or postgresql+psycopg://...")
        self.engine = self._create_engine()
        self._schema_ready = False

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
            return sa.create_engine(self.url, connect_args=connect_args)
        return sa.create_engine(self.url, pool_pre_ping=True)

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

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
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
        self.engine.dispose()


def native_duckdb(conn: Connection):
    """The DuckDB connection under a SQLAlchemy connection, for bulk reads (same transaction)."""
    return conn.connection.driver_connection


def _frame(result) -> pd.DataFrame:
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _describe(warehouse: Warehouse, error: Exception) -> str:
    where = warehouse.url.render_as_string(hide_password=True)
    first_line = str(getattr(error, "orig", error)).strip().splitlines()[0]
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
