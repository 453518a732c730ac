"""Small hand-written extract files for the loader tests: two areas, three pregnancies,
four activity rows and two measures, all valid, plus helpers to write variants of them."""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa

from pathway.db import Warehouse

AREAS_HEADER = ["area_code", "area_name", "icb_code", "icb_name"]
AREAS_ROWS = [
    ["E06000001", "Hartlepool", "E54000050", "North East and North Cumbria"],
    ["E06000002", "Middlesbrough", "E54000050", "North East and North Cumbria"],
]

COHORT_HEADER = ["pregnancy_id", "person_id", "area_code", "booking_date", "edd", "birth_date",
                 "outcome", "parent_age", "ethnic_group", "imd_decile",
                 "rf_domestic_abuse", "rf_previous_loss"]
COHORT_ROWS = [
    ["P1", "M1", "E06000001", "2024-01-10", "2024-07-01", "2024-06-28", "live_birth", "29", "A", "3", "yes", "no"],
    ["P2", "M2", "E06000001", "2024-02-01", "2024-08-15", "", "", "34", "Asian", "7", "", ""],
    ["P3", "M3", "E06000002", "2024-03-05", "2024-09-20", "2024-09-18", "", "22", "", "1", "n", "Y"],
]

ACTIVITY_HEADER = ["activity_id", "pregnancy_id", "service", "activity_type", "activity_date",
                   "contact_code", "attendance", "tier", "referral_source", "provider_code"]
ACTIVITY_ROWS = [
    ["A1", "P1", "maternity", "contact", "2024-01-10", "booking", "", "", "", "RX1"],
    ["A2", "P1", "health_visiting", "contact", "2024-07-05", "new_birth_visit", "attended", "", "", ""],
    ["A3", "P2", "perinatal_mh", "assessment", "2024-04-02", "", "dna", "", "gp", ""],
    ["A4", "P3", "family_hub", "intervention", "2024-10-01", "", "", "universal", "", ""],
]

MEASURES_HEADER = ["measure_id", "pregnancy_id", "instrument", "score", "measure_date",
                   "timepoint", "service"]
MEASURES_ROWS = [
    ["S1", "P1", "EPDS", "14", "2024-07-20", "screen", "health_visiting"],
    ["S2", "P2", "phq9", "9.5", "2024-04-02", "baseline", ""],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, delimiter: str = ",",
              encoding: str = "utf-8") -> Path:
    """Write a CSV exactly (encoding 'utf-8-sig' writes a BOM)."""
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_areas(folder: Path, name: str = "areas.csv", rows=None) -> Path:
    return write_csv(folder / name, AREAS_HEADER, AREAS_ROWS if rows is None else rows)


def write_cohort(folder: Path, name: str = "cohort.csv", rows=None) -> Path:
    return write_csv(folder / name, COHORT_HEADER, COHORT_ROWS if rows is None else rows)


def write_activity(folder: Path, name: str = "activity.csv", rows=None) -> Path:
    return write_csv(folder / name, ACTIVITY_HEADER, ACTIVITY_ROWS if rows is None else rows)


def write_measures(folder: Path, name: str = "measures.csv", rows=None) -> Path:
    return write_csv(folder / name, MEASURES_HEADER, MEASURES_ROWS if rows is None else rows)


def new_warehouse(folder: Path) -> Warehouse:
    warehouse = Warehouse(f"duckdb:///{folder / 'w.duckdb'}")
    warehouse.ensure_schema()
    return warehouse


def loaded_warehouse(folder: Path) -> Warehouse:
    """A warehouse holding the valid areas and cohort above."""
    from pathway.ingest import load_file

    warehouse = new_warehouse(folder)
    for path in (write_areas(folder), write_cohort(folder)):
        summary = load_file(warehouse, path)
        assert summary.outcome == "loaded", summary.describe()
    return warehouse


def count(warehouse: Warehouse, table: str) -> int:
    # table names here come from the tests themselves, never from input
    return int(warehouse.query(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])


def rows(warehouse: Warehouse, sql: str, **params) -> list[tuple]:
    """Plain tuples (None stays None, unlike a DataFrame)."""
    with warehouse.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params).fetchall()]
