"""Seconds per area report at county scale (10 areas, about 45,000 pregnancies), HTML and PDF.

Builds the county demo into a temporary DuckDB file (not timed), then times:
  1. the first area's HTML report on its own (a cold report: the all-areas medians run too);
  2. the monthly pack in HTML (every area, sharing one context), seconds per area;
  3. one area's PDF (HTML plus headless Chromium printing), and the first three areas' PDFs.
Targets (issue 5): under 5 s per HTML report, under 15 s per PDF.

    python benchmarks/report_benchmark.py            # county scale
    python benchmarks/report_benchmark.py small      # a quick check
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pathway.db import Warehouse  # noqa: E402
from pathway.demo import build_demo  # noqa: E402
from pathway.report import ReportContext, build_pack, build_report  # noqa: E402
from pathway.report.pack import pack_areas  # noqa: E402


def main(scale: str = "county") -> None:
    with tempfile.TemporaryDirectory(prefix="pathway-report-bench-") as scratch:
        folder = Path(scratch)
        warehouse = Warehouse(f"duckdb:///{folder / 'w.duckdb'}")
        warehouse.ensure_schema()
        started = time.perf_counter()
        build_demo(warehouse, scale=scale)
        areas = pack_areas(warehouse)
        print(f"{scale} demo: {len(areas)} areas built in {time.perf_counter() - started:.1f} s (not timed)")

        first = areas[0][0]
        started = time.perf_counter()
        html = build_report(warehouse, first)
        print(f"HTML, one area from cold ({first}): {time.perf_counter() - started:.2f} s, {len(html):,} bytes")

        started = time.perf_counter()
        result = build_pack(warehouse, folder / "pack", fmt="html")
        seconds = time.perf_counter() - started
        print(f"HTML pack: {len(result.written)} areas in {seconds:.1f} s = "
              f"{seconds / max(len(result.written), 1):.2f} s per area (target < 5 s)")

        context = ReportContext.open(warehouse)
        started = time.perf_counter()
        pdf = build_report(warehouse, first, fmt="pdf", context=context)
        print(f"PDF, one area ({first}): {time.perf_counter() - started:.2f} s, {len(pdf):,} bytes "
              "(target < 15 s)")
        started = time.perf_counter()
        for code, _ in areas[:3]:
            build_report(warehouse, code, fmt="pdf", context=context)
        print(f"PDF, three areas: {(time.perf_counter() - started) / 3:.2f} s per area")
        warehouse.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:])
