"""The `pathway` command line (contract section 4): load, demo, query, serve, report, reference,
users (dashboard accounts) and audit (the audit log).

Exit status: 0 success; 1 when any file was refused or a query failed for a reason the user can fix;
2 on a usage error (unknown option, bad parameter).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.text import Text


app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Perinatal Pathway Analytics: load extracts, build the demo, query metrics, serve the dashboard.")
reference_app = typer.Typer(no_args_is_help=True, help="Show or replace the sourced reference data.")
app.add_typer(reference_app, name="reference")
users_app = typer.Typer(no_args_is_help=True, help="Manage the dashboard's accounts (sign-in for `pathway serve`).")
app.add_typer(users_app, name="users")

# No markup and no emoji codes: messages carry users' text (headers, file names, area names),
# which must print as written (`:x:` or `[bold]` in a header stays literal). Styles go in
# Text objects instead.
out = Console(width=None if sys.stdout.isatty() else 200, markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False, soft_wrap=True)   # paths stay whole

# A flag takes no value: metavar="" keeps typer from showing a <bool> value type in --help.
FLAG = ""

DbOption = typer.Option(None, "--db", help="SQLAlchemy URL (default: PATHWAY_DB_URL, else data/pathway.duckdb under PATHWAY_HOME or the current folder).")


def _warehouse(db: str | None, *, read_only: bool = False, needs_data: bool = True):
    """The warehouse a command works on. Read-only commands (query, report, reference list)
    open an embedded DuckDB file read-only, beside a running dashboard, and never create one:
    a missing or empty warehouse is reported with its full path (exit 1)."""
    from pathway.db import Warehouse, WarehouseError
    from pathway.settings import default_db_path

    try:
        warehouse = Warehouse(db, read_only=read_only)
        if db is None and warehouse.duckdb_path == default_db_path():
            # the default file under PATHWAY_HOME: say which, since it depends on the folder
            err.print(Text(f"Warehouse: {warehouse.duckdb_path}", style="dim"))
        if read_only:
            try:
                _refuse_missing_or_empty(warehouse, needs_data)
            except WarehouseError as error:
                if "different configuration" not in str(error):
                    raise
                # This process itself has the file open for writing (a script or test calling
                # the commands in turn): read through that, as DuckDB allows one way per process.
                warehouse.dispose()
                warehouse = Warehouse(db)
        warehouse.ensure_schema()
        return warehouse
    except WarehouseError as error:
        err.print(Text(str(error), style="red"))
        raise typer.Exit(1)


def _refuse_missing_or_empty(warehouse, needs_data: bool) -> None:
    import sqlalchemy as sa

    path = warehouse.duckdb_path
    if path is not None and not path.exists():
        _fail(f"there is no warehouse at {path}: load data first (`pathway load FILE` or "
              "`pathway demo`), or name one with --db or PATHWAY_DB_URL")
    with warehouse.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        loaded = "load_log" in tables and conn.execute(sa.text(
            "SELECT count(*) FROM load_log WHERE outcome = 'loaded'")).scalar()
    if "load_log" not in tables or (needs_data and not loaded):
        _fail(f"the warehouse {warehouse.where()} is empty: nothing has been loaded into it "
              "yet (`pathway load FILE` or `pathway demo`)")
    if needs_data:
        _rebuild_stale_journey(warehouse)


def _rebuild_stale_journey(warehouse) -> None:
    """A load stopped between its commit and the journey rebuild leaves the journey stale:
    rebuild it when nothing else holds the file (else answer from the journey as built)."""
    from dataclasses import replace

    from pathway import journey
    from pathway.db import Warehouse, WarehouseError

    with warehouse.connect() as conn:
        if journey.is_current(conn):
            return
    warehouse.dispose()           # one process opens a DuckDB file one way at a time
    writer = Warehouse(warehouse.url.render_as_string(hide_password=False), hold_file=False,
                       settings=replace(warehouse.settings, lock_wait_seconds=0))
    try:
        with writer.begin() as conn:
            journey.refresh_after_load(conn)
    except WarehouseError:
        pass
    finally:
        writer.dispose()


def _fail(message: str) -> None:
    err.print(Text(message, style="red"))
    raise typer.Exit(1)


def _key_values(items: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _usage_error(f"{option} {item!r} is not KEY=VALUE")
        pairs[key.strip()] = value.strip()
    return pairs


# what --table may name: the contract's tables and published national figures
LOADABLE_TABLES = ("areas", "cohort", "activity", "measures", "benchmarks")


def _usage_error(message: str) -> None:
    err.print(Text.assemble(("error:", "red"), f" {message}"))
    raise typer.Exit(2)


@app.command()
def load(
    files: List[Path] = typer.Argument(..., help="Extract files (CSV, XLSX, Parquet)."),
    table: Optional[str] = typer.Option(None, "--table", help="areas, cohort, activity, measures, or benchmarks (published national figures) (default: from the file name or columns)."),
    max_reject_rate: Optional[float] = typer.Option(None, "--max-reject-rate", help="Refuse a file when more than this share of its rows is rejected (default 0.05)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="XLSX sheet name (default: the first sheet)."),
    lookup_column: List[str] = typer.Option([], "--lookup-column", help="For a small-area lookup loaded as areas: ROLE=COLUMN, where ROLE is lsoa_code, la_code, la_name, icb_code, icb_name, region_code or region_name (repeatable)."),
    db: Optional[str] = DbOption,
) -> None:
    """Validate and load extract files, printing a summary per file."""
    from pathway.ingest import load_files

    if max_reject_rate is not None and not 0 <= max_reject_rate <= 1:
        _usage_error(f"--max-reject-rate {max_reject_rate} must be between 0 and 1")
    if table is not None and table not in LOADABLE_TABLES:
        _usage_error(f"--table {table!r} is not a table the loader knows (one of {', '.join(LOADABLE_TABLES)})")
    mapping = _key_values(lookup_column, "--lookup-column")
    warehouse = _warehouse(db)
    summaries = load_files(warehouse, files, table=table, max_reject_rate=max_reject_rate,
                           sheet=sheet, progress=sys.stdout.isatty(), lookup_columns=mapping or None)
    for summary in summaries:
        colour = "green" if summary.outcome == "loaded" else "red"
        out.print(Text(summary.describe(), style=colour))
        _audit(warehouse, "load", summary.outcome, {"file_name": summary.file_name,
                                                    "rows_loaded": summary.rows_loaded,
                                                    "rows_rejected": summary.rows_rejected})
    if any(s.outcome == "loaded" for s in summaries):
        _precompute(warehouse)
    raise typer.Exit(0 if all(s.outcome == "loaded" for s in summaries) else 1)


@app.command()
def demo(
    seed: int = typer.Option(2024, "--seed", help="Random seed: the same seed builds the same data."),
    scale: str = typer.Option("county", "--scale", help="small | county | national"),
    db: Optional[str] = DbOption,
) -> None:
    """Build the synthetic demo data set and load it through the real loader."""
    from pathway.demo import SCALES, build_demo

    if scale not in SCALES:
        _usage_error(f"--scale {scale!r}: choose one of {', '.join(SCALES)}")
    warehouse = _warehouse(db)
    summaries = build_demo(warehouse, seed=seed, scale=scale, progress=sys.stdout.isatty())
    for summary in summaries:
        out.print(summary.describe(), highlight=False)
    _precompute(warehouse)
    raise typer.Exit(0 if all(s.outcome == "loaded" for s in summaries) else 1)


@app.command()
def query(
    name: Optional[str] = typer.Argument(None, help="Metric name from the catalogue (see --list)."),
    param: List[str] = typer.Option([], "--param", help="KEY=VALUE, repeatable (area, from, to, as_at, ...)."),
    output_format: str = typer.Option("table", "--format", help="csv | json | table"),
    no_suppress: bool = typer.Option(False, "--no-suppress", metavar=FLAG, help="Show unsuppressed counts (for analysts with access to the unsuppressed data); the output's first line says so (JSON: an object with a disclosure field and the rows)."),
    list_: bool = typer.Option(False, "--list", metavar=FLAG, help="List the metric catalogue."),
    db: Optional[str] = DbOption,
) -> None:
    """Run one metric of the catalogue and print it."""
    from pathway import catalogue
    from pathway.metrics import MetricError, run_metric

    if list_:
        for metric in catalogue.METRICS.values():
            out.print(Text.assemble((metric.name, "bold"), f"  ({metric.grain})  {metric.description}"))
        return
    if not name:
        _usage_error("name a metric, or use --list")
    if name not in catalogue.METRICS:
        _usage_error(f"unknown metric {name!r}: see `pathway query --list`")
    if output_format not in ("csv", "json", "table"):
        _usage_error(f"--format {output_format!r}: choose csv, json or table")
    params = _key_values(param, "--param")
    warehouse = _warehouse(db, read_only=True)
    try:
        frame = run_metric(warehouse, name, params, suppress=not no_suppress)
    except MetricError as error:
        err.print(Text.assemble((f"{name}:", "red"), f" {error}"))
        raise typer.Exit(2 if getattr(error, "is_usage", True) else 1)
    finally:
        # let the read-only file go at once: DuckDB refuses a writer in this process (a test, a
        # script that loads next) while a read-only connection to the same file is still open
        warehouse.dispose()
    _print_frame(frame, name, output_format, suppressed=not no_suppress)


# Contract 7.4: unsuppressed output says so in its first line, whatever the format.
UNSUPPRESSED_NOTE = ("NOT DISCLOSURE-CONTROLLED (--no-suppress): exact counts, small numbers "
                     "not hidden; not for publication or sharing")


def _print_frame(frame, name: str, output_format: str, *, suppressed: bool) -> None:
    from pathway.export import frame_for_people, records_for_json

    if output_format == "json":
        records = json.dumps(records_for_json(frame), indent=2, default=str)
        if not suppressed:  # an object whose first line carries the note, then the rows
            records = f'{{"disclosure": {json.dumps(UNSUPPRESSED_NOTE)},\n"rows": {records}}}'
        sys.stdout.write(records + "\n")
        return
    people = frame_for_people(frame, name) if suppressed else frame
    if output_format == "csv":
        if not suppressed:
            sys.stdout.write(f"# {UNSUPPRESSED_NOTE}\n")
        people.to_csv(sys.stdout, index=False)
        return
    from rich.table import Table

    table = Table(title=name if suppressed else f"{name}: {UNSUPPRESSED_NOTE}", show_lines=False)
    for column in people.columns:
        table.add_column(str(column), overflow="fold")
    for row in people.itertuples(index=False):
        table.add_row(*["" if v is None else str(v) for v in row])
    out.print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8050, "--port"),
    workers: int = typer.Option(2, "--workers", help="gunicorn worker processes."),
    db: Optional[str] = DbOption,
) -> None:
    """Serve the dashboard with a production WSGI server (what `python app.py` does for one process)."""
    from pathway.web.server import serve as serve_dashboard

    serve_dashboard(host=host, port=port, db_url=db, workers=workers)


@app.command()
def report(
    area: Optional[str] = typer.Option(None, "--area", help="Area (or ICB) code of the report."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="FILE.html or FILE.pdf (the suffix sets the format)."),
    all_areas: bool = typer.Option(False, "--all-areas", metavar=FLAG, help="Every loaded area's report (the monthly pack), into --out-dir."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="Folder for --all-areas: report_<area code>.<format>."),
    output_format: str = typer.Option("html", "--format", help="html | pdf, for --all-areas."),
    date_from: Optional[str] = typer.Option(None, "--from", help="First birth date of the cohort (YYYY-MM-DD)."),
    date_to: Optional[str] = typer.Option(None, "--to", help="Last birth date of the cohort (YYYY-MM-DD)."),
    as_at: Optional[str] = typer.Option(None, "--as-at", help="Data cut-off (YYYY-MM-DD); default: the latest activity date."),
    db: Optional[str] = DbOption,
) -> None:
    """Write an area's report (self-contained HTML or A4 PDF), or every area's with --all-areas."""
    from pathway.report import build_report

    params = {"from": date_from, "to": date_to, "as_at": as_at}
    if all_areas == (area is not None):
        _usage_error("give --area CODE --out FILE, or --all-areas --out-dir DIR")
    if all_areas:
        if out_dir is None:
            _usage_error("--all-areas needs --out-dir DIR")
        if output_format not in ("html", "pdf"):
            _usage_error(f"--format {output_format!r}: choose html or pdf")
        _report_pack(_warehouse(db, read_only=True), out_dir, output_format, params)
        return
    if out_file is None or out_file.suffix.lower() not in (".html", ".pdf"):
        _usage_error("--out must name a .html or .pdf file")
    warehouse = _warehouse(db, read_only=True)
    try:
        document = build_report(warehouse, area, params, fmt=out_file.suffix.lower().lstrip("."))
    except RuntimeError as error:  # ReportError (no such area, no data), PdfError
        err.print(Text.assemble(("report:", "red"), f" {error}"))
        raise typer.Exit(1)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(document)
    out.print(f"{out_file}: report for area {area} written ({len(document):,} bytes)", highlight=False)


def _report_pack(warehouse, out_dir: Path, output_format: str, params: dict) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pathway.report import ReportError, build_pack
    from pathway.report.pack import pack_areas

    total = len(pack_areas(warehouse))
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, disable=not err.is_terminal)
    try:
        with progress:
            task = progress.add_task("reports", total=total)

            def on_area(code: str, name: str) -> None:
                # advance for the area just finished, then name the one starting
                if progress.tasks[0].description != "reports":
                    progress.advance(task)
                progress.update(task, description=f"{name} ({code})")

            result = build_pack(warehouse, out_dir, fmt=output_format, params=params, on_area=on_area)
            progress.update(task, completed=total, description="done")
    except ReportError as error:
        err.print(Text.assemble(("report:", "red"), f" {error}"))
        raise typer.Exit(1)
    out.print(f"{len(result.written)} of {total} area reports written to {out_dir}", highlight=False)
    for code, why in result.failed.items():
        err.print(Text.assemble((f"area {code} failed:", "red"), f" {why}"), highlight=False)
    raise typer.Exit(0 if result.ok else 1)


@app.command("audit-disclosure")
def audit_disclosure(db: Optional[str] = DbOption) -> None:
    """Attack every metric's shown output (contract 7.4) and say whether any hidden or rounded count comes back."""
    from pathway.disclosure_audit import audit_warehouse

    warehouse = _warehouse(db, read_only=True)  # a read-only command, as `query` is
    result = audit_warehouse(warehouse, progress=lambda line: err.print(line, highlight=False))
    for line in result.summary_lines():
        out.print(line, highlight=False)
    for line in result.not_covered:
        out.print(f"not attacked: {line}", highlight=False)
    for found in result.recovered:
        out.print(f"recovered: {found.channel}, {found.table}, row {found.row + 1}, {found.column}: "
                  f"shown {found.shown}, worked back to {found.true_value} by {found.attack}"
                  + (f" ({found.evidence})" if found.evidence else ""),
                  highlight=False)
    raise typer.Exit(1 if result.recovered else 0)


@reference_app.command("list")
def reference_list(db: Optional[str] = DbOption) -> None:
    """List the reference tables and their row counts."""
    from pathway.reference import read_table
    from pathway.schema import REFERENCE_TABLES

    warehouse = _warehouse(db, read_only=True, needs_data=False)
    with warehouse.connect() as conn:
        for name in REFERENCE_TABLES:
            out.print(f"{name}: {len(read_table(conn, name))} rows")


@reference_app.command("replace")
def reference_replace(name: str, file: Path, db: Optional[str] = DbOption) -> None:
    """Replace one reference table (e.g. prevalence, costs) with your own sourced CSV."""
    from pathway.reference import ReferenceError, replace
    from pathway.schema import REFERENCE_TABLES

    if name not in REFERENCE_TABLES:
        _usage_error(f"unknown reference table {name!r}: one of {', '.join(REFERENCE_TABLES)} "
                     "(see `pathway reference list`)")
    warehouse = _warehouse(db)
    try:
        with warehouse.begin() as conn:
            rows = replace(conn, name, file)
            try:
                from pathway import journey
            except ImportError:  # journey tables arrive with the metric layer
                journey = None
            if journey is not None:
                journey.refresh(conn)
    except (ReferenceError, FileNotFoundError) as error:
        _audit(warehouse, "reference_replace", "refused", {"table": name, "file": str(file), "why": str(error)})
        err.print(Text(str(error), style="red"))
        raise typer.Exit(1)
    _audit(warehouse, "reference_replace", "ok", {"table": name, "file": str(file), "rows": rows})
    out.print(f"ref_{name}: replaced with {rows} rows from {file}")
    _precompute(warehouse)


def _precompute(warehouse) -> None:
    """Work out the dashboard's first-request answers for the new data (pathway.answers):
    bounded by PATHWAY_PRECOMPUTE_SECONDS; what it leaves undone runs live when asked."""
    if warehouse.settings.precompute_seconds <= 0:
        return
    from pathway.answers import precompute

    try:
        summary = precompute(warehouse)
    except Exception as error:  # the load itself succeeded: say why the answers were not kept
        err.print(f"[yellow]the dashboard's answers were not precomputed ({error}); "
                  "they will be worked out when asked[/yellow]")
        return
    out.print(summary.describe(), highlight=False)


def _audit(warehouse, event: str, outcome: str, details: dict) -> None:
    """Record a command-line action under the operating-system user running it."""
    import getpass

    from pathway import audit

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = None
    audit.record(warehouse, event, outcome, user=who, address="command line", details=details)


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="User name (letters, digits and . _ @ -), e.g. an NHS e-mail address."),
    role: str = typer.Option("viewer", "--role", help="viewer | data_manager"),
    no_password: bool = typer.Option(False, "--no-password", metavar=FLAG, help="An account that signs in only through the trusted proxy."),
    password_stdin: bool = typer.Option(False, "--password-stdin", metavar=FLAG, help="Read the password from standard input (for scripts)."),
    db: Optional[str] = DbOption,
) -> None:
    """Add an account; the password is asked for twice (never given on the command line)."""
    from pathway.accounts import AccountError, add_user

    password = None if no_password else _read_password(password_stdin)
    warehouse = _warehouse(db)
    try:
        account = add_user(warehouse, name, role, password)
    except AccountError as error:
        _usage_error(str(error))
    _audit(warehouse, "users", "ok", {"action": "add", "account": account.user_name, "role": account.role})
    out.print(f"{account.user_name}: added as {account.role}"
              + ("" if account.has_password else " (signs in through the trusted proxy only)"), highlight=False)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Password again", hide_input=True) != first:
        _usage_error("the two passwords differ")
    return first


@users_app.command("remove")
def users_remove(name: str, db: Optional[str] = DbOption) -> None:
    """Remove an account (its sessions end within 30 seconds)."""
    from pathway.accounts import AccountError, remove_user

    warehouse = _warehouse(db)
    try:
        remove_user(warehouse, name)
    except AccountError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1)
    _audit(warehouse, "users", "ok", {"action": "remove", "account": name})
    out.print(f"{name}: removed", highlight=False)


@users_app.command("set-role")
def users_set_role(name: str, role: str, db: Optional[str] = DbOption) -> None:
    """Change an account's role: viewer or data_manager."""
    from pathway.accounts import AccountError, check_role, set_role

    warehouse = _warehouse(db)
    try:
        set_role(warehouse, name, check_role(role))
    except AccountError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1 if "does not exist" in str(error) else 2)
    _audit(warehouse, "users", "ok", {"action": "set-role", "account": name, "role": role})
    out.print(f"{name}: now {role}", highlight=False)


@users_app.command("set-password")
def users_set_password(name: str, password_stdin: bool = typer.Option(False, "--password-stdin", metavar=FLAG),
                       db: Optional[str] = DbOption) -> None:
    """Give an account a new password (its sessions end)."""
    from pathway.accounts import AccountError, set_password

    password = _read_password(password_stdin)
    warehouse = _warehouse(db)
    try:
        set_password(warehouse, name, password)
    except AccountError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1 if "does not exist" in str(error) else 2)
    _audit(warehouse, "users", "ok", {"action": "set-password", "account": name})
    out.print(f"{name}: password changed", highlight=False)


@users_app.command("list")
def users_list(db: Optional[str] = DbOption) -> None:
    """List the accounts and their roles."""
    from pathway.accounts import list_users

    found = list_users(_warehouse(db))
    if not found:
        out.print("No accounts yet: add one with `pathway users add NAME --role data_manager`.", highlight=False)
    for account in found:
        how = "password" if account.has_password else "trusted proxy only"
        sys.stdout.write(f"{account.user_name}\t{account.role}\t{how}\n")  # tab-separated, for scripts


@app.command()
def audit(
    since: Optional[str] = typer.Option(None, "--since", help="First day to list (YYYY-MM-DD, UTC); default: all."),
    output_format: str = typer.Option("table", "--format", help="csv | table"),
    db: Optional[str] = DbOption,
) -> None:
    """List the audit log: sign-ins and failures, uploads, downloads, reports, reference and account changes."""
    import datetime as dt

    from pathway import audit as audit_log
    from pathway.db import Warehouse

    try:
        first_day = dt.date.fromisoformat(since) if since else None
    except ValueError:
        _usage_error(f"--since {since!r} is not a date (YYYY-MM-DD)")
    if output_format not in ("csv", "table"):
        _usage_error(f"--format {output_format!r}: choose csv or table")
    try:
        # Writable when no server holds the file: the dashboard's journal moves into the table.
        # (Not waiting for the file: a serving dashboard holds it for as long as it runs.)
        from dataclasses import replace as with_setting

        from pathway.settings import load_settings
        warehouse = Warehouse(db, settings=with_setting(load_settings(), lock_wait_seconds=0))
        warehouse.ensure_schema()
        audit_log.import_journal(warehouse)
    except Exception:  # WarehouseError, or DuckDB's lock while the dashboard serves the file
        warehouse = _warehouse(db, read_only=True)  # read beside the server
    frame = audit_log.read_events(warehouse, first_day)
    frame = frame.assign(occurred_at=frame["occurred_at"].astype(str).str.slice(0, 19))
    if output_format == "csv":
        frame.to_csv(sys.stdout, index=False)
        return
    from rich.table import Table

    table = Table(title=f"Audit log{' since ' + since if since else ''} (UTC), newest first")
    for column in frame.columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*["" if v is None or v != v else str(v) for v in row])
    out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
