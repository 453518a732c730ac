"""The audit log: who signed in (or failed to), uploaded, downloaded, made a report or changed
reference data, when, from where and with which parameters.

Events go to the warehouse's audit_log table whenever this process may write to it (PostgreSQL,
`python app.py`, the command line). Under `pathway serve` on DuckDB the workers hold the file
read-only (DuckDB allows many readers or one writer), so they append each event as one JSON line
to a journal beside the database file (`data/pathway.audit.jsonl` for `data/pathway.duckdb`);
the journal is moved into audit_log by the next command that opens the warehouse for writing
(`pathway serve` on start, `pathway audit`), and read together with the table until then.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import sqlalchemy as sa

from pathway.db import Warehouse
from pathway.schema import audit_log

log = logging.getLogger(__name__)

COLUMNS = ["occurred_at", "user_name", "address", "event", "outcome", "details"]
EVENT_WORDS = {"sign_in": "sign-in", "sign_out": "sign-out", "upload": "upload", "download": "download",
               "report": "report", "reference_replace": "reference change", "load": "load (command line)",
               "refused": "refused request", "users": "account change"}


def journal_path(warehouse: Warehouse) -> Path | None:
    """The JSON-lines journal beside an embedded DuckDB file (None for PostgreSQL or :memory:)."""
    database = warehouse.url.database if warehouse.is_duckdb else None
    if not database or database == ":memory:":
        return None
    path = Path(database)
    return path.with_name(f"{path.stem}.audit.jsonl")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def record(warehouse: Warehouse, event: str, outcome: str = "ok", *, user: str | None = None,
           address: str | None = None, details: Mapping[str, Any] | None = None) -> None:
    """Write one event. An audit failure is logged and never breaks what the person was doing."""
    row = {"event_id": uuid.uuid4().hex, "occurred_at": _now(), "user_name": user, "address": address,
           "event": event, "outcome": outcome,
           "details": json.dumps(dict(details or {}), default=str, sort_keys=True)}
    try:
        if warehouse.read_only:
            _append_to_journal(warehouse, row)
        else:
            with warehouse.begin() as conn:
                conn.execute(audit_log.insert().values(**row))
    except Exception:
        log.exception("could not record audit event %s for %s", event, user)


def _append_to_journal(warehouse: Warehouse, row: dict) -> None:
    path = journal_path(warehouse)
    if path is None:
        raise RuntimeError("a read-only warehouse with no file has nowhere to keep its audit journal")
    line = (json.dumps({**row, "occurred_at": row["occurred_at"].isoformat()}, sort_keys=True) + "\n").encode("utf-8")
    # One write() on an O_APPEND descriptor: concurrent workers' lines never interleave.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def _journal_rows(path: Path | None) -> list[dict]:
    if path is None or not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            row["occurred_at"] = dt.datetime.fromisoformat(row["occurred_at"])
        except (ValueError, KeyError, TypeError):
            log.warning("%s line %d is not an audit event; it was skipped", path, number)
            continue
        rows.append(row)
    return rows


def import_journal(warehouse: Warehouse) -> int:
    """Move the journal's events into audit_log (a writable warehouse only); the count moved."""
    path = journal_path(warehouse)
    rows = _journal_rows(path)
    if not rows:
        if path is not None and path.exists():
            path.unlink()
        return 0
    with warehouse.begin() as conn:
        known = {r[0] for r in conn.execute(
            sa.select(audit_log.c.event_id).where(audit_log.c.event_id.in_([r["event_id"] for r in rows])))}
        new = [{c.name: row.get(c.name) for c in audit_log.columns} for row in rows if row["event_id"] not in known]
        if new:
            conn.execute(audit_log.insert(), new)
    path.unlink()
    return len(new)


def read_events(warehouse: Warehouse, since: dt.date | dt.datetime | None = None,
                limit: int | None = None) -> pd.DataFrame:
    """Events at or after `since` (UTC), newest first: audit_log and the journal not yet moved."""
    if isinstance(since, dt.date) and not isinstance(since, dt.datetime):
        since = dt.datetime.combine(since, dt.time())
    statement = sa.select(audit_log)
    if since is not None:
        statement = statement.where(audit_log.c.occurred_at >= since)
    with warehouse.connect() as conn:
        result = conn.execute(statement)
        rows = [dict(r._mapping) for r in result]
    seen = {r["event_id"] for r in rows}
    rows += [r for r in _journal_rows(journal_path(warehouse))
             if r["event_id"] not in seen and (since is None or r["occurred_at"] >= since)]
    frame = pd.DataFrame(rows, columns=["event_id", *COLUMNS])
    frame = frame.sort_values("occurred_at", ascending=False, kind="stable").reset_index(drop=True)
    if limit is not None:
        frame = frame.head(limit)
    return frame[COLUMNS]
