"""The journey tables: every event placed on the pathway, and one row per pregnancy.

`refresh(conn)` rebuilds them from the contract tables with queries/_journey.sql, in the
caller's transaction, so metrics never see a half-built journey. The loader rebuilds once
after a batch of files; `is_current` tells whether a load has landed since (metrics then
rebuild before answering).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pathway.catalogue import named_sql, statements
from pathway.db import drop_temp_types, native_duckdb
from pathway.reference import read_reference_csv
from pathway.resources import reference_dir
from pathway.schema import (REFERENCE_TABLES, journey_pending, journey_pending_loads,
                            journey_state, load_log)

# What refresh builds, for checks and for the data-quality page.
DERIVED_TABLES = ("journey", "journey_reach", "journey_contacts",
                  "journey_baby_contacts",
                  "journey_mood_screens", "journey_service_reach", "journey_reach_measures",
                  "journey_referrals", "journey_funnel", "journey_scores", "journey_risk_flags",
                  "journey_risk_help", "journey_outside_events", "journey_risk_factor_names",
                  "data_extent")
# economic_case's treatment per pregnancy and service
DERIVED_TABLES += ("journey_treatment",)
DERIVED_VIEWS = ("pregnancy_dates", "placed_events", "reach_measures", "area_selection",
                 "live_births")

# One catalogue query instead of a reflection round trip per table: metrics ask before every run.
_TABLES_PRESENT = sa.text(
    "select count(distinct table_name) from information_schema.tables "
    "where table_schema = current_schema() and table_name in :names"
).bindparams(sa.bindparam("names", expanding=True))

# The ref_parameters rows the journey and metric SQL read. Without one, every event would
# silently fall outside the pathway (or a metric come back empty), so refresh refuses to run.
REQUIRED_PARAMETERS = ("conception_days_before_edd", "lmp_days_before_edd",
                       "booking_by_13_weeks_max_days", "default_follow_up_months",
                       "waiting_time_standard_days", "spc_shift_run_length",
                       "spc_trend_run_length", "perinatal_access_ambition_per_100_births",
                       "perinatal_access_months_after_birth", "perinatal_access_window_months",
                       "assessed_within_days",
                       "treated_within_days")


class JourneyError(ValueError):
    """The journey cannot be built from the reference data; the message says what to fix."""


# Tables that sum up every pregnancy rather than hold rows of one: an incremental rebuild
# recomputes them whole, from the tables it has brought up to date.
WHOLE_TABLES = ("journey_risk_factor_names", "data_extent")

# The contract tables the journey reads; an incremental rebuild reads them through temporary
# views of the same names holding only the touched pregnancies' rows.
_SOURCE_TABLES = ("cohort", "cohort_risk_factors", "activity", "measures")

# Above this share of the cohort touched, deleting and re-inserting costs more than building
# every table afresh.
FULL_REBUILD_SHARE = 0.3

_CREATE = re.compile(r"create (temp )?(table|view) (\w+) as\b", re.IGNORECASE)
_REFERENCE_READ = re.compile(r"\b(ref_\w+)\b")
# The derived tables read every placed event through `events`, a temporary view of
# placed_events that lasts as long as the build. DuckDB reads it fastest as a view: a
# temporary copy of ten million events spills past its memory limit and is slower to read
# than to make. PostgreSQL gets a temporary table with statistics (see refresh).
_EVENTS_VIEW = re.compile(r"^\s*create temp view events as\b", re.IGNORECASE | re.MULTILINE)


def _events_as_table(statement: str) -> str:
    """The events view's statement, making a temporary table instead."""
    return _EVENTS_VIEW.sub("create temp table events as", statement)


def refresh(conn: Connection) -> int:
    """Rebuild the derived journey tables and views in the caller's transaction: in one go, or
    (DuckDB, more events than its memory holds at once) a share of the pregnancies at a time.
    Returns the number of parts (1: in one go)."""
    _check_reference(conn)
    parts = _parts_needed(conn)
    if parts > 1:
        _refresh_in_parts(conn, parts)
    else:
        _build_whole(conn)
    _mark_built(conn)
    return parts


# A DuckDB build keeps its coded events and what it makes from them in memory, spilling what it
# can to disk. Measured at PATHWAY_DUCKDB_MEMORY=1GB (953.6 MiB): the national demo's 14.3M
# events (activity and measures rows) and 16.8M built in one go; 19.3M and 24.3M ran out, in
# the reach measures' sort. Past WHOLE_BUILD_EVENTS_PER_GIB the journey is built in parts of at
# most PART_EVENTS_PER_GIB events each (a part holds every table it makes until it copies them).
WHOLE_BUILD_EVENTS_PER_GIB = 16_000_000
PART_EVENTS_PER_GIB = 6_000_000
_SIZE = re.compile(r"([\d.]+)\s*([KMGT]?i?B)", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
          "kib": 2 ** 10, "mib": 2 ** 20, "gib": 2 ** 30, "tib": 2 ** 40}


def _parts_needed(conn: Connection) -> int:
    """How many parts a DuckDB build takes (1: in one go; always 1 on PostgreSQL)."""
    if conn.dialect.name != "duckdb":
        return 1
    events = conn.execute(sa.text(
        "select (select count(*) from activity) + (select count(*) from measures)")).scalar()
    setting = conn.execute(sa.text("select current_setting('memory_limit')")).scalar()
    size = _SIZE.fullmatch(str(setting).strip())
    if not events or size is None:
        return 1
    gibibytes = float(size.group(1)) * _UNITS[size.group(2).lower()] / 2 ** 30
    if events <= WHOLE_BUILD_EVENTS_PER_GIB * gibibytes:
        return 1
    return math.ceil(events / (PART_EVENTS_PER_GIB * gibibytes))


def _refresh_in_parts(conn: Connection, parts: int) -> None:
    """Every table made afresh and empty (the build run over no rows), then filled a share of
    the pregnancies at a time by the statements an incremental rebuild runs. Each table then
    holds a run per part sorted by area, rather than one."""
    home = _qualified_home(conn)
    views = _source_views(conn, "false")
    _build_whole(conn)
    for kind, name in views:
        conn.execute(sa.text(f"drop {kind} {_temp_schema(conn)}.{name}"))
    # the codes' types once, from every row: each part's events are coded with them
    for statement in _coded_events(types=True):
        conn.execute(sa.text(statement))
    for part in range(parts):
        _rebuild_pregnancies(conn, f"select pregnancy_id from {home}.cohort "
                                   f"where hash(pregnancy_id) % {parts} = {part}", coded=True)
    drop_temp_types(native_duckdb(conn), CODED_TYPE_PREFIX)


def _source_views(conn: Connection, where: str) -> list[tuple[str, str]]:
    """Temporary views named like the contract tables the journey reads, each holding its
    table's rows that `where` (SQL) keeps: the statements of queries/_journey.sql then read
    those rows (a temporary object hides a permanent one of the same name on both engines).
    Returns their (kind, name), for the caller to drop."""
    home = _qualified_home(conn)
    for table in _SOURCE_TABLES:
        conn.execute(sa.text(f"create temp view {table} as select * from {home}.{table} where {where}"))
    return [("view", table) for table in _SOURCE_TABLES]


def _coded_events(*, types: bool) -> list[str]:
    """queries/_journey_events.duckdb.sql's statements: its ENUM types (types=True), or the
    statement that makes the events table from them."""
    return [statement for statement in statements(named_sql("_journey_events.sql", "duckdb"))
            if statement.lstrip().lower().startswith("create temp type") == types]


def _build_whole(conn: Connection) -> None:
    """Every derived table and view made afresh from the contract tables, in one go."""
    dialect = conn.dialect.name
    events, coded = "view", False
    temporary = []   # the build's own intermediate tables, dropped at its end
    for statement in statements(named_sql("_journey.sql", dialect)):
        if dialect == "postgresql" and _EVENTS_VIEW.search(statement):
            # Read through a view, or made in this transaction without statistics, events
            # had PostgreSQL join referrals to contacts row by row (over 17 minutes at national
            # scale); DuckDB plans from the data itself.
            statement, events = _events_as_table(statement), "table"
            conn.execute(sa.text(statement))
            conn.execute(sa.text("analyze events"))
            continue
        if dialect == "duckdb" and _EVENTS_VIEW.search(statement):
            # the whole build's events as a table of ENUM codes; every table after is made as text
            for coding in _coded_events(types=True) + _coded_events(types=False):
                conn.execute(sa.text(coding))
            coded, events = True, "table"
            continue
        made = _CREATE.match(statement)
        if made and made.group(1) and made.group(2).lower() == "table":
            temporary.append(made.group(3))
        if coded and made and not made.group(1) and made.group(2).lower() == "table":
            _create_as_text(conn, made.group(3), statement[made.end():])
            continue
        conn.execute(sa.text(statement))
    indexes = named_sql("_journey_indexes.sql", dialect, required=False)
    if indexes is not None:
        for statement in statements(indexes):
            conn.execute(sa.text(statement))
    for name in temporary:
        conn.execute(sa.text(f"drop table {_temp_schema(conn)}.{name}"))
    conn.execute(sa.text(f"drop {events} {_temp_schema(conn)}.events"))
    if coded:
        drop_temp_types(native_duckdb(conn), CODED_TYPE_PREFIX)


# The types queries/_journey_events.duckdb.sql makes for DuckDB's events, dropped after the build.
CODED_TYPE_PREFIX = "journey_"


def _create_as_text(conn: Connection, name: str, query: str) -> None:
    """DuckDB: `create table name as query` with each ENUM column of the query made text, so the
    journey tables hold text as they always have (their columns made first, then filled: a
    cast in the query would turn ten million codes back into text before they are grouped)."""
    duck = native_duckdb(conn)
    columns = duck.execute(f"describe {query}").fetchall()
    preparer = conn.dialect.identifier_preparer
    definitions = ", ".join(
        f"{preparer.quote_identifier(column)} {'VARCHAR' if kind.startswith('ENUM(') else kind}"
        for column, kind, *_ in columns)
    conn.execute(sa.text(f"create table {name} ({definitions})"))
    conn.execute(sa.text(f"insert into {name} {query}"))


def refresh_after_load(conn: Connection) -> str:
    """Bring the journey up to date after loads, in the caller's transaction: only the
    pregnancies the loads since the last rebuild touched, when every one of those loads
    recorded them and they are a small part of the cohort; else the whole journey.
    Returns what was done: 'incremental', 'full' or 'full, in N parts'."""
    _check_reference(conn)
    if not _pending_is_complete(conn):
        return _full(refresh(conn))
    touched = int(conn.execute(sa.text(
        "select count(distinct pregnancy_id) from journey_pending")).scalar() or 0)
    pregnancies = int(conn.execute(sa.text("select count(*) from journey")).scalar() or 0)
    if touched > FULL_REBUILD_SHARE * max(pregnancies, 1):
        return _full(refresh(conn))
    _rebuild_pregnancies(conn, "select distinct pregnancy_id from journey_pending")
    _mark_built(conn)
    return "incremental"


def _full(parts: int) -> str:
    return "full" if parts == 1 else f"full, in {parts} parts"


def _pending_is_complete(conn: Connection) -> bool:
    """Built, and every load since recorded the pregnancies it touched (a load by an older
    version, or a first load, did not)."""
    if not is_built(conn):
        return False
    built_after = conn.execute(sa.select(journey_state.c.built_after_load_id)).scalar()
    if built_after is None or not built_by_this_code(conn):
        return False  # never built, or built by SQL that has changed since: every row may differ
    recorded = sa.select(journey_pending_loads.c.load_id).where(
        journey_pending_loads.c.load_id == load_log.c.load_id)
    unrecorded = conn.execute(sa.select(sa.func.count()).select_from(load_log).where(
        _source_loads(), load_log.c.load_id > int(built_after), ~recorded.exists())).scalar()
    return int(unrecorded or 0) == 0


def _rebuild_pregnancies(conn: Connection, pregnancies: str, *, coded: bool = False) -> None:
    """Rebuild the rows of the pregnancies the query `pregnancies` selects with the same
    statements as a full rebuild (coded: DuckDB's events as ENUM codes of the types
    _refresh_in_parts has made, for parts of a build too large to make at once).

    Temporary views named like the contract tables hold only the touched pregnancies' rows,
    and each `create table X as` and `create view X as` of queries/_journey.sql becomes
    `create temp table X as` (or view), so every statement reads the touched rows of the
    relations before it (temporary objects hide permanent ones of the same name on both
    engines). Then each derived table swaps those pregnancies' rows for the new ones, the
    temporary objects are dropped, and the whole-cohort tables are recomputed."""
    dialect = conn.dialect.name
    home, temp = _qualified_home(conn), _temp_schema(conn)
    # the pregnancies as a table: a condition on every row of the contract tables instead (a
    # part's hash) had DuckDB place the events twice as slowly
    conn.execute(sa.text(f"create temp table journey_touched as {pregnancies}"))
    touched = "pregnancy_id in (select pregnancy_id from journey_touched)"
    # (kind, name) of every temporary object, in the order made
    made = _source_views(conn, touched)
    built = []
    whole = {}
    for statement in statements(named_sql("_journey.sql", dialect)):
        match = _CREATE.match(statement)
        if match is None:
            continue  # drops: the permanent objects stay as they are
        already_temporary, kind, name = match.groups()
        if name in WHOLE_TABLES:
            whole[name] = statement[match.end():]
            continue
        if coded and _EVENTS_VIEW.search(statement):
            conn.execute(sa.text(_coded_events(types=False)[0]))
            made.append(("table", "events"))
            continue
        if _EVENTS_VIEW.search(statement):
            # the touched pregnancies' events, placed once: through the view, every table
            # built from them would scan the whole activity table for the touched rows again
            statement, kind = _events_as_table(statement), "table"
        conn.execute(sa.text(statement if already_temporary
                             else f"create temp {kind} " + statement[match.start(3):]))
        made.append((kind.lower(), name))
        if kind.lower() == "table" and not already_temporary:
            built.append(name)
    for table in built:
        conn.execute(sa.text(f"delete from {home}.{table} where {touched}"))
        conn.execute(sa.text(f"insert into {home}.{table} select * from {temp}.{table}"))
    # dependants first: a view cannot outlive what it reads (PostgreSQL)
    for kind, name in reversed(made):
        conn.execute(sa.text(f"drop {kind} {temp}.{name}"))
    for table, query in whole.items():
        conn.execute(sa.text(f"delete from {home}.{table}"))
        conn.execute(sa.text(f"insert into {home}.{table} {query}"))
    conn.execute(sa.text(f"drop table {temp}.journey_touched"))
    if dialect == "postgresql":
        for table in (*built, *whole):
            conn.execute(sa.text(f"analyze {home}.{table}"))


def _temp_schema(conn: Connection) -> str:
    return "temp" if conn.dialect.name == "duckdb" else "pg_temp"


def _qualified_home(conn: Connection) -> str:
    """Where the permanent tables live, quoted (DuckDB: database and schema, since `main`
    alone would also name the temporary catalogue's schema)."""
    preparer = conn.dialect.identifier_preparer
    if conn.dialect.name == "duckdb":
        database, schema_name = conn.execute(sa.text(
            "select current_database(), current_schema()")).one()
        return f"{preparer.quote_identifier(database)}.{preparer.quote_identifier(schema_name)}"
    return preparer.quote_identifier(conn.execute(sa.text("select current_schema()")).scalar())


def _fingerprint(conn: Connection) -> str:
    """What every journey row depends on besides the contract tables: the journey SQL and the
    rows of each reference table it reads (so a reference change not followed by a full
    rebuild cannot leave untouched pregnancies built on the old rows)."""
    sql = named_sql("_journey.sql", conn.dialect.name)
    digest = hashlib.sha256(sql.encode())
    for name in sorted(set(_REFERENCE_READ.findall(sql))):
        # reference table names come from the shipped SQL file, never from input
        rows = sorted(repr(tuple(row)) for row in conn.execute(sa.text(f"select * from {name}")))
        digest.update(f"\n{name}\n".encode() + "\n".join(rows).encode())
    return digest.hexdigest()


def built_by_this_code(conn: Connection) -> bool:
    """The journey was built by this version's SQL from the reference rows there are now: not by
    an older version of the software (`pathway serve` rebuilds it at its start when it was)."""
    built_with = conn.execute(sa.select(journey_state.c.journey_sql)).scalar()
    return built_with == _fingerprint(conn)


def _mark_built(conn: Connection) -> None:
    conn.execute(journey_pending.delete())
    conn.execute(journey_pending_loads.delete())
    conn.execute(journey_state.delete())
    conn.execute(journey_state.insert().values(built_after_load_id=_latest_load_id(conn),
                                               built_at=dt.datetime.now(),
                                               journey_sql=_fingerprint(conn)))


def is_current(conn: Connection, *, known_built: bool = False) -> bool:
    """Built, and no data the journey is built from has loaded since it was (a published
    benchmark file needs no rebuild). known_built skips the check that every derived table
    exists (a caller that has seen them in this process)."""
    from pathway.answers import read_version  # answers reads this module's LATEST_SOURCE_LOAD

    if not known_built and not is_built(conn):
        return False
    return read_version(conn).journey_current


# The tables the journey is built from: a load of any other (a published benchmark file, a
# reference table) changes the data version but needs no rebuild.
SOURCE_TABLES = ("areas", "cohort", "activity", "measures")


def _source_loads():
    return sa.and_(load_log.c.outcome == "loaded", load_log.c.table_name.in_(SOURCE_TABLES))


# The latest load that changed a table the journey is built from (0 before any).
LATEST_SOURCE_LOAD = (sa.select(sa.func.coalesce(sa.func.max(load_log.c.load_id), 0))
                      .where(_source_loads()).scalar_subquery())


def _latest_load_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(LATEST_SOURCE_LOAD)).scalar())


def is_built(conn: Connection) -> bool:
    """Every derived table exists (a database built by an older version lacks the newer ones)."""
    present = conn.execute(_TABLES_PRESENT, {"names": list(DERIVED_TABLES)}).scalar()
    return int(present or 0) == len(DERIVED_TABLES)


def _check_reference(conn: Connection) -> None:
    """Top up required parameters a database made before they shipped lacks, else refuse."""
    present = {row[0] for row in conn.execute(sa.text("select name from ref_parameters"))}
    missing = [name for name in REQUIRED_PARAMETERS if name not in present]
    if missing:
        shipped = read_reference_csv("parameters", reference_dir() / "parameters.csv")
        rows = shipped[shipped["name"].isin(missing)]
        if len(rows):
            conn.execute(REFERENCE_TABLES["parameters"].insert(),
                         rows.astype(object).where(rows.notna(), None).to_dict("records"))
        missing = [name for name in missing if name not in set(rows["name"])]
    if missing:
        raise JourneyError(
            "reference table ref_parameters (data/reference/parameters.csv) lacks "
            + ", ".join(repr(name) for name in missing)
            + ": the pathway stages cannot be dated without it; restore the shipped rows "
              "with `pathway reference replace parameters FILE`")
