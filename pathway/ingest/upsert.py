"""Keyed upserts into the warehouse, portable SQL for DuckDB and PostgreSQL alike.

Ids are keys: a row whose id is new is inserted, one whose id exists with the same content
is left alone, one whose id exists with different content replaces it (contract section 3).
DuckDB fact tables have no unique index, so this is joins and deletes, not ON CONFLICT.
The incoming rows are in a temporary table on the target (load_incoming or load_released).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pathway import schema
from pathway.ingest.contract import TABLES, TableContract
from pathway.load_log import forget_earlier_rejects

# The only names these statements are ever built from (allow-list).
_SOURCES = ("load_incoming", "load_released")


@dataclass
class UpsertCounts:
    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0


def _scalar(conn: Connection, sql: str, params: dict | None = None) -> int:
    return int(conn.execute(sa.text(sql), params or {}).scalar() or 0)


def _drop(conn: Connection, *names: str) -> None:
    for name in names:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))


def upsert(conn: Connection, contract: TableContract, source: str = "load_incoming") -> UpsertCounts:
    """Apply the rows of `source` to the contract table; for cohort, its risk factors too."""
    if source not in _SOURCES:
        raise ValueError(f"unknown incoming table {source!r}")
    table, key = contract.name, contract.key
    columns = [c.name for c in schema.metadata.tables[table].columns]
    column_list = ", ".join(columns)

    existing = _scalar(conn, f"SELECT count(*) FROM {source} i "
                             f"WHERE EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = i.{key})")
    _drop(conn, "load_changed", "load_inserted")
    if existing:
        _match_existing(conn, contract, source, columns)
    else:
        # every id new (a first load, or rows never sent before): nothing to compare with a
        # table of millions
        conn.execute(sa.text(f"CREATE TEMP TABLE load_changed AS SELECT {key} AS id "
                             f"FROM {source} WHERE false"))
    replaced = _scalar(conn, "SELECT count(*) FROM load_changed")
    _note_touched_pregnancies(conn, contract, source, all_new=not existing)

    conn.execute(sa.text(f"DELETE FROM {table} WHERE {key} IN (SELECT id FROM load_changed)"))
    inserted = "" if not existing else f" WHERE i.{key} IN (SELECT id FROM load_inserted)"
    conn.execute(sa.text(f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {source} i"
                         + inserted))
    if contract.has_risk_factors:
        # New and changed pregnancies get their flags; an unchanged one already has them.
        conn.execute(sa.text("DELETE FROM cohort_risk_factors "
                             "WHERE pregnancy_id IN (SELECT id FROM load_changed)"))
        conn.execute(sa.text(
            "INSERT INTO cohort_risk_factors (pregnancy_id, risk_factor, present) "
            "SELECT pregnancy_id, risk_factor, present FROM load_incoming_rf r "
            "WHERE NOT EXISTS (SELECT 1 FROM cohort_risk_factors x "
            "WHERE x.pregnancy_id = r.pregnancy_id)"))
    if contract.waiting_table:
        _settle_waiting(conn, contract, source)
    _drop(conn, "load_changed", "load_inserted")
    incoming = _scalar(conn, f"SELECT count(*) FROM {source}")
    return UpsertCounts(loaded=incoming - existing, replaced=replaced,
                        unchanged=existing - replaced)


def _match_existing(conn: Connection, contract: TableContract, source: str,
                    columns: list[str]) -> None:
    """load_changed (the ids whose row, or for cohort whose risk-factor flags, differ from the
    table's) and load_inserted (those and the new ids: the rows the upsert writes).

    One outer join of the incoming rows to the table finds the new and the changed rows
    together, comparing the columns after the join, not in its condition. Ten million rows
    sent again, 83,377 of them changed and 100,000 new, took 12.5 s to upsert when a join with
    the comparison in its condition found the changed and two anti-joins the new (to note the
    pregnancies touched, and to insert); it now takes 5.6 s (issue 15)."""
    table, key = contract.name, contract.key
    differs = " OR ".join(f"i.{c} IS DISTINCT FROM t.{c}" for c in columns if c != key) or "false"
    conn.execute(sa.text(
        f"CREATE TEMP TABLE load_inserted AS SELECT i.{key} AS id, t.{key} IS NULL AS is_new "
        f"FROM {source} i LEFT JOIN {table} t ON t.{key} = i.{key} "
        f"WHERE t.{key} IS NULL OR {differs}"))
    changed = "SELECT id FROM load_inserted WHERE NOT is_new"
    if contract.has_risk_factors:
        # A pregnancy whose risk-factor flags differ is a changed pregnancy too.
        changed += (
            " UNION SELECT d.pregnancy_id FROM ("
            " (SELECT pregnancy_id, risk_factor, present FROM load_incoming_rf"
            "  EXCEPT SELECT r.pregnancy_id, r.risk_factor, r.present FROM cohort_risk_factors r"
            "  WHERE r.pregnancy_id IN (SELECT pregnancy_id FROM load_incoming))"
            " UNION ALL"
            " (SELECT r.pregnancy_id, r.risk_factor, r.present FROM cohort_risk_factors r"
            "  WHERE r.pregnancy_id IN (SELECT pregnancy_id FROM load_incoming)"
            "  EXCEPT SELECT pregnancy_id, risk_factor, present FROM load_incoming_rf)) d"
            " WHERE d.pregnancy_id IN (SELECT pregnancy_id FROM cohort)")
    conn.execute(sa.text(f"CREATE TEMP TABLE load_changed AS {changed}"))
    if contract.has_risk_factors:
        # a pregnancy changed in its flags alone is deleted and written again too
        conn.execute(sa.text("INSERT INTO load_inserted SELECT id, false FROM load_changed "
                             "WHERE id NOT IN (SELECT id FROM load_inserted)"))


def _note_touched_pregnancies(conn: Connection, contract: TableContract, source: str, *,
                              all_new: bool) -> None:
    """Record the pregnancies whose journey this upsert changes, before it changes them, so
    the rebuild after the load redoes only those (pathway.journey.refresh_after_load): the
    pregnancies of new rows, of replaced rows before and after (a row may move to another
    pregnancy), and, for a changed area, every pregnancy in it. Before the journey's first
    build there is nothing to rebuild part of: that build is whole."""
    if not _scalar(conn, "SELECT count(*) FROM journey_state"):
        return
    table, key = contract.name, contract.key
    if table == "areas":
        touched = "SELECT pregnancy_id FROM cohort WHERE area_code IN (SELECT id FROM load_changed)"
    elif all_new:
        touched = f"SELECT pregnancy_id FROM {source}"
    else:
        touched = (f"SELECT t.pregnancy_id FROM {table} t WHERE t.{key} IN (SELECT id FROM load_changed)"
                   f" UNION SELECT i.pregnancy_id FROM {source} i"
                   f" WHERE i.{key} IN (SELECT id FROM load_inserted)")
    conn.execute(sa.text(f"INSERT INTO journey_pending (pregnancy_id) "
                         f"SELECT DISTINCT pregnancy_id FROM ({touched}) touched"))


def note_load_recorded(conn: Connection, load_id: int) -> None:
    """This load has recorded every pregnancy it touched (journey_pending is complete for it)."""
    conn.execute(schema.journey_pending_loads.insert().values(load_id=load_id))


def _settle_waiting(conn: Connection, contract: TableContract, source: str) -> None:
    """A record now in its table no longer waits: its quarantine rows say so."""
    key, waiting = contract.key, contract.waiting_table
    conn.execute(sa.text(
        f"UPDATE rejects SET status = 'released' WHERE status = 'waiting' "
        f"AND table_name = :table AND record_id IN (SELECT {key} FROM {source})"),
        {"table": contract.name})
    conn.execute(sa.text(f"DELETE FROM {waiting} WHERE {key} IN (SELECT {key} FROM {source})"))


def insert_waiting(conn: Connection, contract: TableContract) -> int:
    """Orphans of this file wait; a newer copy of a waiting record supersedes the older one."""
    key, waiting = contract.key, contract.waiting_table
    columns = ", ".join(c.name for c in schema.metadata.tables[waiting].columns)
    conn.execute(sa.text(
        f"DELETE FROM rejects WHERE status = 'waiting' AND table_name = :table "
        f"AND record_id IN (SELECT {key} FROM load_waiting)"), {"table": contract.name})
    conn.execute(sa.text(f"DELETE FROM {waiting} WHERE {key} IN (SELECT {key} FROM load_waiting)"))
    conn.execute(sa.text(f"INSERT INTO {waiting} ({columns}) SELECT {columns} FROM load_waiting"))
    return _scalar(conn, "SELECT count(*) FROM load_waiting")


def insert_rejects(conn: Connection, table: str, sha256: str | None) -> None:
    """This load's rejected rows replace those of earlier loads of the same file (same content,
    same table), so a reload does not count its rejects twice."""
    forget_earlier_rejects(conn, table, sha256)
    columns = ", ".join(c.name for c in schema.rejects.columns)
    conn.execute(sa.text(f"INSERT INTO rejects ({columns}) SELECT {columns} FROM load_rejects"))


def release_waiting(conn: Connection) -> int:
    """Load every waiting row whose pregnancy is now in cohort (same upsert rules)."""
    released = 0
    for contract in TABLES.values():
        if not contract.waiting_table:
            continue
        columns = ", ".join(c.name for c in schema.metadata.tables[contract.name].columns)
        _drop(conn, "load_released")
        conn.execute(sa.text(
            f"CREATE TEMP TABLE load_released AS SELECT {columns} FROM {contract.waiting_table} w "
            f"WHERE EXISTS (SELECT 1 FROM cohort c WHERE c.pregnancy_id = w.pregnancy_id)"))
        count = _scalar(conn, "SELECT count(*) FROM load_released")
        if count:
            upsert(conn, contract, source="load_released")
            released += count
        _drop(conn, "load_released")
    return released
