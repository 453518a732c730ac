"""The load log: one row per load (extract or published file), and the summary people read.

Both importers write it: pathway.ingest.loader (extracts) and pathway.published (published
national figures). It imports neither, so they import it and each other one way only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pathway import schema

_CHUNK_BYTES = 8 << 20


@dataclass
class LoadSummary:
    load_id: int
    file_name: str
    table: str | None
    outcome: str                      # 'loaded' | 'refused'
    message: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0              # new rows inserted
    rows_replaced: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    rows_waiting: int = 0             # orphans quarantined until their pregnancy arrives
    rows_released: int = 0            # earlier orphans loaded by this load
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    rejects: pd.DataFrame = field(default_factory=lambda: _empty_rejects())
    notes: list[str] = field(default_factory=list)   # e.g. authorities split across ICBs

    def describe(self) -> str:
        """The one-paragraph summary the command line prints."""
        if self.outcome == "refused":
            # every refusal message already names the file
            said = "refused" in self.message or "nothing of" in self.message
            return self.message if said else f"{self.message}. Refused: nothing of it was loaded."
        parts = [f"{self.file_name}: loaded into {self.table}: {self.rows_read:,} rows read, "
                 f"{self.rows_loaded:,} new, {self.rows_replaced:,} replaced, "
                 f"{self.rows_unchanged:,} unchanged, {self.rows_rejected:,} rejected"]
        if self.rows_waiting:
            parts.append(f", {self.rows_waiting:,} waiting for their pregnancy in cohort")
        if self.rows_released:
            parts.append(f", {self.rows_released:,} earlier waiting rows released")
        parts.append(".")
        if self.encoding == "windows-1252":
            parts.append(" Read as Windows-1252 text (it is not UTF-8).")
        if self.ignored_columns:
            parts.append(f" Ignored columns: {', '.join(self.ignored_columns)}.")
        for note in self.notes:
            parts.append(f" {note}")
        if len(self.rejects):
            shown = self.rejects.head(5)
            lines = [f"{self.file_name} line {r.line_number}, column {r.column_name}: {r.reason}"
                     for r in shown.itertuples()]
            more = self.rows_rejected - len(shown)
            parts.append(" Rejected: " + "; ".join(lines)
                         + (f"; and {more:,} more rows (see the rejects table)." if more > 0 else "."))
        return "".join(parts)


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({"line_number": pd.Series(dtype="int64"),
                         "column_name": pd.Series(dtype="object"),
                         "value": pd.Series(dtype="object"),
                         "reason": pd.Series(dtype="object")})


def next_load_id(conn: Connection) -> int:
    """The id the next load_log row takes (extract and published-benchmark loads alike)."""
    return int(conn.execute(sa.text("SELECT coalesce(max(load_id), 0) + 1 FROM load_log")).scalar())


def write_load_log(conn: Connection, summary: LoadSummary, sha256: str | None) -> None:
    """One load_log row for a load, loaded or refused."""
    conn.execute(schema.load_log.insert().values(
        load_id=summary.load_id, file_name=summary.file_name, sha256=sha256,
        table_name=summary.table, rows_read=summary.rows_read, rows_loaded=summary.rows_loaded,
        rows_replaced=summary.rows_replaced, rows_unchanged=summary.rows_unchanged,
        rows_rejected=summary.rows_rejected, rows_waiting=summary.rows_waiting,
        rows_released=summary.rows_released,
        ignored_columns=json.dumps(summary.ignored_columns) if summary.ignored_columns else None,
        encoding=summary.encoding, delimiter=summary.delimiter,
        started_at=summary.started_at, ended_at=summary.ended_at,
        outcome=summary.outcome, message=summary.message))


def forget_earlier_rejects(conn: Connection, table: str, sha256: str | None) -> None:
    """Drop the rejected rows earlier loads of the same file (same content, same table) logged:
    the load about to write its own replaces them, so a reload never counts them twice."""
    if sha256:
        conn.execute(sa.text(
            "DELETE FROM rejects WHERE status = 'rejected' AND table_name = :table AND load_id IN "
            "(SELECT load_id FROM load_log WHERE sha256 = :sha256 AND table_name = :table)"),
            {"table": table, "sha256": sha256})


def file_sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None
