"""Dashboard accounts (`pathway users ...`, argon2id hashes in the warehouse) and the audit log
(`pathway audit --since`, the journal a read-only DuckDB server writes beside its file)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from pathway import accounts, audit
from pathway.cli import app
from pathway.db import Warehouse
from pathway.schema import audit_log

runner = CliRunner()


@pytest.fixture
def db(tmp_path) -> str:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    warehouse = Warehouse(url)
    warehouse.ensure_schema()
    warehouse.dispose()
    return url


def cli(*args, stdin: str | None = None):
    return runner.invoke(app, [str(a) for a in args], input=stdin)


def test_users_add_list_set_role_and_remove(db):
    assert cli("users", "add", "ann@nhs.net", "--role", "data_manager", "--password-stdin", "--db", db,
               stdin="a long enough password\n").exit_code == 0
    assert cli("users", "add", "bob", "--no-password", "--db", db).exit_code == 0
    listed = cli("users", "list", "--db", db)
    assert listed.stdout.splitlines() == ["ann@nhs.net\tdata_manager\tpassword", "bob\tviewer\ttrusted proxy only"]
    assert cli("users", "set-role", "bob", "data_manager", "--db", db).exit_code == 0
    assert cli("users", "remove", "ann@nhs.net", "--db", db).exit_code == 0
    assert cli("users", "list", "--db", db).stdout.splitlines() == ["bob\tdata_manager\ttrusted proxy only"]


@pytest.mark.parametrize("args, stdin, says", [
    (["users", "add", "ann", "--password-stdin"], "short\n", "at least 12 characters"),
    (["users", "add", "ann", "--role", "admin", "--no-password"], None, "choose viewer or data_manager"),
    (["users", "add", "ann'; drop table users; --", "--no-password"], None, "use 1 to 128 letters"),
    (["users", "set-role", "nobody", "viewer"], None, "does not exist"),
])
def test_users_refuses_bad_names_roles_and_passwords_in_words(db, args, stdin, says):
    result = cli(*args, "--db", db, stdin=stdin)
    assert result.exit_code in (1, 2) and says in result.output.replace("\n", " ")


def test_passwords_are_stored_as_argon2id_hashes_and_checked(db):
    warehouse = Warehouse(db)
    accounts.add_user(warehouse, "ann", "viewer", "correct horse battery")
    stored = warehouse.query("select password_hash from users").password_hash[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert accounts.authenticate(warehouse, "ann", "correct horse battery").role == "viewer"
    assert accounts.authenticate(warehouse, "ann", "wrong horse battery") is None
    assert accounts.authenticate(warehouse, "nobody", "correct horse battery") is None
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.add_user(warehouse, "ann", "viewer", "another long password")
    warehouse.dispose()


def test_a_read_only_server_journals_events_that_the_next_writer_moves_into_the_table(db, tmp_path):
    writer = Warehouse(db)
    audit.record(writer, "sign_in", "ok", user="ann", address="127.0.0.1", details={"how": "password"})
    writer.dispose()
    reader = Warehouse(db, read_only=True)
    audit.record(reader, "download", "requested", user="ann", address="127.0.0.1",
                 details={"figure": "coverage-stage-reach", "format": "csv"})
    journal = tmp_path / "w.audit.jsonl"
    assert len(journal.read_text().splitlines()) == 1
    # Read beside the table before it is moved: both events, newest first.
    assert list(audit.read_events(reader)["event"]) == ["download", "sign_in"]
    reader.dispose()
    writer = Warehouse(db)
    assert audit.import_journal(writer) == 1 and not journal.exists()
    events = audit.read_events(writer)
    assert list(events["event"]) == ["download", "sign_in"]
    assert json.loads(events.details[0]) == {"figure": "coverage-stage-reach", "format": "csv"}
    writer.dispose()


def test_pathway_audit_lists_events_since_a_day(db):
    warehouse = Warehouse(db)
    with warehouse.begin() as conn:
        conn.execute(audit_log.insert().values(event_id="old", occurred_at=dt.datetime(2020, 5, 1, 9, 30),
                                               user_name="old-user", event="sign_in", outcome="failed",
                                               details="{}"))
    audit.record(warehouse, "upload", "loaded", user="ann", address="10.0.0.1",
                 details={"file_name": "activity.csv"})
    warehouse.dispose()
    recent = cli("audit", "--since", "2021-01-01", "--format", "csv", "--db", db)
    assert recent.exit_code == 0
    lines = recent.stdout.splitlines()
    assert lines[0] == "occurred_at,user_name,address,event,outcome,details"
    assert len(lines) == 2 and ",ann,10.0.0.1,upload,loaded," in lines[1] and "activity.csv" in lines[1]
    everything = cli("audit", "--format", "csv", "--db", db).stdout.splitlines()
    assert everything[-1].startswith("2020-05-01 09:30:00,old-user,,sign_in,failed,")
    assert cli("audit", "--since", "May 2020", "--db", db).exit_code == 2


def test_a_reference_replacement_is_audited_under_the_operating_system_user(db, tmp_path):
    import getpass

    from pathway.resources import reference_dir

    source = reference_dir() / "prevalence.csv"
    assert cli("reference", "replace", "prevalence", source, "--db", db).exit_code == 0
    warehouse = Warehouse(db)
    event = audit.read_events(warehouse).iloc[0]
    assert (event.event, event.outcome, event.user_name, event.address) == (
        "reference_replace", "ok", getpass.getuser(), "command line")
    assert json.loads(event.details)["table"] == "prevalence"
    warehouse.dispose()


def test_accounts_and_the_audit_log_work_on_both_engines(warehouse_url):
    warehouse = Warehouse(warehouse_url)
    warehouse.ensure_schema()
    accounts.add_user(warehouse, "ann", "data_manager", "correct horse battery")
    accounts.set_role(warehouse, "ann", "viewer")
    assert accounts.authenticate(warehouse, "ann", "correct horse battery").role == "viewer"
    audit.record(warehouse, "sign_in", "ok", user="ann", address="127.0.0.1", details={"how": "password"})
    audit.record(warehouse, "report", "requested", user="ann", address="127.0.0.1", details={"format": "pdf"})
    today = dt.datetime.now(dt.timezone.utc).date()
    events = audit.read_events(warehouse, today)
    assert list(events["event"]) == ["report", "sign_in"] and list(events["user_name"]) == ["ann", "ann"]
    assert audit.read_events(warehouse, today + dt.timedelta(days=1)).empty
    warehouse.dispose()
