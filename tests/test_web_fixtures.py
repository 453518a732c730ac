"""The small warehouse the dashboard tests read: two areas in one ICB, loaded through the real loader.

Numbers are chosen so disclosure control leaves them as they are (every count is 0 or a multiple
of 5 from 10 up), which lets the tests assert them by hand:

- Northtown (E06000901): 20 live births in 2024, 10 of them seen by health visiting on day 10
  (a new birth visit, universal, postnatal stage); 10 assessed by the perinatal mental health team
  in pregnancy (specialist, antenatal stage).
- Southvale (E06000902): 10 live births in 2024, all 10 seen by health visiting on day 10, and 5 of
  them seen by their GP on day 100 (universal, infant stage): 5 is below 8, so it is shown as '*'.
- Both are in North ICB (QX1). One late contact (2025-12-31, outside every stage) sets the data
  cut-off (as_at), so every 2024 birth has a complete year of follow-up.

Stage reach, universal, postnatal: Northtown 10/20 = 50%, Southvale 10/10 = 100%,
both areas pooled 20/30 = 66.7%. Specialist access: Northtown 10/20 = 50%, Southvale 0/10 = 0%.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pathway.db import Warehouse

NORTHTOWN, SOUTHVALE, ICB = "E06000901", "E06000902", "QX1"
PERIOD = {"from": "2024-01-01", "to": "2024-12-31"}


def write_fixture_files(folder: Path, codes: tuple[str, str] = (NORTHTOWN, SOUTHVALE)) -> list[Path]:
    """The extracts; `codes` renames the two areas (real ONS codes for the boundary-file map test)."""
    northtown, southvale = codes
    folder.mkdir(parents=True, exist_ok=True)
    areas = folder / "areas.csv"
    areas.write_text("area_code,area_name,icb_code,icb_name\n"
                     f"{northtown},Northtown,{ICB},North ICB\n{southvale},Southvale,{ICB},North ICB\n")
    cohort_rows, activity_rows = [], []
    births = [(northtown, i) for i in range(20)] + [(southvale, i) for i in range(10)]
    for number, (area, i) in enumerate(births):
        birth = dt.date(2024, 3, 1) + dt.timedelta(days=i)
        edd = birth
        pregnancy = f"P{number:03d}"
        cohort_rows.append(f"{pregnancy},M{number:03d},{area},{edd - dt.timedelta(days=200)},{edd},{birth},"
                           "live_birth,30,White,5")
        seen = area == southvale or i < 10
        if seen:
            activity_rows.append(f"A{number:03d}v,{pregnancy},health_visiting,contact,"
                                 f"{birth + dt.timedelta(days=10)},new_birth_visit,attended")
        if area == southvale and i < 5:
            activity_rows.append(f"A{number:03d}g,{pregnancy},gp,contact,"
                                 f"{birth + dt.timedelta(days=100)},,attended")
        if area == northtown and i < 10:
            activity_rows.append(f"A{number:03d}s,{pregnancy},perinatal_mh,assessment,"
                                 f"{birth - dt.timedelta(days=60)},,attended")
    # The data cut-off: a contact long after every stage has ended.
    activity_rows.append("A999,P000,health_visiting,contact,2025-12-31,,attended")
    cohort = folder / "cohort.csv"
    cohort.write_text("pregnancy_id,person_id,area_code,booking_date,edd,birth_date,outcome,parent_age,"
                      "ethnic_group,imd_decile\n" + "\n".join(cohort_rows) + "\n")
    activity = folder / "activity.csv"
    activity.write_text("activity_id,pregnancy_id,service,activity_type,activity_date,contact_code,attendance\n"
                        + "\n".join(activity_rows) + "\n")
    return [areas, cohort, activity]


def build_fixture_warehouse(folder: Path, codes: tuple[str, str] = (NORTHTOWN, SOUTHVALE),
                            boundaries: Path | None = None) -> Warehouse:
    from pathway.ingest import load_file
    from pathway.settings import load_settings

    settings = load_settings().with_overrides(boundaries_path=boundaries)
    warehouse = Warehouse(f"duckdb:///{folder / 'w.duckdb'}", settings=settings)
    warehouse.ensure_schema()
    for path in write_fixture_files(folder / "extracts", codes):
        summary = load_file(warehouse, path)
        assert summary.outcome == "loaded", summary.describe()
    return warehouse


@pytest.fixture
def fixture_warehouse(tmp_path):
    warehouse = build_fixture_warehouse(tmp_path)
    yield warehouse
    warehouse.dispose()


def test_fixture_loads_every_file_and_logs_three_loads(fixture_warehouse):
    log = fixture_warehouse.query("select file_name, rows_loaded from load_log order by load_id")
    # 2 areas; 30 pregnancies; 10 + 10 health visiting contacts, 10 assessments, 5 GP contacts and
    # 1 late contact = 36
    assert list(log["file_name"]) == ["areas.csv", "cohort.csv", "activity.csv"]
    assert list(log["rows_loaded"]) == [2, 30, 36]
