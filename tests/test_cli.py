"""The `pathway` command line: exit codes and output formats of contract section 4."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ingest_fixtures import (write_activity, write_areas, write_cohort, write_csv,
                             COHORT_HEADER, COHORT_ROWS)
from pathway.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def db(tmp_path) -> str:
    return f"duckdb:///{tmp_path / 'cli.duckdb'}"


@pytest.fixture
def loaded_db(tmp_path, db) -> str:
    result = run("load", write_areas(tmp_path), write_cohort(tmp_path), write_activity(tmp_path), "--db", db)
    assert result.exit_code == 0, result.output
    return db


def test_load_prints_a_summary_per_file_and_exits_0(tmp_path, db):
    result = run("load", write_areas(tmp_path), write_cohort(tmp_path), "--db", db)
    assert result.exit_code == 0
    assert "areas.csv: loaded into areas: 2 rows read, 2 new" in result.output
    assert "cohort.csv: loaded into cohort: 3 rows read, 3 new" in result.output


def test_load_exits_1_when_any_file_is_refused(tmp_path, db):
    broken = write_csv(tmp_path / "cohort_broken.csv", COHORT_HEADER[1:], [r[1:] for r in COHORT_ROWS])
    result = run("load", write_areas(tmp_path), broken, "--db", db)
    assert result.exit_code == 1
    assert "missing required column pregnancy_id" in " ".join(result.output.split())


def test_usage_errors_exit_2(tmp_path, db):
    assert run("load", write_areas(tmp_path), "--max-reject-rate", "7", "--db", db).exit_code == 2
    assert run("load", "--db", db).exit_code == 2                      # no file named
    unknown = run("load", write_areas(tmp_path), "--table", "nosuch", "--db", db)  # contract section 4
    assert unknown.exit_code == 2 and "one of areas, cohort, activity, measures, benchmarks" in unknown.output
    assert run("query", "no_such_metric", "--db", db).exit_code == 2
    assert run("query", "births", "--param", "area", "--db", db).exit_code == 2   # not KEY=VALUE
    assert run("demo", "--scale", "galactic", "--db", db).exit_code == 2


def test_query_list_names_every_catalogue_metric(db):
    from pathway.catalogue import METRICS

    result = run("query", "--list", "--db", db)
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.splitlines() if line.strip() and not line.startswith(" ")}
    assert set(METRICS) <= listed


def test_query_json_shows_suppressed_counts_as_null_and_no_suppress_shows_them(loaded_db):
    # E06000001 in 2024: P1 born 2024-06-28 (live birth); P2 ongoing, due 2024-08-15.
    args = ["query", "births", "--param", "area=E06000001", "--param", "from=2024-01-01",
            "--param", "to=2024-12-31", "--format", "json", "--db", loaded_db]
    (row,) = json.loads(run(*args).output)
    assert row["live_births"] is None and row["pregnancies"] is None   # 1 and 2: both under 8
    output = run(*args, "--no-suppress").output
    assert output.splitlines()[0].startswith('{"disclosure": "NOT DISCLOSURE-CONTROLLED')
    (raw,) = json.loads(output)["rows"]
    assert (raw["live_births"], raw["pregnancies"]) == (1, 2)


@pytest.mark.parametrize("output_format, first", [
    ("csv", "# NOT DISCLOSURE-CONTROLLED (--no-suppress)"),
    ("table", "births: NOT DISCLOSURE-CONTROLLED (--no-suppress)"),
])
def test_no_suppress_says_so_in_the_first_line(loaded_db, output_format, first):
    result = run("query", "births", "--param", "area=E06000001", "--no-suppress",
                 "--format", output_format, "--db", loaded_db)
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[0].strip().startswith(first)
    # and suppressed output has no such line
    shown = run("query", "births", "--param", "area=E06000001", "--format", output_format,
                "--db", loaded_db).output
    assert "NOT DISCLOSURE-CONTROLLED" not in shown


def test_query_csv_writes_a_star_for_a_suppressed_count(loaded_db):
    result = run("query", "births", "--param", "area=E06000001", "--param", "from=2024-01-01",
                 "--param", "to=2024-12-31", "--format", "csv", "--db", loaded_db)
    header, line = result.output.strip().splitlines()
    row = dict(zip(header.split(","), line.split(",")))
    assert (row["live_births"], row["pregnancies"]) == ("*", "*")


def test_query_with_an_unknown_area_says_so_and_exits_2(loaded_db):
    result = run("query", "stage_reach", "--param", "area=E09999999", "--db", loaded_db)
    assert result.exit_code == 2
    assert "unknown area 'E09999999'" in " ".join(result.output.split())


def test_db_url_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAY_DB_URL", f"duckdb:///{tmp_path / 'env.duckdb'}")
    assert run("load", write_areas(tmp_path)).exit_code == 0
    assert (tmp_path / "env.duckdb").exists()


# ---- usage errors and help text ---------------------------------------------------------
def test_replacing_an_unknown_reference_table_is_a_usage_error(tmp_path, db):
    mine = write_csv(tmp_path / "mine.csv", ["code", "source"], [["a", "mine"]])
    result = run("reference", "replace", "nosuch", mine, "--db", db)
    assert result.exit_code == 2
    assert "unknown reference table 'nosuch': one of stages, services" in " ".join(result.output.split())


def test_load_help_names_every_table_it_loads_including_benchmarks():
    text = " ".join(run("load", "--help").output.replace("│", " ").split())
    assert "areas, cohort, activity, measures, or benchmarks (published national figures)" in text


def every_command() -> list[list[str]]:
    """Every command and subcommand of `pathway`, as the words that name it."""
    import typer

    def walk(command, words):
        if hasattr(command, "commands"):   # a group (typer carries its own copy of click)
            return [found for name, sub in command.commands.items() for found in walk(sub, words + [name])]
        return [words]

    return walk(typer.main.get_command(app), [])


def test_every_command_is_checked_below():
    assert {"load", "query", "report", "serve"} <= {words[0] for words in every_command()}
    assert ["reference", "replace"] in every_command()


@pytest.mark.parametrize("command", every_command(), ids=" ".join)
def test_flags_show_no_value_type_in_help(command):
    lines = run(*command, "--help").output.splitlines()
    # Typer draws its own --help option with <bool>; every flag of ours takes no value.
    assert [line for line in lines if "<bool>" in line and "--help" not in line] == []
    if command == ["query"]:
        assert any("--no-suppress" in line and "<" not in line for line in lines)


def test_audit_disclosure_prints_what_it_tried_per_channel_and_exits_0_when_nothing_comes_back(loaded_db):
    result = run("audit-disclosure", "--db", loaded_db)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for channel in ("pathway query CSV:", "pathway query JSON:", "dashboard tables and downloads:"):
        assert channel in text
    assert "0 counts recovered" in text and "recovered:" not in text
