"""examples/: the example extracts are exactly what their generator writes, and the README's
walk-through (load them, read the quarantine, query) does what the README says it does."""

from __future__ import annotations

import csv
import glob
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

from pathway.demo.examples import BAD_ROWS, TABLES, write_examples

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
README_DB = "duckdb:///examples.duckdb"


def test_the_example_files_are_what_the_generator_writes(tmp_path):
    written = write_examples(tmp_path)
    assert [p.name for p in written] == [f"{name}.csv" for name in TABLES]
    for path in written:
        assert path.read_bytes() == (EXAMPLES / path.name).read_bytes(), (
            f"examples/{path.name} differs from what `python -m pathway.demo.examples examples/` writes")


def test_each_example_file_has_a_few_dozen_rows_and_one_bad_row_last():
    for name in TABLES:
        rows = list(csv.DictReader((EXAMPLES / f"{name}.csv").open(encoding="utf-8")))
        assert 20 <= len(rows) <= 70, (name, len(rows))
        bad, _, _ = BAD_ROWS[name]
        assert {k: rows[-1][k] for k in bad} == bad


def walk_through() -> tuple[list[str], str, str]:
    """The README's walk-through: its commands, the load output it shows, and the births answer."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try it: the example extracts", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", section, re.M | re.S)
    commands = [line for language, body in blocks if language == "bash"
                for line in body.splitlines() if line.startswith("pathway ")]
    shown = next(body for language, body in blocks if language == "")
    births = re.search(r"The births query answers `([^`]+)`", section).group(1)
    return commands, shown, births


def run_pathway(command: str, db_url: str) -> subprocess.CompletedProcess:
    args = []
    for word in shlex.split(command.replace(README_DB, db_url))[1:]:
        args += sorted(glob.glob(word, root_dir=REPO)) if "*" in word else [word]
    return subprocess.run([sys.executable, "-m", "pathway.cli", *args], cwd=REPO,
                          capture_output=True, text=True)


def test_the_readme_walk_through_loads_quarantines_and_queries_as_it_says(tmp_path):
    commands, shown, births = walk_through()
    assert [c.split()[:2] for c in commands] == [["pathway", "load"], ["pathway", "query"], ["pathway", "query"]]
    db_url = f"duckdb:///{tmp_path / 'examples.duckdb'}"

    load = run_pathway(commands[0], db_url)
    assert load.returncode == 0, load.stderr
    # the output as the README shows it, but for how long storing the first answers took here
    def seconds_blanked(text: str) -> str:
        return re.sub(r" in [0-9.]+ s ", " in N s ", " ".join(text.split()))

    assert seconds_blanked(load.stdout) == seconds_blanked(shown)
    # loaded and quarantined counts, file by file: every good row loads, the bad one waits in rejects
    for name, (_, column, reason) in BAD_ROWS.items():
        good = sum(1 for _ in (EXAMPLES / f"{name}.csv").open(encoding="utf-8")) - 2
        assert f"{name}.csv: loaded into {name}: {good + 1} rows read, {good} new" in load.stdout
        assert f"{name}.csv line {good + 2}, column {column}: {reason}" in load.stdout

    quality = run_pathway(commands[1], db_url)
    assert quality.returncode == 0, quality.stderr
    first_line, body = quality.stdout.split("\n", 1)
    assert first_line.startswith("# NOT DISCLOSURE-CONTROLLED")  # --no-suppress says so first
    rows = csv.DictReader(io.StringIO(body))
    quarantined = {(r["table"], r["column"]): int(r["quarantined"]) for r in rows if r["quarantined"] != "0"}
    assert quarantined == {(name, column): 1 for name, (_, column, _) in BAD_ROWS.items()}

    answer = run_pathway(commands[2], db_url)
    assert answer.returncode == 0, answer.stderr
    assert births in answer.stdout.splitlines()


def test_a_fixed_row_loads_and_the_rest_count_as_unchanged(tmp_path):
    db_url = f"duckdb:///{tmp_path / 'examples.duckdb'}"
    first = run_pathway(f"pathway load examples/areas.csv examples/cohort.csv --db {README_DB}", db_url)
    assert first.returncode == 0, first.stderr
    fixed = tmp_path / "cohort.csv"
    fixed.write_text((EXAMPLES / "cohort.csv").read_text(encoding="utf-8").replace("31/02/2025", "28/02/2025"),
                     encoding="utf-8")
    again = run_pathway(f"pathway load {fixed} --db {README_DB}", db_url)
    assert again.returncode == 0, again.stderr
    assert "31 rows read, 1 new, 0 replaced, 30 unchanged, 0 rejected" in again.stdout
