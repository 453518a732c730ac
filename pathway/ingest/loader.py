"""Loading extract files: one file, one transaction, one load-log row, one summary for people.

The flow (contract sections 1 and 3): inspect the file -> decide its table and columns ->
stage it in DuckDB as text -> refuse NHS numbers -> check every row rule in SQL -> refuse
the file if too many rows fail -> upsert the valid rows, park orphans, quarantine rejects ->
release earlier orphans whose pregnancy has arrived -> rebuild the journey -> log.
Staging and validation always run in DuckDB: the warehouse's own connection, or a private
in-memory DuckDB when the warehouse is PostgreSQL (then the valid rows travel by COPY).
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pathway import schema
from pathway.db import Warehouse, drop_temp_types, native_duckdb
from pathway.ingest import area_lookup, reading, upsert, validation
from pathway.ingest.crash_points import reached
from pathway.ingest.limits import Limits, TooBig
from pathway.ingest.contract import (LOAD_ORDER, RISK_FACTOR_PREFIX, TABLES, header_key,
                                     snake_case, table_from_file_name)
from pathway.ingest.reading import SourceFile, Unreadable
from pathway.ingest.validation import ColumnPlan
from pathway.load_log import LoadSummary, next_load_id, write_load_log
from pathway.published import load_benchmark_file, published_layout

REJECTS_SHOWN = 1000
_COPY_BATCH_ROWS = 200_000


class LoadRefused(Exception):
    """A whole file is refused; the message names the file and says what is wrong."""


# ---- public entry points ---------------------------------------------------------------

def load_files(warehouse: Warehouse, paths: Iterable, *, table: str | None = None,
               max_reject_rate: float | None = None, sheet: str | None = None,
               progress: bool = False,
               lookup_columns: dict[str, str] | None = None) -> list[LoadSummary]:
    """Load several files, areas before cohort before activity and measures; summaries in the given order."""
    paths = [Path(p) for p in paths]

    def load_rank(path: Path) -> int:
        guess = table or table_from_file_name(path.name)
        return LOAD_ORDER.index(guess) if guess in LOAD_ORDER else len(LOAD_ORDER)

    order = sorted(range(len(paths)), key=lambda i: load_rank(paths[i]))
    summaries: dict[int, LoadSummary] = {}
    for i in order:
        summaries[i] = load_file(warehouse, paths[i], table=table,
                                 max_reject_rate=max_reject_rate, sheet=sheet, progress=progress,
                                 lookup_columns=lookup_columns, refresh_journey=False)
    # The journey is derived from every table: rebuild it once for the batch, not per file.
    if any(s.outcome == "loaded" and s.table in schema.CONTRACT_TABLES for s in summaries.values()):
        with _progress(progress, "journey") as status, warehouse.begin() as conn:
            status("rebuilding the pathway journey")
            _refresh_journey(conn)
            reached("rebuilding")
    return [summaries[i] for i in range(len(paths))]


def load_file(warehouse: Warehouse, path, *, table: str | None = None,
              max_reject_rate: float | None = None, sheet: str | None = None,
              progress: bool = False, display_name: str | None = None,
              lookup_columns: dict[str, str] | None = None,
              refresh_journey: bool = True, limits: Limits | None = None) -> LoadSummary:
    """Load one extract file in one transaction. Bad input never raises: it is refused and logged.

    An areas file may be an ONS small-area lookup (LSOA -> sub-ICB -> ICB -> local authority):
    its authorities are derived by best fit and loaded as areas; `lookup_columns` maps roles
    (lsoa_code, la_code, la_name, icb_code, icb_name, region_code, region_name) to its headers
    where they are not recognised. `limits` (default: the warehouse settings' command-line
    limits) refuses a file too big or too wide before it is read."""
    path = Path(path)
    name = display_name or path.name
    threshold = warehouse.settings.max_reject_rate if max_reject_rate is None else max_reject_rate
    summary = LoadSummary(load_id=0, file_name=name, table=None, outcome="refused",
                          started_at=_now())
    warehouse.ensure_schema()
    source: SourceFile | None = None
    with tempfile.TemporaryDirectory(prefix="pathway-load-") as workdir, \
            _progress(progress, name) as status:
        try:
            status(f"reading {name}")
            source = reading.inspect_file(path, name, sheet=sheet, workdir=Path(workdir),
                                          limits=limits or Limits.from_settings(warehouse.settings))
            if _is_published_benchmarks(source, table):
                return _load_published(warehouse, path, name)
            summary.encoding, summary.delimiter = source.encoding, source.delimiter
            summary.table = choose_table(source, table)
            if summary.table == "areas" and _is_lookup_not_areas(source, lookup_columns):
                status(f"deriving areas from the small-area lookup {name}")
                source, summary.notes = _areas_from_lookup(source, Path(workdir), lookup_columns)
            plan = plan_columns(source, summary.table)
            summary.ignored_columns = plan.ignored
            with warehouse.begin() as conn:
                summary.load_id = next_load_id(conn)
                _load(conn, warehouse, source, plan, summary, threshold, Path(workdir), status)
                summary.outcome, summary.ended_at = "loaded", _now()
                write_load_log(conn, summary, source.sha256)
                if refresh_journey:
                    status("rebuilding the pathway journey")
                    _refresh_journey(conn)
                    reached("rebuilding", name)
            reached("committed", name)
            return summary
        except (Unreadable, TooBig, LoadRefused, area_lookup.AreaLookupError) as refusal:
            summary.message = str(refusal)
        finally:
            reading.remove_temp_files(source)
    # The data transaction rolled back; the refusal is still logged, in its own transaction.
    summary.outcome, summary.ended_at = "refused", _now()
    summary.rows_loaded = summary.rows_replaced = summary.rows_unchanged = 0
    summary.rows_waiting = summary.rows_released = 0
    with warehouse.begin() as conn:
        summary.load_id = next_load_id(conn)
        write_load_log(conn, summary, source.sha256 if source else reading.file_sha256(path))
    return summary


# ---- which table, which columns ---------------------------------------------------------

def choose_table(source: SourceFile, table: str | None) -> str:
    """The `table` argument, else the file name's first word, else the set of columns."""
    name = source.display_name
    if table is not None:
        if table not in TABLES:
            raise LoadRefused(f"{name}: --table {table!r} is not a table the loader knows "
                              f"(one of {', '.join(TABLES)}, or benchmarks)")
        return table
    guessed = table_from_file_name(name)
    if guessed:
        return guessed
    if area_lookup.is_small_area_lookup(source.headers):
        return "areas"
    return _table_from_columns(name, [header_key(h) for h in source.headers])


def plan_columns(source: SourceFile, table: str) -> ColumnPlan:
    """Match the header to the table's columns; refuse a missing required column by name."""
    name = source.display_name
    keys = [header_key(h) for h in source.headers]
    contract = TABLES[table]
    by_key = {header_key(f.name): f.name for f in contract.fields}
    staged: dict[str, str] = {}
    risk_factors: list[tuple[str, str]] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for i, (header, key) in enumerate(zip(source.headers, keys)):
        target = by_key.get(key)
        rf_name = snake_case(header)
        if target is None and contract.has_risk_factors and rf_name.startswith(RISK_FACTOR_PREFIX) \
                and len(rf_name) > len(RISK_FACTOR_PREFIX):
            target = rf_name
        if target is None:
            ignored.append(header)
            continue
        if target in seen:
            raise LoadRefused(f"{name}: columns {seen[target]!r} and {header!r} both mean "
                              f"{target}; keep one")
        seen[target] = header
        if target in by_key.values():
            staged[target] = f"c{i}"
        else:
            risk_factors.append((target, f"c{i}"))
    missing = [c for c in contract.required_columns if c not in staged]
    if missing:
        raise LoadRefused(f"{name}: missing required column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)} for table {contract.name} "
                          f"(its header has: {', '.join(h for h in source.headers if h) or 'nothing'})")
    return ColumnPlan(contract=contract, staged=staged, risk_factors=risk_factors,
                      ignored=ignored)


def _is_published_benchmarks(source: SourceFile, table: str | None) -> bool:
    """`--table benchmarks`, or no table named and the header of a published layout."""
    if table == "benchmarks":
        return True
    return table is None and table_from_file_name(source.display_name) is None \
        and published_layout(source.headers) is not None


def _load_published(warehouse: Warehouse, path: Path, name: str) -> LoadSummary:
    """Published benchmark files feed no journey table, so no rebuild follows them."""
    return load_benchmark_file(warehouse, path, display_name=name)


def _is_lookup_not_areas(source: SourceFile, mapping: dict[str, str] | None) -> bool:
    keys = {header_key(h) for h in source.headers}
    has_area_columns = all(header_key(c) in keys for c in TABLES["areas"].required_columns)
    return bool(mapping) or (not has_area_columns and area_lookup.is_small_area_lookup(source.headers))


def _areas_from_lookup(source: SourceFile, workdir: Path,
                       mapping: dict[str, str] | None) -> tuple[SourceFile, list[str]]:
    """Best-fit each authority to an ICB and stage the result as an areas file.

    A lookup has one row per small area (about 33,000 in England), so pandas is fine here.
    The derived file keeps the original's name and checksum in the load log."""
    readable = source.readable_path or source.path
    if source.format == "csv":
        frame = pd.read_csv(readable, dtype=str, keep_default_na=False,
                            sep=source.delimiter or ",", encoding="utf-8-sig")
    elif source.format == "xlsx":
        frame = pd.read_excel(readable, dtype=str, sheet_name=source.sheet or 0).fillna("")
    else:
        frame = pd.read_parquet(readable).astype(str)
    columns = area_lookup.recognise_lookup_columns(list(frame.columns), mapping)
    result = area_lookup.derive_areas(frame, columns, source_name=source.display_name)
    derived = workdir / "areas_from_lookup.csv"
    result.areas.to_csv(derived, index=False)
    staged = reading.inspect_file(derived, source.display_name, sheet=None, workdir=workdir)
    staged.sha256 = source.sha256
    split = result.split[result.split["best_fit"]] if "best_fit" in result.split else result.split
    notes = [f"Derived {len(result.areas):,} local authorities from {len(frame):,} small areas; "
             f"each authority's ICB is the one holding most of its small areas."]
    if len(split):
        listed = ", ".join(f"{r.area_code} {r.area_name} (to {r.icb_code}, {r.share_pct:.0f}% of its small areas)"
                           for r in split.itertuples())
        notes.append(f"{len(split)} authorities are split across ICBs: {listed}.")
    return staged, notes


def _table_from_columns(name: str, keys: list[str]) -> str:
    present = set(keys)
    fits = [t.name for t in TABLES.values()
            if all(header_key(c) in present for c in t.required_columns)]
    if len(fits) == 1:
        return fits[0]
    if not fits:
        raise LoadRefused(f"{name}: cannot tell which table this file holds: its name does not "
                          f"start with {', '.join(TABLES)} and its columns hold no table's "
                          "required columns; name the table with --table")
    # A file with every column of several tables: the richest match is still a guess.
    raise LoadRefused(f"{name}: its columns fit more than one table ({', '.join(fits)}); "
                      "name the table with --table")


# ---- the load itself ----------------------------------------------------------------------

def _load(conn: Connection, warehouse: Warehouse, source: SourceFile, plan: ColumnPlan,
          summary: LoadSummary, threshold: float, workdir: Path, status) -> None:
    contract, name = plan.contract, source.display_name
    with _staging_duckdb(conn, warehouse, workdir) as duck:
        status(f"staging {name}")
        _stage(duck, source, plan)
        reached("reading", name)
        # counted before any refusal, so the load log says how many rows a refused file had
        # (fetchall: a result left unfinished would block registering a lookup frame)
        summary.rows_read = duck.execute(f"SELECT count(*) FROM {reading.STAGING}").fetchall()[0][0]
        _refuse_nhs_numbers(duck, plan, name)

        status(f"checking {name}")
        _make_lookups(duck, conn, warehouse, plan)
        duck.execute(validation.checked_sql(plan))
        if summary.rows_read == 0:
            raise LoadRefused(f"{name} is empty: it has a header but no data rows")
        day_of_loading = warehouse.settings.day_of_loading()
        for statement in validation.code_types_sql(plan):
            duck.execute(statement)
        _run(duck, *validation.valid_sql(plan, day_of_loading))
        duck.execute(validation.checked_sql(plan, only_problems=True))
        _run(duck, *validation.problems_sql(plan, day_of_loading))
        reached("validating", name)
        summary.rows_rejected = duck.execute(
            "SELECT count(DISTINCT line_number) FROM load_problems").fetchone()[0]
        summary.rejects = duck.execute(
            "SELECT line_number, column_name, replace(value, chr(0), $nul) AS value, "
            "replace(reason, chr(0), $nul) AS reason FROM load_problems "
            f"ORDER BY line_number, column_name LIMIT {REJECTS_SHOWN}",
            {"nul": validation.NUL_SHOWN_AS}).df()
        rate = summary.rows_rejected / summary.rows_read
        if rate > threshold:
            first = summary.rejects.iloc[0]
            raise LoadRefused(
                f"{name}: {summary.rows_rejected:,} of {summary.rows_read:,} rows "
                f"({100 * rate:.1f}%) break the contract, more than the "
                f"{100 * threshold:g}% allowed, so the whole file is refused. First: "
                f"line {first.line_number}, column {first.column_name}: {first.reason}")

        for statement, params in validation.incoming_sql(plan, summary.load_id, name):
            _run(duck, statement, params)
        _run(duck, *validation.quarantine_sql(plan, summary.load_id, name))
        if not warehouse.is_duckdb:
            status(f"copying {name} to the warehouse")
            _ship_to_target(duck, conn, plan)

        status(f"loading {name} into {contract.name}")
        counts = upsert.upsert(conn, contract)
        reached("upserting", name)
        summary.rows_loaded, summary.rows_replaced = counts.loaded, counts.replaced
        summary.rows_unchanged = counts.unchanged
        if contract.waiting_table:
            summary.rows_waiting = upsert.insert_waiting(conn, contract)
        upsert.insert_rejects(conn, contract.name, source.sha256)
        summary.rows_released = upsert.release_waiting(conn)
        upsert.note_load_recorded(conn, summary.load_id)
        # A failed load rolls back, which drops these too.
        if warehouse.is_duckdb:
            _drop_staging(duck)
    _drop_target_temps(conn, warehouse)


@contextmanager
def _staging_duckdb(conn: Connection, warehouse: Warehouse, workdir: Path) -> Iterator:
    """Where staging lives: the warehouse's DuckDB (same transaction), or a private one."""
    if warehouse.is_duckdb:
        yield native_duckdb(conn)
        return
    import duckdb

    private = duckdb.connect(":memory:", config={
        "memory_limit": warehouse.settings.duckdb_memory_limit,
        "temp_directory": str(workdir / "duckdb-spill")})
    try:
        yield private
    finally:
        private.close()


def _run(duck, sql: str, params: dict | None = None) -> None:
    # DuckDB refuses a parameter the statement does not use, so an empty dict is left out.
    if params:
        duck.execute(sql, params)
    else:
        duck.execute(sql)


def _stage(duck, source: SourceFile, plan: ColumnPlan) -> None:
    if source.format == "csv":
        reading.stage_csv(duck, source)
    elif source.format == "parquet":
        reading.stage_parquet(duck, source)
    else:
        date_positions = {int(plan.staged[f.name][1:]) for f in plan.contract.fields
                          if f.kind == "date" and f.name in plan.staged}
        reading.stage_xlsx(duck, source, date_positions)


def _refuse_nhs_numbers(duck, plan: ColumnPlan, name: str) -> None:
    sql = validation.nhs_number_sql(plan)
    if sql is None:
        return
    found = duck.execute(sql).fetchone()
    if found:
        line, column, digits, how_many = found
        masked = digits[:3] + "*" * (len(digits) - 3)
        others = f" (and {how_many - 1:,} more)" if how_many > 1 else ""
        raise LoadRefused(
            f"{name} line {line}, column {column}: '{masked}' looks like a real NHS number "
            f"(10 digits with a valid check digit){others}: extracts must be pseudonymised, "
            "so nothing of this file was loaded")


def _make_lookups(duck, conn: Connection, warehouse: Warehouse, plan: ColumnPlan) -> None:
    """The reference rows, known areas and known pregnancies the rules look up."""
    needed = ["load_codes", "load_services", "load_instruments"]
    if "known_area" in plan.contract.extra_rules:
        needed.append("load_known_areas")
    if validation.needs_pregnancies(plan.contract):
        needed.append("load_pregnancies")
    for relation in needed:
        select = validation.LOOKUPS[relation]
        if warehouse.is_duckdb:
            duck.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS {select}")
        else:
            frame = warehouse.query(select, conn=conn)
            duck.register("load_lookup_frame", frame)
            duck.execute(f"CREATE OR REPLACE TEMP TABLE {relation} AS SELECT * FROM load_lookup_frame")
            duck.unregister("load_lookup_frame")


def _ship_to_target(duck, conn: Connection, plan: ColumnPlan) -> None:
    """PostgreSQL: COPY the staged results into temp tables of the same names, same transaction."""
    import pyarrow.csv as pa_csv

    contract = plan.contract
    shapes = {"load_incoming": contract.name, "load_rejects": "rejects"}
    if contract.has_risk_factors:
        shapes["load_incoming_rf"] = "cohort_risk_factors"
    if contract.waiting_table:
        shapes["load_waiting"] = contract.waiting_table
    driver = conn.connection.driver_connection
    for relation, shape in shapes.items():
        columns = [c.name for c in schema.metadata.tables[shape].columns]
        column_list = ", ".join(columns)
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {relation}"))
        conn.execute(sa.text(f"CREATE TEMP TABLE {relation} (LIKE {shape}) ON COMMIT DROP"))
        # a relation, not a DB-API result: DuckDB streams its batches without an extra copy
        reader = duck.sql(f"SELECT {column_list} FROM {relation}").to_arrow_reader(
            _COPY_BATCH_ROWS)
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {relation} ({column_list}) FROM STDIN (FORMAT csv)") as copy:
                for batch in reader:
                    buffer = io.BytesIO()
                    pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
                    copy.write(buffer.getvalue())
        conn.execute(sa.text(f"ANALYZE {relation}"))


def _drop_staging(duck) -> None:
    """Drop this load's temporary relations (views first: they read the tables)."""
    ours = {*validation.TEMP_VIEWS, *validation.TEMP_TABLES, *validation.LOOKUPS}
    views = [r[0] for r in duck.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary").fetchall() if r[0] in ours]
    tables = [r[0] for r in duck.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall() if r[0] in ours]
    for relation in views:
        duck.execute(f"DROP VIEW {relation}")
    for relation in tables:
        duck.execute(f"DROP TABLE {relation}")
    # then the types of load_valid's code columns (validation.code_types_sql)
    drop_temp_types(duck, validation.CODE_TYPE_PREFIX)


def _drop_target_temps(conn: Connection, warehouse: Warehouse) -> None:
    if not warehouse.is_duckdb:
        for relation in ("load_incoming", "load_incoming_rf", "load_waiting", "load_rejects"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {relation}"))


def _refresh_journey(conn: Connection) -> None:
    """Rebuild the per-pregnancy journey in this transaction, when that module is installed."""
    try:
        from pathway import journey
    except ImportError:
        return
    journey.refresh_after_load(conn)


def _now() -> dt.datetime:
    return dt.datetime.now()


# ---- progress ------------------------------------------------------------------------------

@contextmanager
def _progress(enabled: bool, name: str):
    """A rich spinner naming the step, only when asked for and stdout is a terminal."""
    if not (enabled and sys.stdout.isatty()):
        yield lambda text: None
        return
    from rich.console import Console
    from rich.text import Text

    # Text, not markup: a file name is the user's and prints as written.
    with Console(emoji=False).status(Text(f"loading {name}")) as spinner:
        yield lambda text: spinner.update(Text(text))
