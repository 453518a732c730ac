"""The contract's row rules as set-based DuckDB SQL over the staging table.

Everything here runs in DuckDB (the warehouse itself, or a private in-memory DuckDB when the
warehouse is PostgreSQL). Identifiers in the SQL come only from the contract declarations
and the staging columns c0, c1, ...; file values and risk-factor names are bound.
The lookups the rules need are the load_* relations made by the loader (see LOOKUPS).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pathway import schema
from pathway.ingest.contract import (EARLIEST_DATE, FALSE_WORDS, OUTCOME_IF_BORN, OUTCOME_IF_NOT_BORN,
                                     OUTCOMES_WITH_BIRTH, TRUE_WORDS, Field, TableContract)
from pathway.ingest.reading import STAGED_ROWS, STAGING

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"]

# Portable SELECTs (they run on DuckDB and PostgreSQL alike) for what validation looks up.
LOOKUPS = {
    "load_codes": ("SELECT code_list, lower(code) AS code_key, canonical FROM ref_codes "
                   "UNION ALL SELECT 'service', lower(service), service FROM ref_services "
                   "UNION ALL SELECT 'instrument', lower(instrument), instrument FROM ref_instruments"),
    "load_services": "SELECT service, default_tier FROM ref_services",
    "load_instruments": "SELECT instrument, min_score, max_score FROM ref_instruments",
    "load_known_areas": "SELECT DISTINCT area_code FROM areas",
    # Every pregnancy in cohort (a row of one that is not waits for it) with its number of
    # babies (contract v1.1: a contact or score names one of them): one lookup, so the rows
    # are joined to the cohort once, not once for each (0.6 s of CPU on ten million rows).
    "load_pregnancies": "SELECT pregnancy_id, max(number_of_babies) AS number_of_babies "
                        "FROM cohort GROUP BY pregnancy_id",
}


@dataclass
class ColumnPlan:
    """How a file's columns map onto one contract table."""

    contract: TableContract
    staged: dict[str, str]                       # contract column -> staging column (c3)
    risk_factors: list[tuple[str, str]] = field(default_factory=list)  # (rf_name, c7)
    ignored: list[str] = field(default_factory=list)


def _name(identifier: str) -> str:
    """Guard: only contract names and staging columns ever reach SQL text."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", identifier):
        raise ValueError(f"not an allowed SQL identifier: {identifier!r}")
    return identifier


def _literal(constant: str) -> str:
    """A constant from the contract (a code list name, a default code) as an SQL literal."""
    if not re.fullmatch(r"[A-Za-z0-9_ ]+", constant):
        raise ValueError(f"not an allowed SQL constant: {constant!r}")
    return f"'{constant}'"


def _literal_format(date_format: str) -> str:
    if not re.fullmatch(r"[%A-Za-z0-9/: -]+", date_format):
        raise ValueError(f"not an allowed date format: {date_format!r}")
    return f"'{date_format}'"


def _quoted(expr: str) -> str:
    """SQL building the text 'value' for a reason."""
    return f"'''' || {expr} || ''''"


def _number_text(expr: str) -> str:
    """0.0 reads as 0 in a message; 2.5 stays 2.5."""
    return (f"CASE WHEN {expr} = floor({expr}) THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR) "
            f"ELSE CAST({expr} AS VARCHAR) END")


# ---- the NHS-number guard (contract section 3) ----------------------------------------

def nhs_number_sql(plan: ColumnPlan) -> str | None:
    """First value in pregnancy_id/person_id that is 10 digits with a valid modulus-11 check digit."""
    candidates = []
    for column in ("pregnancy_id", "person_id"):
        staged = plan.staged.get(column)
        if staged:
            # staged text is trimmed; only 10 characters or more can hold 10 digits
            candidates.append(
                f"SELECT line_number, {_literal(column)} AS column_name, "
                f"translate({_name(staged)}, ' -', '') AS digits "
                f"FROM {STAGING} WHERE length({_name(staged)}) >= 10")
    if not candidates:
        return None
    # Weights 10..2 on the first nine digits; check = 11 - (sum mod 11), 11 -> 0, 10 invalid
    # (a 10 never equals a digit, so such numbers drop out by themselves).
    return f"""
        WITH candidate AS ({' UNION ALL '.join(candidates)}),
        ten_digit AS (SELECT * FROM candidate
                      WHERE length(digits) = 10 AND regexp_full_match(digits, '[0-9]{{10}}')),
        checked AS (
            SELECT *, 11 - (list_sum(list_transform(range(9),
                        lambda i: (ascii(digits[i + 1]) - 48) * (10 - i))) % 11) AS check_digit
            FROM ten_digit)
        SELECT line_number, column_name, digits, count(*) OVER () AS how_many
        FROM checked
        WHERE (CASE WHEN check_digit = 11 THEN 0 ELSE check_digit END) = ascii(digits[10]) - 48
        ORDER BY line_number, column_name
        LIMIT 1"""


# ---- the checked view: raw text and typed value of every contract column ---------------

def _typed(f: Field, raw: str) -> str:
    if f.kind == "text":
        return raw
    if f.kind == "date":
        # a view cannot hold bound parameters: the formats are this module's constants
        formats = ", ".join(_literal_format(fmt) for fmt in DATE_FORMATS)
        return f"CAST(try_strptime({raw}, [{formats}]) AS DATE)"
    if f.kind == "integer":
        return (f"CASE WHEN regexp_full_match({raw}, '[+-]?[0-9]{{1,9}}(\\.0*)?') "
                f"THEN CAST(CAST({raw} AS DOUBLE) AS INTEGER) END")
    if f.kind == "number":
        return (f"CASE WHEN isfinite(try_cast({raw} AS DOUBLE)) "
                f"THEN try_cast({raw} AS DOUBLE) END")
    if f.kind == "code":
        return f"code_{f.name}.canonical"   # NULL when blank or not a known code
    raise ValueError(f"unknown kind {f.kind}")


def _boolean(raw: str) -> str:
    true = ", ".join(_literal(w) for w in TRUE_WORDS)
    false = ", ".join(_literal(w) for w in FALSE_WORDS)
    return (f"CASE WHEN lower({raw}) IN ({true}) THEN true "
            f"WHEN lower({raw}) IN ({false}) THEN false END")


def needs_pregnancies(contract: TableContract) -> bool:
    """Whether the rules look a row's pregnancy up in cohort (load_pregnancies)."""
    return bool(contract.waiting_table) or "infant_of_pregnancy" in contract.extra_rules


def checked_sql(plan: ColumnPlan, *, only_problems: bool = False) -> str:
    """CREATE the load_checked view: raw_* text and typed columns of every staged row.

    A view, not a table: valid_sql reads it once for every row, and copying ten million rows
    of text costs more than the joins. only_problems: the load_checked_problems view, of the
    rows load_valid found a problem in (their lines picked before the joins)."""
    contract = plan.contract
    raw_columns = ["line_number"]
    for f in contract.fields:
        staged = plan.staged.get(f.name)
        raw_columns.append(f"{_name(staged) if staged else 'CAST(NULL AS VARCHAR)'} "
                           f"AS raw_{_name(f.name)}")
    select, joins = ["raw.*"], []
    for f in contract.fields:
        select.append(f"{_typed(f, f'raw_{f.name}')} AS {_name(f.name)}")
        if f.kind == "code":
            joins.append(f"LEFT JOIN load_codes code_{f.name} ON code_{f.name}.code_list = "
                         f"{_literal(f.code_list)} AND code_{f.name}.code_key = lower(raw_{f.name})")
    if contract.name == "activity":
        joins.append("LEFT JOIN load_services service_tier ON service_tier.service = code_service.canonical")
        select.append("service_tier.default_tier")
    if "known_area" in contract.extra_rules:
        joins.append("LEFT JOIN load_known_areas known_area ON known_area.area_code = raw_area_code")
        select.append("known_area.area_code IS NOT NULL AS area_known")
    if "score_in_instrument_range" in contract.extra_rules:
        joins.append("LEFT JOIN load_instruments instrument_range "
                     "ON instrument_range.instrument = code_instrument.canonical")
        select += ["instrument_range.min_score", "instrument_range.max_score"]
    if needs_pregnancies(contract):
        joins.append("LEFT JOIN load_pregnancies pregnancy ON pregnancy.pregnancy_id = raw_pregnancy_id")
    if "infant_of_pregnancy" in contract.extra_rules:
        select.append("coalesce(pregnancy.number_of_babies, 1) AS babies_of_pregnancy")
    if contract.waiting_table:
        select.append("pregnancy.pregnancy_id IS NOT NULL AS pregnancy_known")
    for i, (_, staged) in enumerate(plan.risk_factors):
        raw_columns.append(f"{_name(staged)} AS raw_rf_{i}")
        select.append(f"{_boolean(f'raw_rf_{i}')} AS rf_{i}")
    lines = (" WHERE line_number IN (SELECT line_number FROM load_valid WHERE has_problem)"
             if only_problems else "")
    body = (f"WITH raw AS (SELECT {', '.join(raw_columns)} FROM {STAGING}{lines}) "
            f"SELECT {', '.join(select)} FROM raw {' '.join(joins)}")
    name = "load_checked_problems" if only_problems else "load_checked"
    return f"CREATE OR REPLACE TEMP VIEW {name} AS " + body


def _takes_service_tier(contract: TableContract, f: Field) -> bool:
    """Activity's tier: the file's override, else the service's default tier (ref_services)."""
    return contract.name == "activity" and f.name == "tier"


def final_columns(plan: ColumnPlan) -> list[tuple[str, str]]:
    """(column, expression over load_checked) for the target table, blanks given their default."""
    contract = plan.contract
    target = schema.metadata.tables[contract.name]
    out = []
    for column in target.columns:
        f = contract.field(column.name)
        expression = f.name
        if f.default:
            default = str(int(f.default)) if f.kind == "integer" else _literal(f.default)
            expression = f"coalesce({f.name}, {default})"
        if _takes_service_tier(contract, f):
            expression = "coalesce(tier, default_tier)"
        if contract.name == "cohort" and f.name == "outcome":
            expression = (f"coalesce(outcome, CASE WHEN birth_date IS NOT NULL "
                          f"THEN {_literal(OUTCOME_IF_BORN)} ELSE {_literal(OUTCOME_IF_NOT_BORN)} END)")
        out.append((column.name, expression))
    return out


# ---- the rules: one UNION ALL of per-rule reject queries over the rows with a problem ----

# A NUL byte (character 0) cannot be stored in PostgreSQL text: its row is quarantined, and the
# rejects table shows it as NUL_SHOWN_AS so nothing holding one reaches the warehouse.
_NUL_WORDS = " holds a NUL byte (character 0, shown as <NUL>), which no database text can store"
NUL_SHOWN_AS = "<NUL>"

_NOT_VALID = {
    "date": "is not a date",
    "integer": "is not a whole number",
    "number": "is not a number",
    "code": None,
}


def _rules(plan: ColumnPlan, day_of_loading: dt.date) -> tuple[list[tuple[str, str, str, str]], dict]:
    """Every row rule as (column_sql, value_sql, reason_sql, where) over load_checked, and the
    parameters they bind.

    Dates are checked against the day of loading (contract 7.2): before 1900 is implausible,
    an event after that day has not happened yet, an edd may lie a set number of days ahead."""
    contract = plan.contract
    params: dict = {}
    rules: list[tuple[str, str, str, str]] = []   # (column_sql, value_sql, reason_sql, where)
    for f in contract.fields:
        raw, col = f"raw_{f.name}", _literal(f.name)
        rules.append((col, raw, f"{_quoted(raw)} || '{_NUL_WORDS}'", f"contains({raw}, chr(0))"))
        if f.required:
            rules.append((col, "CAST(NULL AS VARCHAR)", "'blank, but a value is required'",
                          f"{raw} IS NULL"))
        if f.kind in _NOT_VALID:
            words = _NOT_VALID[f.kind] or f"is not a known {f.name.replace('_', ' ')}"
            rules.append((col, raw, f"{_quoted(raw)} || ' {words}'",
                          f"{raw} IS NOT NULL AND {f.name} IS NULL"))
        if f.low is not None and f.high is not None:
            rules.append((col, raw, f"{_quoted(raw)} || ' is outside {int(f.low)} to {int(f.high)}'",
                          f"{f.name} IS NOT NULL AND ({f.name} < {int(f.low)} "
                          f"OR {f.name} > {int(f.high)})"))
        if f.kind == "date":
            params["earliest_date"] = EARLIEST_DATE
            rules.append((col, raw, f"{_quoted(raw)} || ' is an implausible date (before 1900)'",
                          f"{f.name} < $earliest_date"))
        if f.kind == "date" and f.days_after_loading is not None:
            latest = day_of_loading + dt.timedelta(days=f.days_after_loading)
            params[f"latest_{f.name}"] = latest
            words = ("is a date in the future (after the day of loading, "
                     f"{day_of_loading.isoformat()})" if f.days_after_loading == 0 else
                     f"is a date in the future (more than {f.days_after_loading // 7} weeks "
                     f"after the day of loading, {day_of_loading.isoformat()})")
            params[f"future_{f.name}"] = f" {words}"
            rules.append((col, raw, f"{_quoted(raw)} || $future_{_name(f.name)}",
                          f"{f.name} > $latest_{_name(f.name)}"))
    if "known_area" in contract.extra_rules:
        rules.append(("'area_code'", "raw_area_code",
                      f"{_quoted('raw_area_code')} || ' is not a known area (load it in an areas file first)'",
                      "raw_area_code IS NOT NULL AND NOT area_known"))
    if "birth_date_matches_outcome" in contract.extra_rules:
        params["outcomes_with_birth"] = list(OUTCOMES_WITH_BIRTH)
        rules.append(("'birth_date'", "raw_birth_date",
                      "'blank, but outcome is ' || outcome || ': a birth date is required'",
                      "raw_birth_date IS NULL AND list_contains($outcomes_with_birth, outcome)"))
        rules.append(("'birth_date'", "raw_birth_date",
                      f"{_quoted('raw_birth_date')} || ' given, but outcome is ' || outcome "
                      "|| ': birth_date must be blank'",
                      "raw_birth_date IS NOT NULL AND birth_date IS NOT NULL "
                      "AND NOT list_contains($outcomes_with_birth, outcome)"))
    if "score_in_instrument_range" in contract.extra_rules:
        rules.append(("'score'", "raw_score",
                      f"{_quoted('raw_score')} || ' is outside the ' || instrument || ' range ' || "
                      f"{_number_text('min_score')} || ' to ' || {_number_text('max_score')}",
                      "score IS NOT NULL AND (score < min_score OR score > max_score)"))
    if "infant_of_pregnancy" in contract.extra_rules:
        # only for pregnancies already loaded: a waiting row is checked against 1 to 8 alone
        rules.append(("'infant_number'", "raw_infant_number",
                      f"{_quoted('raw_infant_number')} || ' is more than the pregnancy''s ' || "
                      "babies_of_pregnancy || ' baby (number_of_babies in cohort)'",
                      "infant_number IS NOT NULL AND pregnancy_known "
                      "AND infant_number > babies_of_pregnancy"))
    for i, (rf_name, _) in enumerate(plan.risk_factors):
        params[f"rf_name_{i}"] = rf_name
        rules.append((f"$rf_name_{i}", f"raw_rf_{i}", f"{_quoted(f'raw_rf_{i}')} || '{_NUL_WORDS}'",
                      f"contains(raw_rf_{i}, chr(0))"))
        rules.append((f"$rf_name_{i}", f"raw_rf_{i}",
                      f"{_quoted(f'raw_rf_{i}')} || ' is not yes/no (use true/false, yes/no, y/n or 1/0)'",
                      f"raw_rf_{i} IS NOT NULL AND rf_{i} IS NULL"))
    return rules, params


# ---- code columns of the fact tables held as ENUMs while they wait to be stored -----------

CODE_TYPE_PREFIX = "load_code_"


def coded_fields(plan: ColumnPlan) -> list[Field]:
    """The code columns load_valid holds as ENUMs: those of the tables with millions of rows
    (activity, measures). Ten million rows of text codes took load_valid past DuckDB's memory
    limit, and storing them from one-byte codes is cheaper too (that insert 4.7 -> 4.2 s)."""
    if not plan.contract.waiting_table:
        return []
    return [f for f in plan.contract.fields if f.kind == "code"]


def code_types_sql(plan: ColumnPlan) -> list[str]:
    """CREATE a temporary ENUM type per coded column, of every value final_columns can give it:
    the code list's canonical codes, the column's default, and (activity's tier) the services'
    default tiers. An ENUM refuses a value it does not list, so these are all of them."""
    out = []
    for f in coded_fields(plan):
        members = [f"SELECT canonical FROM load_codes WHERE code_list = {_literal(f.code_list)} "
                   "AND canonical IS NOT NULL"]
        if f.default:
            members.append(f"SELECT {_literal(f.default)}")
        if _takes_service_tier(plan.contract, f):
            members.append("SELECT default_tier FROM load_services WHERE default_tier IS NOT NULL")
        out.append(f"CREATE OR REPLACE TEMP TYPE {CODE_TYPE_PREFIX}{_name(f.name)} AS ENUM "
                   f"({' UNION '.join(members)} ORDER BY 1)")
    return out


def valid_sql(plan: ColumnPlan, day_of_loading: dt.date) -> tuple[str, dict]:
    """CREATE load_valid: every staged row typed for its table (blanks given their default),
    with its line, whether its pregnancy is known (tables that wait for one), and whether it
    breaks any row rule (has_problem). One pass over the big view, joins and all: the rules
    then read only the rows with a problem (problems_sql), and incoming_sql drops them."""
    rules, params = _rules(plan, day_of_loading)
    any_problem = " OR ".join(f"({where})" for *_, where in rules)
    coded = {f.name for f in coded_fields(plan)}
    typed = ", ".join((f"CAST({expr} AS {CODE_TYPE_PREFIX}{_name(c)})" if c in coded else expr)
                      + f" AS {_name(c)}" for c, expr in final_columns(plan))
    known = "pregnancy_known, " if plan.contract.waiting_table else ""
    sql = (f"CREATE OR REPLACE TEMP TABLE load_valid AS SELECT {typed}, {known}line_number, "
           f"has_problem FROM (SELECT *, coalesce({any_problem}, false) AS has_problem "
           f"FROM load_checked)")
    # DuckDB refuses a parameter the statement does not use (the reasons' words are not here)
    return sql, {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}


def problems_sql(plan: ColumnPlan, day_of_loading: dt.date) -> tuple[str, dict]:
    """CREATE load_problems (line_number, column_name, value, reason, record_id), after
    valid_sql and checked_sql(only_problems=True): the rules read only the rows load_valid
    found a problem in."""
    key = plan.contract.key
    rules, params = _rules(plan, day_of_loading)
    selects = [f"SELECT line_number, {column} AS column_name, {value} AS value, {reason} AS reason, "
               f"raw_{key} AS record_id FROM bad WHERE {where}"
               for column, value, reason, where in rules]
    # Duplicate ids: the first occurrence loads, later ones are rejected naming the first line.
    staged_key = _name(plan.staged[key])
    # A grouped count finds the (usually no) repeated ids; only their rows are joined back,
    # which costs far less than a window over every row.
    selects.append(
        f"SELECT s.line_number, {_literal(key)}, s.{staged_key}, "
        f"{_quoted(f's.{staged_key}')} || ' appears again: first on line ' || d.first_line "
        f"|| ', which is the one loaded', s.{staged_key} "
        f"FROM {STAGING} s JOIN (SELECT {staged_key} AS repeated_id, min(line_number) AS first_line "
        f"FROM {STAGING} WHERE {staged_key} IS NOT NULL GROUP BY {staged_key} "
        f"HAVING count(*) > 1) d ON s.{staged_key} = d.repeated_id "
        f"WHERE s.line_number > d.first_line")
    sql = (f"CREATE OR REPLACE TEMP TABLE load_problems AS WITH bad AS MATERIALIZED "
           f"(SELECT * FROM load_checked_problems) " + " UNION ALL ".join(selects))
    return sql, params


# ---- what moves on: typed rows, waiting orphans, quarantine rows -----------------------

_REJECTED = "line_number IN (SELECT line_number FROM load_problems)"
_GOOD = f"NOT ({_REJECTED})"   # line numbers are never NULL, so NOT IN and NOT (IN) agree


def incoming_sql(plan: ColumnPlan, load_id: int, file_name: str) -> list[tuple[str, dict]]:
    """After valid_sql and problems_sql: drop the rejected rows from load_valid, then
    load_incoming (shaped like the target table), load_incoming_rf for cohort, and
    load_waiting (orphans, shaped like the waiting table) for activity and measures."""
    contract = plan.contract
    names = ", ".join(_name(c) for c, _ in final_columns(plan))
    # has_problem, and duplicate ids (in load_problems, not in has_problem): a few rows of many
    statements: list[tuple[str, dict]] = [
        (f"DELETE FROM load_valid WHERE has_problem OR {_REJECTED}", {})]
    if contract.waiting_table:
        statements.append((f"CREATE OR REPLACE TEMP VIEW load_incoming AS SELECT {names} "
                           f"FROM load_valid WHERE pregnancy_known", {}))
        statements.append((
            f"CREATE OR REPLACE TEMP TABLE load_waiting AS SELECT {names}, "
            f"CAST($load_id AS INTEGER) AS load_id, CAST($file_name AS VARCHAR) AS file_name, "
            f"CAST(line_number AS INTEGER) AS line_number FROM load_valid "
            f"WHERE NOT pregnancy_known ORDER BY line_number",
            {"load_id": load_id, "file_name": file_name}))
    else:
        statements.append((f"CREATE OR REPLACE TEMP VIEW load_incoming AS SELECT {names} "
                           f"FROM load_valid", {}))
    if contract.has_risk_factors:
        parts, params = [], {}
        key = _name(plan.staged[contract.key])
        for i, (rf_name, staged) in enumerate(plan.risk_factors):
            params[f"rf_name_{i}"] = rf_name
            parts.append(f"SELECT {key} AS pregnancy_id, CAST($rf_name_{i} AS VARCHAR) AS risk_factor, "
                         f"{_boolean(_name(staged))} AS present FROM {STAGING} "
                         f"WHERE {_name(staged)} IS NOT NULL AND {_GOOD}")
        body = " UNION ALL ".join(parts) if parts else (
            "SELECT CAST(NULL AS VARCHAR) AS pregnancy_id, CAST(NULL AS VARCHAR) AS risk_factor, "
            "CAST(NULL AS BOOLEAN) AS present WHERE false")
        statements.append((f"CREATE OR REPLACE TEMP TABLE load_incoming_rf AS {body}", params))
    return statements


def quarantine_sql(plan: ColumnPlan, load_id: int, file_name: str) -> tuple[str, dict]:
    """CREATE load_rejects shaped like the rejects table: rejected rows, then waiting ones."""
    contract = plan.contract
    waiting = ""
    if contract.waiting_table:
        waiting = (
            " UNION ALL SELECT line_number, 'pregnancy_id', pregnancy_id, "
            f"{_quoted('pregnancy_id')} || ' is not in cohort yet: the row waits and loads "
            f"when its pregnancy arrives', {contract.key}, 'waiting' FROM load_waiting")
    return (
        "CREATE OR REPLACE TEMP TABLE load_rejects AS "
        "SELECT CAST($load_id AS INTEGER) AS load_id, CAST($file_name AS VARCHAR) AS file_name, "
        f"{_literal(contract.name)} AS table_name, CAST(line_number AS INTEGER) AS line_number, "
        "column_name, replace(value, chr(0), $nul) AS value, replace(reason, chr(0), $nul) AS reason, "
        "replace(record_id, chr(0), $nul) AS record_id, status FROM ("
        "SELECT line_number, column_name, value, reason, record_id, 'rejected' AS status "
        f"FROM load_problems{waiting}) ORDER BY line_number, column_name",
        {"load_id": load_id, "file_name": file_name, "nul": NUL_SHOWN_AS})


TEMP_TABLES = ("load_problems", "load_valid", "load_incoming", "load_incoming_rf",
               "load_waiting", "load_rejects", STAGING, STAGED_ROWS)
TEMP_VIEWS = ("load_incoming", "load_checked", "load_checked_problems", STAGING)
