"""`pathway load --table areas` reading a small-area lookup (contract section 1, table areas)."""

from __future__ import annotations

import subprocess
import sys

from ingest_fixtures import count, new_warehouse, rows, write_csv
from pathway.ingest import load_file

LOOKUP_HEADER = ["LSOA11CD", "LSOA11NM", "LAD22CD", "LAD22NM", "ICB22CD", "ICB22NM"]
# Authority L1 has three small areas in ICB A and one in ICB B: best fit A, 75%.
# Authority L2 sits wholly in ICB B.
LOOKUP_ROWS = [
    ["S01", "s1", "L1", "Lowtown", "A", "ICB A"],
    ["S02", "s2", "L1", "Lowtown", "A", "ICB A"],
    ["S03", "s3", "L1", "Lowtown", "A", "ICB A"],
    ["S04", "s4", "L1", "Lowtown", "B", "ICB B"],
    ["S05", "s5", "L2", "Highville", "B", "ICB B"],
]


def test_lookup_loaded_as_areas_best_fits_each_authority(tmp_path):
    warehouse = new_warehouse(tmp_path)
    path = write_csv(tmp_path / "lsoa_lookup.csv", LOOKUP_HEADER, LOOKUP_ROWS)
    summary = load_file(warehouse, path, table="areas")
    assert summary.outcome == "loaded", summary.message
    assert summary.rows_loaded == 2
    assert rows(warehouse, "select area_code, area_name, icb_code from areas order by area_code") == [
        ("L1", "Lowtown", "A"), ("L2", "Highville", "B")]
    assert "1 authorities are split across ICBs: L1 Lowtown (to A, 75% of its small areas)" in summary.describe()


def test_lookup_is_recognised_without_table_option(tmp_path):
    warehouse = new_warehouse(tmp_path)
    path = write_csv(tmp_path / "ons_lookup_2022.csv", LOOKUP_HEADER, LOOKUP_ROWS)
    summary = load_file(warehouse, path)
    assert (summary.outcome, summary.table) == ("loaded", "areas")


def test_user_maps_unrecognised_lookup_columns(tmp_path):
    warehouse = new_warehouse(tmp_path)
    header = ["small_area", "council", "council_name", "board", "board_name"]
    path = write_csv(tmp_path / "mine.csv", header, [r[:1] + r[2:] for r in LOOKUP_ROWS])
    mapping = {"lsoa_code": "small_area", "la_code": "council", "la_name": "council_name",
               "icb_code": "board", "icb_name": "board_name"}
    summary = load_file(warehouse, path, table="areas", lookup_columns=mapping)
    assert summary.outcome == "loaded", summary.message
    assert count(warehouse, "areas") == 2


def test_real_ons_july_2022_lookup_gives_309_authorities_12_split(tmp_path, shared_data):
    lookup = shared_data / "area-lookups-england" / "lsoa11_sicbl22_icb22_lad22_july2022.csv"
    db = tmp_path / "w.duckdb"
    result = subprocess.run([sys.executable, "-m", "pathway.cli", "load", str(lookup), "--table",
                             "areas", "--db", f"duckdb:///{db}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "309 new" in text and "12 authorities are split across ICBs" in text
    for split in ("E07000244", "E06000060", "E07000099", "E07000089", "E07000216", "E07000214",
                  "E07000209", "E07000212", "E07000180", "E07000029", "E07000163", "E07000225"):
        assert split in text
