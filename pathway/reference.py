"""Reference data: the sourced windows, codes, thresholds, prevalences and costs.

Each `data/reference/NAME.csv` fills table `ref_NAME`. Shipped files load on first use;
`pathway reference replace NAME FILE` swaps in a commissioner's own figures.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pathway.resources import reference_dir as shipped_reference_dir
from pathway.schema import REFERENCE_TABLES


class ReferenceError(ValueError):
    """A reference file does not fit its table; the message names file and column."""


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def short_label(label) -> str:
    """A reference label as a heading, axis or table cell reads it: its words before any bracket
    ("Pregnancy", not "Pregnancy (conception to the day before birth; ...)")."""
    return str(label).split(" (")[0]


def read_reference_csv(name: str, path: Path) -> pd.DataFrame:
    """Read and type one reference CSV against its table's columns."""
    table = REFERENCE_TABLES[name]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c.name for c in table.columns
               if c.name not in frame.columns and (not c.nullable or c.primary_key)]
    if missing:
        raise ReferenceError(f"{path.name}: missing column(s) {', '.join(missing)}")
    out = {}
    for column in table.columns:
        raw = frame[column.name] if column.name in frame.columns else pd.Series([""] * len(frame))
        out[column.name] = [_typed(path, i + 2, column, v) for i, v in enumerate(raw)]
    return pd.DataFrame(out)


def _typed(path: Path, line: int, column: sa.Column, value: str):
    value = value.strip()
    if value == "":
        if not column.nullable or column.primary_key:
            raise ReferenceError(f"{path.name} line {line}, column {column.name}: value required")
        return None
    python_type = column.type.python_type
    try:
        if python_type is bool:
            lowered = value.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError
        return python_type(value)
    except ValueError:
        raise ReferenceError(f"{path.name} line {line}, column {column.name}: "
                             f"{value!r} is not a {python_type.__name__}") from None


def _file_for(name: str, folder: Path) -> Path:
    own = folder / f"{name}.csv"
    return own if own.exists() else shipped_reference_dir() / f"{name}.csv"


def load_missing(conn: Connection, folder: Path | None = None) -> list[str]:
    """Fill every empty reference table from `folder` (or the shipped files). Returns names filled."""
    folder = folder or shipped_reference_dir()
    filled = []
    for name, table in REFERENCE_TABLES.items():
        if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar():
            continue
        frame = read_reference_csv(name, _file_for(name, folder))
        if len(frame):
            conn.execute(table.insert(), frame.astype(object).where(frame.notna(), None).to_dict("records"))
        filled.append(name)
    return filled


def replace(conn: Connection, name: str, path: Path) -> int:
    """Replace one reference table with the rows of `path` (a user's own figures)."""
    if name not in REFERENCE_TABLES:
        raise ReferenceError(f"unknown reference table {name!r}: one of {', '.join(REFERENCE_TABLES)}")
    table = REFERENCE_TABLES[name]
    frame = read_reference_csv(name, Path(path))
    conn.execute(table.delete())
    if len(frame):
        conn.execute(table.insert(), frame.astype(object).where(frame.notna(), None).to_dict("records"))
    return len(frame)


def read_table(conn: Connection, name: str) -> pd.DataFrame:
    table = REFERENCE_TABLES[name]
    result = conn.execute(sa.select(table))
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
