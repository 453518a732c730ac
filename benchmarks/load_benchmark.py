"""How fast `pathway load` takes a large activity extract, against DuckDB's own read_csv.

Generates reproducible (numpy, fixed seed) contract-valid cohort and activity CSVs in a
temporary folder, then times, each in a fresh child process so peak memory is its own:
  1. duckdb: CREATE TABLE AS SELECT * FROM read_csv(file)   (the floor: parse and store)
  2. the pathway loader on the activity file (after loading the matching cohort): validating
     and storing it in one transaction, then bringing the journey tables up to date as every
     load batch ends (pathway.journey.refresh_after_load: only the pregnancies the load
     touched, or all of them when it touched most; the table says which)
  3. the floors under any loader, on the warehouse step 2 built: the inspection pass the
     contract needs, storing the activity rows again, storing the journey tables again
  4. the same extract sent again, as a cumulative monthly extract is: every row once more,
     one in a hundred with its attendance changed and one in a hundred more new (copies under
     new ids), loaded into the warehouse of step 2 with the journey brought up to date
  5. the loader on the same file with one quoted line break in its first row: DuckDB's
     parallel reader cannot count physical lines across those, so the whole file is streamed
     through Python's csv module in batches (contract 7.2)
and prints rows/s and peak RSS (os.wait4's ru_maxrss of the child).

With --national DB (a warehouse built by `pathway demo --scale national`; copied, never
written), the activity rows belong to that warehouse's pregnancies and load into a copy of it,
as a later extract would; a full journey rebuild of the same copy is timed beside it, and
the line-break run is left out.

    python benchmarks/load_benchmark.py              # 1M rows
    python benchmarks/load_benchmark.py 1000000 10000000
    python benchmarks/load_benchmark.py 1000 10000000 --national /path/national.duckdb
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

REPO = Path(__file__).resolve().parent.parent
EVENTS_PER_PREGNANCY = 20   # domain.md: about 20 events per birth at national scale
SEED = 2024

SERVICES = np.array(["maternity", "health_visiting", "gp", "family_hub", "talking_therapies",
                     "perinatal_mh", "maternal_mh", "parent_infant", "voluntary"])
TYPES = np.array(["screening", "referral", "assessment", "contact", "intervention", "discharge"])
ATTENDANCE = np.array(["attended", "attended", "attended", "dna", "cancelled", ""])
CONTACTS = np.array(["", "", "", "booking", "new_birth_visit", "six_eight_week_review"])


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, numbers.astype(str)))


def write_extracts(folder: Path, activity_rows: int) -> tuple[Path, Path, Path]:
    """areas, cohort and activity CSVs; the same files for the same size, every time."""
    rng = np.random.default_rng(SEED)
    pregnancies = max(activity_rows // EVENTS_PER_PREGNANCY, 1)
    areas = folder / "areas.csv"
    areas.write_text("area_code,area_name\nE06000001,Hartlepool\nE06000002,Middlesbrough\n")

    edd = np.datetime64("2023-01-01") + rng.integers(0, 730, pregnancies).astype("timedelta64[D]")
    ids = np.char.add("PR", np.arange(pregnancies).astype(str))
    cohort = pa.table({
        "pregnancy_id": pa.array(ids),
        "person_id": _ids("MU", np.arange(pregnancies)),
        "area_code": pa.array(np.where(rng.random(pregnancies) < 0.5, "E06000001", "E06000002")),
        "edd": pa.array(edd.astype(str)),
        "birth_date": pa.array((edd - rng.integers(0, 14, pregnancies).astype("timedelta64[D]")).astype(str)),
        "parent_age": pa.array(rng.integers(16, 45, pregnancies)),
        "imd_decile": pa.array(rng.integers(1, 11, pregnancies)),
        "rf_domestic_abuse": pa.array(np.where(rng.random(pregnancies) < 0.1, "yes", "no")),
    })
    cohort_path = folder / f"cohort_{pregnancies}.csv"
    pa_csv.write_csv(cohort, cohort_path)
    activity_path = folder / f"activity_{activity_rows}.csv"
    write_activity(activity_path, activity_rows, ids, edd, rng, id_prefix="AC")
    return areas, cohort_path, activity_path


def write_activity(path: Path, rows: int, pregnancy_ids: np.ndarray, edd: np.ndarray,
                   rng: np.random.Generator, *, id_prefix: str) -> None:
    """rows activity rows for pregnancies drawn at random from pregnancy_ids (EDDs edd)."""
    owner = rng.integers(0, len(pregnancy_ids), rows)
    offset = rng.integers(-300, 365, rows).astype("timedelta64[D]")
    # nothing after yesterday: a later date is quarantined as one in the future
    yesterday = np.datetime64("today", "D") - np.timedelta64(1, "D")
    activity = pa.table({
        "activity_id": _ids(id_prefix, np.arange(rows)),
        "pregnancy_id": pa.array(pregnancy_ids[owner]),
        "service": pa.array(SERVICES[rng.integers(0, len(SERVICES), rows)]),
        "activity_type": pa.array(TYPES[rng.integers(0, len(TYPES), rows)]),
        "activity_date": pa.array(np.minimum(edd[owner] + offset, yesterday).astype(str)),
        "contact_code": pa.array(CONTACTS[rng.integers(0, len(CONTACTS), rows)]),
        "attendance": pa.array(ATTENDANCE[rng.integers(0, len(ATTENDANCE), rows)]),
        "provider_code": pa.array(np.where(rng.random(rows) < 0.5, "RX1", "RY2")),
    })
    pa_csv.write_csv(activity, path, pa_csv.WriteOptions(quoting_style="needed"))


def write_national_activity(folder: Path, national: Path, rows: int) -> Path:
    """Activity rows for the national warehouse's pregnancies, ids it does not hold yet,
    dated from each pregnancy's EDD (its birth date where it has none) as write_extracts does."""
    import duckdb

    with duckdb.connect(str(national), read_only=True) as duck:
        cohort = duck.execute("select pregnancy_id, coalesce(edd, birth_date) as due from cohort "
                              "where coalesce(edd, birth_date) is not null "
                              "order by pregnancy_id").fetchnumpy()
    rng = np.random.default_rng(SEED)
    path = folder / f"activity_national_{rows}.csv"
    write_activity(path, rows, np.asarray(cohort["pregnancy_id"], dtype=str),
                   np.asarray(cohort["due"]).astype("datetime64[D]"), rng, id_prefix="BENCH")
    return path


def write_sent_again(activity: Path) -> Path:
    """The activity file once more: row i (from 0) has its attendance changed where i % 100 == 7
    (attended <-> dna; a blank, which loads as attended, becomes attended: no change), and a
    copy of row i under a new id (AGAIN + its id) is added where i % 100 == 3."""
    with open(activity, newline="") as handle:
        names = next(csv.reader(handle))
    table = pa_csv.read_csv(activity, convert_options=pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in names}, strings_can_be_null=False))
    position = np.arange(table.num_rows)
    attendance = np.asarray(table.column("attendance").to_numpy(zero_copy_only=False), dtype=str)
    changed = np.where(attendance == "attended", "dna", "attended")
    attendance = np.where(position % 100 == 7, changed, attendance)
    table = table.set_column(table.schema.get_field_index("attendance"), "attendance",
                             pa.array(attendance))
    copies = table.filter(pa.array(position % 100 == 3))
    copies = copies.set_column(0, "activity_id", pa.array(np.char.add(
        "AGAIN", np.asarray(copies.column("activity_id").to_numpy(zero_copy_only=False), dtype=str))))
    target = activity.with_name(activity.stem + "_again.csv")
    pa_csv.write_csv(pa.concat_tables([table, copies]), target,
                     pa_csv.WriteOptions(quoting_style="needed"))
    return target


def with_quoted_line_break(activity: Path) -> Path:
    """A copy of the file whose first row's last field holds a quoted line break."""
    target = activity.with_name(activity.stem + "_multiline.csv")
    with open(activity, "rb") as source, open(target, "wb") as out:
        out.write(source.readline())
        first = source.readline().rstrip(b"\r\n")
        head, _, last = first.rpartition(b",")
        out.write(head + b',"' + last.strip(b'"') + b'\nsecond line"\n')
        shutil.copyfileobj(source, out, 8 << 20)
    return target


def run_child(argv: list[str]) -> tuple[float, float, str]:
    """Seconds and peak RSS (MiB) of one child process; its output for errors."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env={**os.environ, "COLUMNS": "200"})
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[:4])}... failed:\n{output}")
    return seconds, usage.ru_maxrss / 1024, output   # Linux reports ru_maxrss in KiB


# The loader's two phases, timed inside one child: validate and store the file (one
# transaction), then bring the journey up to date as a load batch ends.
LOADER_CHILD = """
import json, sys, time
from pathway.db import Warehouse
from pathway.ingest import load_file, load_files
from pathway import journey
warehouse = Warehouse(sys.argv[1])
if sys.argv[2] != "-":
    load_files(warehouse, sys.argv[2].split(","))
started = time.perf_counter()
summary = load_file(warehouse, sys.argv[3], refresh_journey=False)
loaded = time.perf_counter()
with warehouse.begin() as conn:
    how = journey.refresh_after_load(conn)
rebuilt = time.perf_counter()
print(json.dumps({"outcome": summary.outcome, "message": summary.message, "how": how,
                  "load": loaded - started, "journey": rebuilt - loaded}))
"""

# A whole rebuild of the same warehouse afterwards, in its own process (as a reference
# replace would run it), for comparison with an incremental one.
FULL_CHILD = """
import sys, time
from pathway.db import Warehouse
from pathway import journey
warehouse = Warehouse(sys.argv[1])
started = time.perf_counter()
with warehouse.begin() as conn:
    journey.refresh(conn)
print(time.perf_counter() - started)
"""

# Stamps a copy of the national warehouse with this version's journey (not timed), so the
# timed load can rebuild only what it touches.
PREPARE_CHILD = """
import sys
from pathway.db import Warehouse
from pathway import journey
warehouse = Warehouse(sys.argv[1])
warehouse.ensure_schema()
with warehouse.begin() as conn:
    journey.refresh(conn)
"""


# What no loader on this machine can go under, measured on the warehouse the load has just built:
# the inspection pass the contract needs (checksum, encoding, quoted line breaks, blank lines),
# storing the loaded activity rows again (a copy of the table), and storing the journey's
# tables again (a copy of each). Copies in a transaction rolled back, so the file is unchanged.
FLOORS_CHILD = """
import json, sys, tempfile, time
from pathlib import Path
import duckdb
from pathway import journey
from pathway.ingest import reading
started = time.perf_counter()
with tempfile.TemporaryDirectory() as work:
    reading.remove_temp_files(reading.inspect_file(Path(sys.argv[2]), "activity.csv", sheet=None,
                                                   workdir=Path(work)))
inspect = time.perf_counter() - started
duck = duckdb.connect(sys.argv[1], config={"memory_limit": "1GB"})
duck.execute("SET enable_progress_bar = false")
duck.execute("BEGIN")
started = time.perf_counter()
duck.execute("CREATE TABLE floor_activity AS SELECT * FROM activity")
activity = time.perf_counter() - started
tables = [t for t in journey.DERIVED_TABLES if duck.execute(
    "SELECT count(*) FROM duckdb_tables() WHERE table_name = $t", {"t": t}).fetchone()[0]]
rows = sum(duck.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
started = time.perf_counter()
for table in tables:
    duck.execute(f"CREATE TABLE floor_{table} AS SELECT * FROM {table}")
derived = time.perf_counter() - started
duck.execute("ROLLBACK")
print(json.dumps({"inspect": inspect, "activity": activity, "derived": derived, "derived_rows": rows}))
"""


def floors(db: Path, activity: Path) -> dict:
    _, _, output = run_child([sys.executable, "-c", FLOORS_CHILD, str(db), str(activity)])
    return json.loads(output.strip().splitlines()[-1])


def floor_rows(activity_rows: int, plain_seconds: float, measured: dict) -> list[tuple]:
    """The floors as table rows (no RSS: they run in one child after the load)."""
    inspect, store, derived = measured["inspect"], measured["activity"], measured["derived"]
    both = inspect + store + derived
    return [(activity_rows, "floor: inspect pass", inspect, None, inspect / plain_seconds),
            (activity_rows, "floor: store activity", store, None, store / plain_seconds),
            (activity_rows, f"floor: store journey ({measured['derived_rows'] / 1e6:.1f}M)", derived,
             None, derived / plain_seconds),
            (activity_rows, "floor: the three together", both, None, both / plain_seconds)]


def read_csv_seconds(folder: Path, activity: Path, rows: int) -> tuple[float, float]:
    """DuckDB's bare read_csv of the file into a table: seconds and peak RSS (MiB)."""
    plain_db = folder / f"plain_{rows}.duckdb"
    plain = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1], config={'memory_limit': '1GB'}); "
             "c.execute('SET enable_progress_bar = false'); t = time.perf_counter(); "
             "c.execute('CREATE TABLE activity AS SELECT * FROM read_csv($p)', {'p': sys.argv[2]}); "
             "print(time.perf_counter() - t)")
    _, plain_rss, output = run_child([sys.executable, "-c", plain, str(plain_db), str(activity)])
    plain_db.unlink()
    return float(output.strip().splitlines()[-1]), plain_rss


def run_loader(db: Path, first: list[Path], activity: Path, full: bool) -> tuple[dict, float]:
    _, rss, output = run_child([sys.executable, "-c", LOADER_CHILD, f"duckdb:///{db}",
                                ",".join(map(str, first)) or "-", str(activity)])
    timings = json.loads(output.strip().splitlines()[-1])
    if timings["outcome"] != "loaded":
        raise SystemExit(timings["message"])
    timings["full"] = timings["full_rss"] = None
    if full and not timings["how"].startswith("full"):
        _, timings["full_rss"], output = run_child([sys.executable, "-c", FULL_CHILD,
                                                    f"duckdb:///{db}"])
        timings["full"] = float(output.strip().splitlines()[-1])
    return timings, rss


def rows_for(activity_rows: int, plain: tuple[float, float], timings: dict, rss: float) -> list[tuple]:
    plain_seconds, plain_rss = plain
    load, both = timings["load"], timings["load"] + timings["journey"]
    out = [(activity_rows, "duckdb read_csv", plain_seconds, plain_rss, 1.0),
           (activity_rows, "pathway load", load, rss, load / plain_seconds),
           (activity_rows, f"+ journey ({timings['how']})", both, rss, both / plain_seconds)]
    if timings["full"] is not None:
        out.append((activity_rows, "full rebuild alone", timings["full"], timings["full_rss"],
                    timings["full"] / plain_seconds))
    return out


def benchmark(activity_rows: int, folder: Path) -> list[tuple]:
    areas, cohort, activity = written("extracts", folder, activity_rows)
    plain = read_csv_seconds(folder, activity, activity_rows)
    db = folder / f"pathway_{activity_rows}.duckdb"
    timings, rss = run_loader(db, [areas, cohort], activity, full=False)
    measured = floors(db, activity)
    again, = written("again", folder, activity_rows, activity)
    resent, resent_rss = run_loader(db, [], again, full=False)
    db.unlink()
    again.unlink()
    multiline, multiline_rss = run_loader(folder / f"pathway_multiline_{activity_rows}.duckdb",
                                          [areas, cohort], with_quoted_line_break(activity),
                                          full=False)
    resent_both = resent["load"] + resent["journey"]
    return rows_for(activity_rows, plain, timings, rss) + floor_rows(activity_rows, plain[0], measured) + [
        (activity_rows, "sent again: load", resent["load"], resent_rss, resent["load"] / plain[0]),
        (activity_rows, f"sent again: + journey ({resent['how']})", resent_both, resent_rss,
         resent_both / plain[0]),
        (activity_rows, "load, line breaks", multiline["load"], multiline_rss,
         multiline["load"] / plain[0])]


def benchmark_national(activity_rows: int, folder: Path, prepared: Path) -> list[tuple]:
    activity, = written("national", folder, activity_rows, prepared)
    plain = read_csv_seconds(folder, activity, activity_rows)
    db = folder / "national_copy.duckdb"
    shutil.copyfile(prepared, db)
    try:
        timings, rss = run_loader(db, [], activity, full=True)
    finally:
        db.unlink()
        activity.unlink()
    return rows_for(activity_rows, plain, timings, rss)


def prepare_national(national: Path, folder: Path) -> Path:
    prepared = folder / "national_prepared.duckdb"
    shutil.copyfile(national, prepared)
    run_child([sys.executable, "-c", PREPARE_CHILD, f"duckdb:///{prepared}"])
    return prepared


def written(kind: str, folder: Path, rows: int, source: Path | None = None) -> list[Path]:
    """The extract files, written by a child process. A child forked from this process starts
    with its pages, and its peak RSS (which survives exec on Linux) would count them: the
    generator's arrays kept this process at about 2 GB for 10M rows, so every step reported
    that peak."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--write", kind, str(folder), str(rows)]
    _, _, output = run_child(argv + ([str(source)] if source else []))
    return [Path(line) for line in output.strip().splitlines()[-1].split("\t")]


def write_and_print(kind: str, folder: str, rows: str, source: str | None = None) -> None:
    """kind: extracts (areas, cohort, activity), national (activity for a national warehouse,
    source), again (source, an activity file, sent again)."""
    if kind == "extracts":
        paths = write_extracts(Path(folder), int(rows))
    elif kind == "again":
        paths = (write_sent_again(Path(source)),)
    else:
        paths = (write_national_activity(Path(folder), Path(source), int(rows)),)
    print("\t".join(map(str, paths)))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--write"]:
        write_and_print(*argv[1:])
        return
    national = None
    if "--national" in argv:
        at = argv.index("--national")
        national = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    sizes = [int(a) for a in argv] or [1_000_000]
    if national:
        print(f"Loading into a copy of {national} (its journey rebuilt first by this version).")
    print("Seconds exclude process start-up; peak RSS is the whole child process.")
    print(f"{'rows':>11} {'step':<38} {'seconds':>8} {'rows/s':>11} {'peak RSS MiB':>13} {'x read_csv':>10}")
    with tempfile.TemporaryDirectory(prefix="pathway-bench-") as tmp:
        folder = Path(tmp)
        prepared = prepare_national(national, folder) if national else None
        for size in sizes:
            # each size's rows as soon as they are measured: a later size may take long or fail
            for rows, step, seconds, rss, ratio in (benchmark_national(size, folder, prepared)
                                                    if prepared else benchmark(size, folder)):
                memory = "" if rss is None else f"{rss:,.0f}"
                print(f"{rows:>11,} {step:<38} {seconds:>8.1f} {rows / seconds:>11,.0f} "
                      f"{memory:>13} {ratio:>10.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
