"""The example extracts in examples/: a few dozen rows per table, cut from the synthetic demo
(fixed seed) so a new user has something to load, and one deliberately bad row per file so
the load summary and the quarantine have something to show.

    python -m pathway.demo.examples examples/

rewrites them; the same code always writes the same bytes (a test regenerates and compares).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from pathway.demo import write_extracts
from pathway.demo.areas import national_areas

SEED = 2024
AREAS = 24                       # a bad row in 25 stays under the 5% that refuses a file
BIRTHS_PER_AREA = 10             # live births taken from each of the small demo's areas
BIRTHS_FROM, BIRTHS_TO = "2024-04-01", "2025-03-31"
CONTACTS = ("booking", "new_birth_visit")   # each pregnancy's activity: these two contacts
MEASURES_PER_PREGNANCY = 1

# One row per file that breaks one rule of the contract, and the reason the loader gives.
BAD_ROWS = {
    "areas": ({"area_code": "X69999999", "area_name": ""},
              "area_name", "blank, but a value is required"),
    "cohort": ({"pregnancy_id": "P9999001", "person_id": "M9999001", "area_code": "X60000001",
                "booking_date": "2024-06-03", "edd": "2025-01-10", "birth_date": "31/02/2025",
                "outcome": "live_birth"},
               "birth_date", "'31/02/2025' is not a date"),
    "activity": ({"activity_id": "A999999001", "pregnancy_id": "P9999002", "service": "psychology",
                  "activity_type": "assessment", "activity_date": "2024-11-05"},
                 "service", "'psychology' is not a known service"),
    "measures": ({"measure_id": "S999999001", "pregnancy_id": "P9999002", "instrument": "EPDS",
                  "score": "31", "measure_date": "2024-11-05", "timepoint": "baseline"},
                 "score", "'31' is outside the EPDS range 0 to 30"),
}
TABLES = ("areas", "cohort", "activity", "measures")


def example_frames() -> dict[str, pd.DataFrame]:
    """The four example tables as text, bad row last."""
    with tempfile.TemporaryDirectory(prefix="pathway-examples-") as scratch:
        write_extracts(Path(scratch), seed=SEED, scale="small")
        demo = {name: pd.read_csv(Path(scratch) / f"{name}.csv", dtype=str, keep_default_na=False)
                for name in TABLES}

    areas = pd.DataFrame([{column: getattr(area, column) for column in demo["areas"].columns}
                          for area in national_areas()[:AREAS]])

    cohort = demo["cohort"]
    born = cohort[(cohort.outcome == "live_birth") & cohort.birth_date.between(BIRTHS_FROM, BIRTHS_TO)]
    cohort = (born.sort_values(["area_code", "birth_date", "pregnancy_id"])
              .groupby("area_code").head(BIRTHS_PER_AREA))
    chosen = set(cohort.pregnancy_id)

    def first_rows(frame: pd.DataFrame, date: str, key: str, per_pregnancy: int) -> pd.DataFrame:
        mine = frame[frame.pregnancy_id.isin(chosen)].sort_values(["pregnancy_id", date, key])
        return mine.groupby("pregnancy_id").head(per_pregnancy).sort_values(key)

    activity = demo["activity"]
    frames = {"areas": areas, "cohort": cohort,
              "activity": first_rows(activity[activity.contact_code.isin(CONTACTS)], "activity_date",
                                     "activity_id", len(CONTACTS)),
              "measures": first_rows(demo["measures"], "measure_date", "measure_id", MEASURES_PER_PREGNANCY)}
    for name, frame in frames.items():
        row = BAD_ROWS[name][0]
        bad = pd.DataFrame([{column: row.get(column, "") for column in frame.columns}])
        frames[name] = pd.concat([frame, bad], ignore_index=True)
    return frames


def write_examples(out_dir: Path) -> list[Path]:
    """Write areas.csv, cohort.csv, activity.csv and measures.csv into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in example_frames().items():
        path = out_dir / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_examples(Path(sys.argv[1] if len(sys.argv) > 1 else "examples")):
        print(f"{written}: {sum(1 for _ in written.open()) - 1} rows")
