"""The synthetic demo data set: extract files shaped exactly like contract section 1, and
`build_demo`, which writes them and loads them through the real loader.

Reproducible from the seed (same seed, byte-identical files). Scales: `small` (3 areas,
for tests), `county` (10 areas, the dashboard's default) and `national` (150 areas, one year,
10M+ activity rows, for benchmarks). Areas are synthetic (X-prefixed codes). The data carry
planted, documented service gaps and findings, listed in PLANTED_GAPS:

- Eastfield (X60000002) has no parent-infant relationship team: zero parent_infant activity.
- Riverholme (X60000003) lags on the 12-month review (most after day 365 or never done)
  and has no maternal mental health service: zero maternal_mh activity.
- Northmoor (X60000001) refers families in IMD deciles 1-2 to targeted and specialist
  services at a fifth of the rate of its other families.
- Contract v1.1 (number_of_babies, risk_identified_date, contact_mode, subject, infant_number):
  Riverholme rarely refers families with a recorded risk before birth; Northmoor's perinatal
  team sees many women by telephone only (counted by specialist_access, not by NHS England's
  MHS91 count in perinatal_access); partners are assessed in some areas only (never in
  Eastfield); twins at about 1.5% of live births (a demo assumption, not confirmed), each
  baby with its own health visiting contacts.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pathway.demo.areas import PLANTED_GAPS, SCALES, DemoArea, DemoScale
from pathway.demo.population import (ETHNIC_GROUPS, NO_DAY, OUTCOMES, RISK_FACTORS, Cohort,
                                     draw_cohort, to_day)
from pathway.demo.services import (ACTIVITY_TYPES, ATTENDANCE, CONTACT_CODES, CONTACT_MODES,
                                   INSTRUMENTS, REFERRAL_SOURCES, SERVICES, SUBJECTS, TIERS,
                                   TIMEPOINTS, area_journal)

__all__ = ["write_extracts", "build_demo", "PLANTED_GAPS", "SCALES"]

# Parquet row groups of about this many rows keep national-scale memory flat.
ROWS_PER_WRITE = 1_000_000

AREA_SCHEMA = pa.schema([(name, pa.string()) for name in
                         ("area_code", "area_name", "icb_code", "icb_name", "region_code", "region_name")])
COHORT_SCHEMA = pa.schema(
    [("pregnancy_id", pa.string()), ("person_id", pa.string()), ("area_code", pa.string()),
     ("booking_date", pa.date32()), ("edd", pa.date32()), ("birth_date", pa.date32()),
     ("outcome", pa.string()), ("parent_age", pa.int16()), ("ethnic_group", pa.string()),
     ("imd_decile", pa.int16())] + [(name, pa.bool_()) for name in RISK_FACTORS]
    + [("number_of_babies", pa.int16()), ("risk_identified_date", pa.date32())])
ACTIVITY_SCHEMA = pa.schema(
    [("activity_id", pa.string()), ("pregnancy_id", pa.string()), ("service", pa.string()),
     ("activity_type", pa.string()), ("activity_date", pa.date32()), ("contact_code", pa.string()),
     ("attendance", pa.string()), ("tier", pa.string()), ("referral_source", pa.string()),
     ("contact_mode", pa.string()), ("subject", pa.string()), ("infant_number", pa.int16())])
MEASURES_SCHEMA = pa.schema(
    [("measure_id", pa.string()), ("pregnancy_id", pa.string()), ("instrument", pa.string()),
     ("score", pa.int16()), ("measure_date", pa.date32()), ("timepoint", pa.string()),
     ("service", pa.string())])


def write_extracts(out_dir: Path, *, seed: int = 2024, scale: str = "county",
                   progress: bool = False) -> list[Path]:
    """Write the demo's areas, cohort, activity and measures files; return their paths in load order."""
    plan = _scale(scale)
    say = _reporter(progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    areas = plan.areas()
    cutoff = to_day(plan.cutoff)

    cohort = draw_cohort(areas, plan, np.random.default_rng([seed, 0]))
    pregnancy_ids = _ids("P", cohort.pregnancy_number, 7)
    say(f"{len(cohort):,} pregnancies in {len(areas)} areas")

    areas_path = out_dir / "areas.csv"
    with _Extract(areas_path, AREA_SCHEMA) as extract:
        extract.write(pa.table({name: [getattr(a, name) for a in areas] for name in AREA_SCHEMA.names},
                               schema=AREA_SCHEMA))
    cohort_path = out_dir / "cohort.csv"
    with _Extract(cohort_path, COHORT_SCHEMA) as extract:
        extract.write(_cohort_table(cohort, pregnancy_ids, areas))

    suffix = ".parquet" if plan.columnar else ".csv"
    activity_path, measures_path = out_dir / f"activity{suffix}", out_dir / f"measures{suffix}"
    written = {"activity": 0, "measures": 0}
    with _Extract(activity_path, ACTIVITY_SCHEMA) as activity, \
            _Extract(measures_path, MEASURES_SCHEMA) as measures:
        for index, area in enumerate(areas):
            rows = np.flatnonzero(cohort.area_index == index)
            # Each area has its own random stream, so chunks are independent of each other.
            journal = area_journal(cohort.take(rows), area, cutoff,
                                   np.random.default_rng([seed, 1, index]))
            ids = pc.take(pregnancy_ids, pa.array(rows))
            table = _activity_table(journal.rows(journal.activity_blocks), ids, written["activity"])
            activity.write(table)
            written["activity"] += len(table)
            table = _measures_table(journal.rows(journal.measure_blocks), ids, written["measures"])
            measures.write(table)
            written["measures"] += len(table)
            say(f"{area.area_name}: {len(rows):,} pregnancies, {written['activity']:,} activity "
                f"and {written['measures']:,} measure rows so far")
    return [areas_path, cohort_path, activity_path, measures_path]


def build_demo(warehouse, *, seed: int = 2024, scale: str = "county", progress: bool = False,
               out_dir: Path | None = None) -> list:
    """Write the demo extracts (to out_dir, else a temporary folder) and load them with
    pathway.ingest.load_files, as a user's files would be. Returns the load summaries."""
    from pathway.ingest import load_files

    _scale(scale)
    warehouse.ensure_schema()
    with tempfile.TemporaryDirectory(prefix="pathway-demo-") as scratch:
        folder = Path(out_dir) if out_dir is not None else Path(scratch)
        paths = write_extracts(folder, seed=seed, scale=scale, progress=progress)
        return load_files(warehouse, paths, progress=progress)


# ---- turning code arrays into extract tables --------------------------------------------
def _scale(name: str) -> DemoScale:
    if name not in SCALES:
        raise ValueError(f"unknown demo scale {name!r}: choose one of {', '.join(SCALES)}")
    return SCALES[name]


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Pseudonyms like P0000123: a letter first, so never mistaken for a 10-digit NHS number."""
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _dates(days: np.ndarray) -> pa.Array:
    missing = days == NO_DAY
    return pa.array(np.where(missing, 0, days).astype(np.int32), mask=missing).cast(pa.date32())


def _labels(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """Code indexes to their strings; -1 is blank."""
    codes = np.asarray(codes)
    return pc.take(pa.array(names), pa.array(codes.astype(np.int32), mask=codes < 0))


def _cohort_table(cohort: Cohort, pregnancy_ids: pa.Array, areas: list[DemoArea]) -> pa.Table:
    columns = {
        "pregnancy_id": pregnancy_ids,
        "person_id": _ids("M", cohort.person_number, 7),
        "area_code": _labels(tuple(a.area_code for a in areas), cohort.area_index),
        "booking_date": _dates(cohort.booking),
        "edd": _dates(cohort.edd),
        "birth_date": _dates(cohort.birth),
        "outcome": _labels(OUTCOMES, cohort.outcome),
        "parent_age": pa.array(cohort.parent_age.astype(np.int16), mask=cohort.parent_age < 0),
        "ethnic_group": _labels(ETHNIC_GROUPS, cohort.ethnic_group),
        "imd_decile": pa.array(cohort.imd_decile.astype(np.int16), mask=cohort.imd_decile == 0),
    }
    columns.update({name: pa.array(cohort.risk_factors[name]) for name in RISK_FACTORS})
    columns["number_of_babies"] = pa.array(cohort.babies.astype(np.int16), mask=cohort.babies == 0)
    columns["risk_identified_date"] = _dates(cohort.risk_identified)
    return pa.table(columns, schema=COHORT_SCHEMA)


def _activity_table(rows: dict, pregnancy_ids: pa.Array, first: int) -> pa.Table:
    return pa.table({
        "activity_id": _ids("A", np.arange(first + 1, first + 1 + len(rows["row"])), 9),
        "pregnancy_id": pc.take(pregnancy_ids, pa.array(rows["row"])),
        "service": _labels(SERVICES, rows["service"]),
        "activity_type": _labels(ACTIVITY_TYPES, rows["activity_type"]),
        "activity_date": _dates(rows["day"]),
        "contact_code": _labels(CONTACT_CODES, rows["contact_code"]),
        "attendance": _labels(ATTENDANCE, rows["attendance"]),
        "tier": _labels(TIERS, rows["tier"]),
        "referral_source": _labels(REFERRAL_SOURCES, rows["referral_source"]),
        "contact_mode": _labels(CONTACT_MODES, rows["contact_mode"]),
        "subject": _labels(SUBJECTS, rows["subject"]),
        # blank is baby 1 (contract v1.1): only a second baby's contacts carry a number
        "infant_number": pa.array(rows["infant_number"].astype(np.int16),
                                  mask=rows["infant_number"] <= 1),
    }, schema=ACTIVITY_SCHEMA)


def _measures_table(rows: dict, pregnancy_ids: pa.Array, first: int) -> pa.Table:
    return pa.table({
        "measure_id": _ids("S", np.arange(first + 1, first + 1 + len(rows["row"])), 9),
        "pregnancy_id": pc.take(pregnancy_ids, pa.array(rows["row"])),
        "instrument": _labels(INSTRUMENTS, rows["instrument"]),
        "score": pa.array(rows["score"].astype(np.int16)),
        "measure_date": _dates(rows["day"]),
        "timepoint": _labels(TIMEPOINTS, rows["timepoint"]),
        "service": _labels(SERVICES, rows["service"]),
    }, schema=MEASURES_SCHEMA)


class _Extract:
    """One extract file written in pieces: CSV (ISO dates, true/false) or Parquet by suffix."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path, self.schema = path, schema
        self.pending: list[pa.Table] = []
        self.pending_rows = 0

    def __enter__(self) -> "_Extract":
        if self.path.suffix == ".parquet":
            self.writer = pq.ParquetWriter(self.path, self.schema)
        else:
            # Our values never hold a comma or quote, so nothing needs quoting (pyarrow
            # would quote the header, so we write it ourselves).
            self.sink = pa.OSFile(str(self.path), "wb")
            self.sink.write((",".join(self.schema.names) + "\n").encode())
            self.writer = pa_csv.CSVWriter(self.sink, self.schema, write_options=pa_csv.WriteOptions(
                include_header=False, quoting_style="none"))
        return self

    def write(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.pending_rows += len(table)
        if self.pending_rows >= ROWS_PER_WRITE:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending))
        self.pending, self.pending_rows = [], 0

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self._flush()
        finally:
            self.writer.close()
            if getattr(self, "sink", None) is not None:
                self.sink.close()


def _reporter(progress: bool):
    if not progress:
        return lambda message: None
    from rich.console import Console

    console = Console(stderr=True)
    started = time.perf_counter()
    return lambda message: console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim] {message}")
