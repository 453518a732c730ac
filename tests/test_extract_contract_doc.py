"""docs/extract-contract.md says what the loader does: the same tables, columns, types and
codes in both directions, reject reasons the loader really gives, and examples that load."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from ingest_fixtures import new_warehouse, write_csv
from pathway.ingest import load_file
from pathway.ingest.contract import RISK_FACTOR_PREFIX, TABLES
from pathway.resources import reference_dir

DOC = Path(__file__).resolve().parent.parent / "docs" / "extract-contract.md"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def sections(level: str, title: str) -> dict[str, str]:
    """`### Table `cohort`` -> its text, up to the next heading."""
    pattern = rf"^{level} {title} `([^`]+)`\n(.*?)(?=^#{{2,3}} |\Z)"
    return {name: body for name, body in re.findall(pattern, doc_text(), re.M | re.S)}


def table_rows(body: str) -> list[list[str]]:
    """The cells of each markdown table row whose first cell is `code`, backticks removed."""
    rows = []
    for line in body.splitlines():
        if line.startswith("| `"):
            rows.append([cell.strip().strip("`") for cell in line.strip().strip("|").split("|")])
    return rows


# ---- tables and columns ------------------------------------------------------------------
def documented_columns() -> dict[str, set[tuple]]:
    return {table: {(column, kind, required, codes) for column, kind, required, codes, _ in table_rows(body)}
            for table, body in sections("###", "Table").items()}


def loader_columns() -> dict[str, set[tuple]]:
    found = {}
    for name, contract in TABLES.items():
        columns = set()
        for f in contract.fields:
            codes = f.code_list or (f"{f.low} to {f.high}" if f.low is not None else "")
            columns.add((f.name, f.kind, "yes" if f.required else "no", codes))
        if contract.has_risk_factors:
            columns.add((f"{RISK_FACTOR_PREFIX}*", "boolean", "no", ""))
        found[name] = columns
    return found


def test_the_doc_documents_exactly_the_loaders_tables():
    assert list(documented_columns()) == list(TABLES)


@pytest.mark.parametrize("table", list(TABLES))
def test_each_tables_columns_types_and_codes_match_the_loader(table):
    documented, loaded = documented_columns()[table], loader_columns()[table]
    assert documented - loaded == set(), "documented, but not what the loader accepts"
    assert loaded - documented == set(), "accepted by the loader, but not documented"


# ---- code lists --------------------------------------------------------------------------
def reference_codes() -> dict[str, set[tuple]]:
    """Every code the loader accepts, per list, from the shipped reference tables it reads."""
    codes = pd.read_csv(reference_dir() / "codes.csv", dtype=str, keep_default_na=False)
    lists = {name: {(code,) for code in group["code"]} for name, group in codes.groupby("code_list")}
    # the mapped lists say what each code is stored as
    mapped = codes[codes.code != codes.canonical]
    for name in mapped.code_list.unique():
        lists[name] = {(r.code, r.canonical) for r in codes[codes.code_list == name].itertuples()}
    services = pd.read_csv(reference_dir() / "services.csv", dtype=str)
    lists["service"] = {(r.service, r.default_tier) for r in services.itertuples()}
    instruments = pd.read_csv(reference_dir() / "instruments.csv", dtype=str)
    lists["instrument"] = {(r.instrument, r.min_score, r.max_score) for r in instruments.itertuples()}
    return lists


def documented_codes() -> dict[str, set[tuple]]:
    width = {"ethnic_group": 2, "service": 2, "instrument": 3, "contact_mode": 2}
    return {name: {tuple(row[:width.get(name, 1)]) for row in table_rows(body)}
            for name, body in sections("###", "Code list").items()}


def test_every_code_list_a_column_uses_is_documented_and_no_other():
    used = {f.code_list for contract in TABLES.values() for f in contract.fields if f.code_list}
    assert set(documented_codes()) == used


@pytest.mark.parametrize("code_list", sorted(reference_codes()))
def test_each_code_lists_codes_match_the_reference_data(code_list):
    documented, accepted = documented_codes().get(code_list, set()), reference_codes()[code_list]
    assert documented - accepted == set(), "documented, but the loader refuses them"
    assert accepted - documented == set(), "accepted by the loader, but not documented"


# ---- what the doc says the loader does -------------------------------------------------------
def test_every_documented_reject_reason_is_one_the_loader_gives(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAY_LOAD_DAY", "2025-12-31")   # the day of loading the doc's example names
    warehouse = new_warehouse(tmp_path)
    try:
        load = lambda path: load_file(warehouse, path, max_reject_rate=1.0)
        load(write_csv(tmp_path / "areas.csv", ["area_code", "area_name"], [["E06000001", "Hartlepool"]]))
        header = ["pregnancy_id", "person_id", "area_code", "birth_date", "outcome", "parent_age",
                  "imd_decile", "rf_domestic_abuse"]
        load(write_csv(tmp_path / "cohort.csv", header, [
            ["P0000001", "", "E06000001", "2025-01-08", "live_birth", "", "", ""],
            ["P0000002", "M2", "E06000001", "31/02/2025", "live_birth", "", "", ""],
            ["P0000012", "M3", "E06000001", "2025-01-08", "live_birth", "twelve", "", ""],
            ["P0000012", "M4", "E06000001", "2025-01-08", "live_birth", "", "", ""],
            ["P0000005", "M5", "E06000001", "2025-01-08", "live_birth", "", "11", ""],
            ["P0000006", "M6", "X69999999", "2025-01-08", "live_birth", "", "", ""],
            ["P0000007", "M7", "E06000001", "", "live_birth", "", "", ""],
            ["P0000008", "M8", "E06000001", "2025-01-10", "loss", "", "", ""],
            ["P0000009", "M9", "E06000001", "2025-01-08", "live_birth", "", "", "maybe"],
            ["P0000010", "M10", "E06000001", "2025-01-08", "live_birth", "", "", "yes"]]))
        load(write_csv(tmp_path / "activity.csv",
                       ["activity_id", "pregnancy_id", "service", "activity_type", "activity_date",
                        "infant_number"], [
                           ["A1", "P0000010", "psychology", "assessment", "2025-02-01", ""],
                           ["A2", "P0000099", "gp", "contact", "2025-02-01", ""],
                           ["A3", "P0000010", "gp", "contact", "1850-01-01", ""],
                           ["A4", "P0000010", "gp", "contact", "2199-01-01", ""],
                           ["A5", "P0000010", "health_visiting", "contact", "2025-02-01", "2"]]))
        load(write_csv(tmp_path / "measures.csv",
                       ["measure_id", "pregnancy_id", "instrument", "score", "measure_date", "timepoint"], [
                           ["S1", "P0000010", "EPDS", "31", "2025-02-01", "baseline"],
                           ["S2", "P0000010", "EPDS", "n/a", "2025-02-01", "baseline"]]))
        load(write_csv(tmp_path / "measures_nul.csv",
                       ["measure_id", "pregnancy_id", "instrument", "score", "measure_date", "timepoint",
                        "service"], [["S3", "P0000010", "EPDS", "3", "2025-02-01", "baseline", "gp\0"]]))
        given = set(warehouse.query("select reason from rejects")["reason"])
    finally:
        warehouse.dispose()
    reasons_table = doc_text().split("Every reason the loader gives", 1)[1].split("\n\n", 2)[1]
    documented = [re.search(r"`([^`]+)`", row.split("|")[3]).group(1)
                  for row in reasons_table.splitlines()[2:]]
    assert len(documented) == 17
    assert [reason for reason in documented if reason not in given] == []


def test_the_docs_examples_load_as_it_says(tmp_path):
    blocks = re.findall(r"^```\n(.*?)^```", doc_text().split("## 9. Examples", 1)[1], re.M | re.S)
    cohort, activity = (tmp_path / "cohort.csv", tmp_path / "activity.csv")
    cohort.write_text(blocks[0], encoding="utf-8")
    activity.write_text(blocks[1], encoding="utf-8")
    warehouse = new_warehouse(tmp_path)
    try:
        load_file(warehouse, write_csv(tmp_path / "areas.csv", ["area_code", "area_name"],
                                       [["E06000001", "Hartlepool"]]))
        first, second = load_file(warehouse, cohort), load_file(warehouse, activity)
        assert (first.rows_loaded, first.rows_rejected, first.ignored_columns) == (2, 0, ["GP Practice"])
        assert (second.rows_loaded, second.rows_rejected) == (3, 0)
        stored = warehouse.query("select pregnancy_id, booking_date, ethnic_group, outcome from cohort "
                                 "order by pregnancy_id")
        assert stored.ethnic_group.tolist() == ["White", "Not stated"]
        assert str(stored.booking_date[1])[:10] == "2024-07-12"
        flags = warehouse.query("select risk_factor, present from cohort_risk_factors "
                                "where pregnancy_id = 'P0000002' order by risk_factor")
        assert flags.values.tolist() == [["rf_domestic_abuse", True]]
        tiers = warehouse.query("select activity_id, tier, attendance from activity order by activity_id")
        assert tiers.values.tolist() == [["A0000001", "universal", "attended"],
                                         ["A0000002", "specialist", "attended"],
                                         ["A0000003", "targeted", "dna"]]
    finally:
        warehouse.dispose()
