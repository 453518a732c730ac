"""The dashboard fixture (test_web_fixtures) with hostile names: area, ICB and service names and
a loaded file name that try to end an HTML element, a style sheet or an attribute and run script.

Every output that shows these names must show them as text and run nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pathway.db import Warehouse
from test_web_fixtures import ICB, NORTHTOWN, SOUTHVALE, write_fixture_files

STYLE_BREAKOUT = "</style><script>alert(1)</script>"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror=alert(2)>'
SVG_ONLOAD = "<svg onload=alert(3)>"
SERVICE_LABEL = "Health visiting <script>alert(4)</script>"
FILE_NAME = "cohort<img src=x onerror=alert(5)>.csv"
HOSTILE_NAMES = {NORTHTOWN: f"Northtown {STYLE_BREAKOUT}", SOUTHVALE: f"Southvale {ATTRIBUTE_BREAKOUT}"}
HOSTILE_ICB = f"North ICB {SVG_ONLOAD}"


def build_hostile_warehouse(folder: Path) -> Warehouse:
    from pathway.ingest import load_file
    from pathway.reference import replace
    from pathway.resources import reference_dir

    areas, cohort, activity = write_fixture_files(folder / "extracts")
    with areas.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area_code", "area_name", "icb_code", "icb_name"])
        for code, name in HOSTILE_NAMES.items():
            writer.writerow([code, name, ICB, HOSTILE_ICB])
    services = folder / "services.csv"
    with (reference_dir() / "services.csv").open(encoding="utf-8") as source, \
            services.open("w", newline="", encoding="utf-8") as target:
        rows = list(csv.DictReader(source))
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            if row["service"] == "health_visiting":
                row["label"] = SERVICE_LABEL
            writer.writerow(row)
    warehouse = Warehouse(f"duckdb:///{folder / 'hostile.duckdb'}")
    warehouse.ensure_schema()
    with warehouse.begin() as conn:
        replace(conn, "services", services)
    for path, table, shown in ((areas, "areas", None), (cohort, "cohort", FILE_NAME), (activity, "activity", None)):
        summary = load_file(warehouse, path, table=table, display_name=shown)
        assert summary.outcome == "loaded", summary.describe()
    return warehouse
