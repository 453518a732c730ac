"""How fast `pathway load` takes a large activity extract, against DuckDB's own read_csv.

Generates reproducible (numpy, fixed seed) contract-valid cohort and activity CSVs in a
temporary folder, then times, each in a fresh child process so peak memory is its own:
  1. duckdb: CREATE TABLE AS SELECT * FROM read_csv(file)   (the floor: parse and store)
  2. the pathway loader on the activity file (after loading the matching cohort): validating
     and storing it in one transaction, then rebuilding the journey tables that every load
     batch ends with
  3. the loader on the same file with one quoted line break in its first row: DuckDB's
     parallel reader cannot count physical lines across those, so the whole file is streamed
     through Python's csv module in batches (contract 7.2)
and prints rows/s and peak RSS (os.wait4's ru_maxrss of the child).

    python benchmarks/load_benchmark.py              # 1M rows
    python benchmarks/load_benchmark.py 1000000 10000000
"""

from __future__ import annotations

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
    cohort = pa.table({
        "pregnancy_id": _ids("PR", np.arange(pregnancies)),
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

    owner = rng.integers(0, pregnancies, activity_rows)
    offset = rng.integers(-300, 365, activity_rows).astype("timedelta64[D]")
    activity = pa.table({
        "activity_id": _ids("AC", np.arange(activity_rows)),
        "pregnancy_id": _ids("PR", owner),
        "service": pa.array(SERVICES[rng.integers(0, len(SERVICES), activity_rows)]),
        "activity_type": pa.array(TYPES[rng.integers(0, len(TYPES), activity_rows)]),
        "activity_date": pa.array((edd[owner] + offset).astype(str)),
        "contact_code": pa.array(CONTACTS[rng.integers(0, len(CONTACTS), activity_rows)]),
        "attendance": pa.array(ATTENDANCE[rng.integers(0, len(ATTENDANCE), activity_rows)]),
        "provider_code": pa.array(np.where(rng.random(activity_rows) < 0.5, "RX1", "RY2")),
    })
    activity_path = folder / f"activity_{activity_rows}.csv"
    pa_csv.write_csv(activity, activity_path, pa_csv.WriteOptions(quoting_style="needed"))
    return areas, cohort_path, activity_path


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
# transaction), then rebuild the derived journey tables (once per load batch).
LOADER_CHILD = """
import json, sys, time
from pathway.db import Warehouse
from pathway.ingest import load_file, load_files
from pathway import journey
warehouse = Warehouse(sys.argv[1])
load_files(warehouse, sys.argv[2:4])
started = time.perf_counter()
summary = load_file(warehouse, sys.argv[4], refresh_journey=False)
loaded = time.perf_counter()
with warehouse.begin() as conn:
    journey.refresh(conn)
rebuilt = time.perf_counter()
print(json.dumps({"outcome": summary.outcome, "message": summary.message,
                  "load": loaded - started, "journey": rebuilt - loaded}))
"""


def benchmark(activity_rows: int, folder: Path) -> list[tuple]:
    areas, cohort, activity = write_extracts(folder, activity_rows)
    plain_db = folder / f"plain_{activity_rows}.duckdb"
    plain = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1], config={'memory_limit': '1GB'}); "
             "c.execute('SET enable_progress_bar = false'); t = time.perf_counter(); "
             "c.execute('CREATE TABLE activity AS SELECT * FROM read_csv($p)', {'p': sys.argv[2]}); "
             "print(time.perf_counter() - t)")
    _, plain_rss, output = run_child([sys.executable, "-c", plain, str(plain_db), str(activity)])
    plain_seconds = float(output.strip().splitlines()[-1])

    db_url = f"duckdb:///{folder / f'pathway_{activity_rows}.duckdb'}"
    _, load_rss, output = run_child([sys.executable, "-c", LOADER_CHILD, db_url,
                                     str(areas), str(cohort), str(activity)])
    timings = json.loads(output.strip().splitlines()[-1])
    if timings["outcome"] != "loaded":
        raise SystemExit(timings["message"])
    load_seconds, journey_seconds = timings["load"], timings["journey"]
    both = load_seconds + journey_seconds

    multiline_url = f"duckdb:///{folder / f'pathway_multiline_{activity_rows}.duckdb'}"
    _, multiline_rss, output = run_child([sys.executable, "-c", LOADER_CHILD, multiline_url,
                                          str(areas), str(cohort), str(with_quoted_line_break(activity))])
    multiline = json.loads(output.strip().splitlines()[-1])
    if multiline["outcome"] != "loaded":
        raise SystemExit(multiline["message"])
    return [(activity_rows, "duckdb read_csv", plain_seconds, plain_rss, 1.0),
            (activity_rows, "pathway load", load_seconds, load_rss, load_seconds / plain_seconds),
            (activity_rows, "+ journey rebuild", both, load_rss, both / plain_seconds),
            (activity_rows, "load, line breaks", multiline["load"], multiline_rss,
             multiline["load"] / plain_seconds)]


def main(sizes: list[int]) -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="pathway-bench-") as tmp:
        for size in sizes:
            results += benchmark(size, Path(tmp))
    print("Seconds exclude process start-up; peak RSS is the whole child process.")
    print(f"{'rows':>11} {'step':<18} {'seconds':>8} {'rows/s':>11} {'peak RSS MiB':>13} {'x read_csv':>10}")
    for rows, step, seconds, rss, ratio in results:
        print(f"{rows:>11,} {step:<18} {seconds:>8.1f} {rows / seconds:>11,.0f} {rss:>13,.0f} {ratio:>10.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000_000])
