"""How fast every catalogue metric answers on DuckDB, against the same metric in plain pandas.

For each warehouse given (county and national demo scale), times `run_metric` (warm, the
dashboard's path, suppression on) for the largest area and for area=all, N repeats bounded by
a time budget, and the pandas baseline (benchmarks/pandas_baseline.py: raw tables read once
into DataFrames, load time excluded) on the same resolved parameters; prints median and p95
latency and the speed-up. With --check (on by default for the first warehouse, the county
one) it also compares pandas with the unsuppressed SQL answer and prints every disagreement.
Also times the journey rebuild (pathway.journey.refresh) with --refresh.

    python -m pathway.cli demo --scale county --db duckdb:////work/bench/county.duckdb
    python benchmarks/metrics_benchmark.py duckdb:////work/bench/county.duckdb \\
        duckdb:////work/bench/national_work.duckdb
    python benchmarks/metrics_benchmark.py URL --only trend,service_gaps --no-pandas
    python benchmarks/metrics_benchmark.py URL --refresh      # time the journey rebuild too

Targets (issue 3): every metric under 150 ms for one area at national scale, and at least
10x faster than the pandas baseline. Nothing here asserts a time: it prints.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pathway import catalogue, journey  # noqa: E402
from pathway.db import Warehouse  # noqa: E402
from pathway.metrics import resolve_parameters, run_metric, _STEPS  # noqa: E402

TARGET_MS = 150
TARGET_SPEEDUP = 10


@dataclass(frozen=True)
class Case:
    """One metric run to time: the metric and its non-default parameters."""

    metric: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.metric} {extra}".strip()


def cases() -> list[Case]:
    """Every catalogue metric with its defaults, plus the variants that take another path."""
    out = [Case(name) for name in catalogue.METRICS]
    out += [
        Case("service_gaps", {"by": "service"}),
        Case("equity", {"metric": "stage_reach", "stage": "any", "tier": "targeted"}),
        Case("equity", {"metric": "mandated_contacts.new_birth_visit"}),
        Case("trend", {"metric": "specialist_access"}),
        Case("trend", {"metric": "mood_screening"}),
        Case("trend", {"metric": "waiting_times", "service": "perinatal_mh"}),
    ]
    return out


def takes_area(metric: str) -> bool:
    return catalogue.METRICS[metric].parameter("area") is not None


def largest_area(warehouse: Warehouse) -> str:
    """The area with the most live births: the slowest single area to answer."""
    found = warehouse.query("select area_code, count(*) as births from cohort "
                            "where outcome = 'live_birth' group by area_code "
                            "order by births desc, area_code limit 1")
    return str(found.iloc[0]["area_code"])


def time_calls(call: Callable[[], Any], repeats: int, budget_s: float, *, warm: bool = True,
               at_least: int = 3) -> list[float]:
    """Milliseconds of each of up to `repeats` calls (after one warm-up call unless warm=False),
    stopping once the budget is spent and at least `at_least` have run."""
    if warm:
        call()  # caches, file pages, the journey check
    times: list[float] = []
    spent_from = time.perf_counter()
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() - spent_from > budget_s and len(times) >= at_least:
            break
    return times


def p95(times: list[float]) -> float:
    return float(np.percentile(times, 95)) if times else float("nan")


def resolved_binds(warehouse: Warehouse, case: Case, area: str) -> dict[str, Any]:
    """The SQL binds run_metric works out for this case (so pandas answers the same question)."""
    metric = catalogue.METRICS[case.metric]
    params = {**case.params, **({"area": area} if takes_area(case.metric) else {})}
    steps = _STEPS.get(case.metric)
    with warehouse.connect() as conn:
        binds = resolve_parameters(warehouse, metric, params, conn=conn)
        if steps and steps.prepare:
            steps.prepare(warehouse, binds, params, conn)
    return binds


# ---- the cross-check --------------------------------------------------------------------
def compare(case: Case, sql: pd.DataFrame, pandas_frame: pd.DataFrame) -> list[str]:
    """Disagreements between the unsuppressed SQL answer and pandas on the columns pandas gives."""
    metric = catalogue.METRICS[case.metric]
    keys = [k for k in metric.keys if k in pandas_frame.columns and k in sql.columns]
    values = [c for c in pandas_frame.columns if c not in keys and c in sql.columns]
    left = sql[keys + values].copy()
    right = pandas_frame[keys + values].copy()
    for frame in (left, right):
        for key in keys:
            frame[key] = frame[key].astype(str)
    merged = left.merge(right, on=keys, how="outer", suffixes=("_sql", "_pandas"), indicator=True)
    problems = []
    only = merged[merged["_merge"] != "both"]
    for _, row in only.head(5).iterrows():
        where = "SQL" if row["_merge"] == "left_only" else "pandas"
        problems.append(f"{case.label}: row {dict(row[keys])} only in {where}")
    both = merged[merged["_merge"] == "both"]
    for column in values:
        a, b = both[f"{column}_sql"], both[f"{column}_pandas"]
        numeric_a, numeric_b = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        if numeric_a.notna().any() or numeric_b.notna().any():
            same = np.isclose(numeric_a.astype(float), numeric_b.astype(float), rtol=1e-9,
                              atol=1e-9, equal_nan=True)
        else:
            same = ((a.isna() & b.isna()) | (a.astype(str) == b.astype(str))).to_numpy()
        for _, row in both[~same].head(3).iterrows():
            problems.append(f"{case.label}: {dict(row[keys])} {column}: SQL {row[f'{column}_sql']!r}"
                            f" pandas {row[f'{column}_pandas']!r}")
        if (~same).sum() > 3:
            problems.append(f"{case.label}: {column}: {(~same).sum()} rows disagree in all")
    return problems


# ---- one warehouse ----------------------------------------------------------------------
@dataclass
class Row:
    scale: str
    case: str
    scope: str
    sql_median: float
    sql_p95: float
    pandas_median: float = float("nan")

    @property
    def speedup(self) -> float:
        return self.pandas_median / self.sql_median if self.sql_median else float("nan")


def benchmark(url: str, *, repeats: int, budget_s: float, only: set[str] | None,
              with_pandas: bool, check: bool, refresh: bool) -> tuple[list[Row], list[str]]:
    warehouse = Warehouse(url)
    warehouse.ensure_schema()
    scale = Path(warehouse.url.database or url).stem
    if refresh:
        seconds = time_refresh(warehouse)
        print(f"{scale}: journey refresh {seconds:.1f} s", flush=True)
    area = largest_area(warehouse)
    baseline = None
    if with_pandas:
        import pandas_baseline

        started = time.perf_counter()
        baseline = pandas_baseline.RawTables.read(warehouse)
        print(f"{scale}: pandas read the raw tables in {time.perf_counter() - started:.1f} s "
              "(not counted)", flush=True)
    rows: list[Row] = []
    problems: list[str] = []
    for case in cases():
        if only and case.metric not in only:
            continue
        scopes = [area, "all"] if takes_area(case.metric) else ["all"]
        for scope in scopes:
            params = {**case.params, **({"area": scope} if takes_area(case.metric) else {})}
            sql_times = time_calls(lambda: run_metric(warehouse, case.metric, params),
                                   repeats, budget_s)
            row = Row(scale, case.label, "one area" if scope != "all" else "all",
                      statistics.median(sql_times), p95(sql_times))
            if baseline is not None:
                binds = resolved_binds(warehouse, case, scope)
                compute = pandas_baseline.METRICS[case.metric]
                # pandas has no cache to warm; a slow case runs once
                pandas_times = time_calls(lambda: compute(baseline, binds), max(3, repeats // 3),
                                          budget_s, warm=False, at_least=1)
                row.pandas_median = statistics.median(pandas_times)
                if check and scope == "all":
                    sql = run_metric(warehouse, case.metric, params, suppress=False)
                    problems += compare(case, sql, compute(baseline, binds))
            rows.append(row)
            print(format_row(row), flush=True)
    warehouse.dispose()
    return rows, problems


def time_refresh(warehouse: Warehouse) -> float:
    """Seconds to rebuild the journey tables once, in one transaction (as after a load batch)."""
    started = time.perf_counter()
    with warehouse.begin() as conn:
        journey.refresh(conn)
    return time.perf_counter() - started


HEADER = (f"{'scale':<16} {'metric':<52} {'scope':<9} {'SQL ms':>8} {'p95':>8} "
          f"{'pandas ms':>10} {'speed-up':>9}  targets")


def format_row(row: Row) -> str:
    marks = []
    if row.scope == "one area" and row.scale.startswith("national"):
        marks.append("ok" if row.sql_median < TARGET_MS else f">{TARGET_MS}ms")
    if not np.isnan(row.pandas_median):
        marks.append("ok" if row.speedup >= TARGET_SPEEDUP else f"<{TARGET_SPEEDUP}x")
    pandas_ms = "" if np.isnan(row.pandas_median) else f"{row.pandas_median:,.0f}"
    speedup = "" if np.isnan(row.pandas_median) else f"{row.speedup:,.1f}x"
    return (f"{row.scale:<16} {row.case:<52.52} {row.scope:<9} {row.sql_median:>8,.1f} "
            f"{row.sql_p95:>8,.1f} {pandas_ms:>10} {speedup:>9}  {' '.join(marks)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", help="warehouse URLs, e.g. duckdb:////work/bench/county.duckdb")
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per case (default 9)")
    parser.add_argument("--budget", type=float, default=4.0,
                        help="seconds a case may spend before it stops repeating (default 4)")
    parser.add_argument("--only", help="comma-separated metric names")
    parser.add_argument("--no-pandas", action="store_true", help="time the SQL only")
    parser.add_argument("--check-all", action="store_true",
                        help="cross-check pandas and SQL on every warehouse, not just the first")
    parser.add_argument("--refresh", action="store_true", help="time the journey rebuild first")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    print(HEADER, flush=True)
    all_rows, all_problems = [], []
    for position, url in enumerate(args.urls):
        rows, problems = benchmark(url, repeats=args.repeats, budget_s=args.budget, only=only,
                                   with_pandas=not args.no_pandas,
                                   check=position == 0 or args.check_all, refresh=args.refresh)
        all_rows += rows
        all_problems += problems
    if not args.no_pandas:
        print("\npandas and SQL (unsuppressed, area=all):",
              "agree" if not all_problems else f"{len(all_problems)} disagreement(s)")
        for problem in all_problems:
            print("  " + problem)
    return 1 if all_problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
