"""The warehouse schema: contract tables, quarantine, load log, reference tables, dashboard
accounts and the audit log.

Portable DDL for DuckDB and PostgreSQL. Fact tables carry no primary-key index in DuckDB
(the loader keeps ids unique, and an index over ten million text keys costs more memory
than the load itself); PostgreSQL gets unique indexes, which its planner needs.
"""

from __future__ import annotations

from sqlalchemy import (Boolean, Column, Date, DateTime, Double, Index, Integer, LargeBinary,
                        MetaData, Table, Text)
from sqlalchemy.engine import Connection

metadata = MetaData()

# ---- contract tables (contract section 1) -------------------------------------------
areas = Table(
    "areas", metadata,
    Column("area_code", Text, primary_key=True),
    Column("area_name", Text, nullable=False),
    Column("icb_code", Text),
    Column("icb_name", Text),
    Column("region_code", Text),
    Column("region_name", Text),
)

cohort = Table(
    "cohort", metadata,
    Column("pregnancy_id", Text, nullable=False),
    Column("person_id", Text, nullable=False),
    Column("area_code", Text, nullable=False),
    Column("booking_date", Date),
    Column("edd", Date),
    Column("birth_date", Date),
    Column("outcome", Text, nullable=False),
    Column("parent_age", Integer),
    Column("ethnic_group", Text),
    Column("imd_decile", Integer),
    # contract v1.1 section 7.1 (optional columns; a v1 extract leaves them at their default)
    Column("number_of_babies", Integer, server_default="1"),
    Column("risk_identified_date", Date),
)

# rf_* flags are open-ended, so they are kept long: one row per pregnancy and flag given.
cohort_risk_factors = Table(
    "cohort_risk_factors", metadata,
    Column("pregnancy_id", Text, nullable=False),
    Column("risk_factor", Text, nullable=False),
    Column("present", Boolean),
)


def _activity_columns() -> list[Column]:
    return [
        Column("activity_id", Text, nullable=False),
        Column("pregnancy_id", Text, nullable=False),
        Column("service", Text, nullable=False),
        Column("activity_type", Text, nullable=False),
        Column("activity_date", Date, nullable=False),
        Column("contact_code", Text),
        Column("attendance", Text, nullable=False),
        Column("tier", Text, nullable=False),
        Column("referral_source", Text),
        Column("provider_code", Text),
        # contract v1.1 section 7.1
        Column("contact_mode", Text),
        Column("subject", Text, server_default="birthing_parent"),
        Column("infant_number", Integer, server_default="1"),
    ]


def _measures_columns() -> list[Column]:
    return [
        Column("measure_id", Text, nullable=False),
        Column("pregnancy_id", Text, nullable=False),
        Column("instrument", Text, nullable=False),
        Column("score", Double, nullable=False),
        Column("measure_date", Date, nullable=False),
        Column("timepoint", Text, nullable=False),
        Column("service", Text),
        Column("infant_number", Integer, server_default="1"),  # contract v1.1
    ]


activity = Table("activity", metadata, *_activity_columns())
measures = Table("measures", metadata, *_measures_columns())


# ---- quarantine: orphans wait here until their pregnancy arrives (contract section 3) ----
def _waiting_columns() -> list[Column]:
    return [Column("load_id", Integer), Column("file_name", Text), Column("line_number", Integer)]


waiting_activity = Table("waiting_activity", metadata, *_activity_columns(), *_waiting_columns())
waiting_measures = Table("waiting_measures", metadata, *_measures_columns(), *_waiting_columns())

rejects = Table(
    "rejects", metadata,
    Column("load_id", Integer, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("table_name", Text),
    Column("line_number", Integer),
    Column("column_name", Text),
    Column("value", Text),
    Column("reason", Text, nullable=False),
    Column("record_id", Text),
    Column("status", Text, nullable=False),  # rejected | waiting | released
)

load_log = Table(
    "load_log", metadata,
    Column("load_id", Integer, primary_key=True, autoincrement=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", Text),
    Column("table_name", Text),
    Column("rows_read", Integer),
    Column("rows_loaded", Integer),
    Column("rows_replaced", Integer),
    Column("rows_unchanged", Integer),
    Column("rows_rejected", Integer),
    Column("rows_waiting", Integer),
    Column("rows_released", Integer),
    Column("ignored_columns", Text),
    Column("encoding", Text),
    Column("delimiter", Text),
    Column("started_at", DateTime),
    Column("ended_at", DateTime),
    Column("outcome", Text, nullable=False),  # loaded | refused
    Column("message", Text),
)

# Which load the journey tables were last rebuilt after (pathway.journey): metrics rebuild
# them when a later load has landed, e.g. after a batch killed between commit and rebuild.
journey_state = Table(
    "journey_state", metadata,
    Column("built_after_load_id", Integer, nullable=False),
    Column("built_at", DateTime),
    Column("journey_sql", Text),  # fingerprint of the SQL it was built with
)

# What the loads since that rebuild changed (pathway.journey.refresh_after_load rebuilds only
# these pregnancies): each load records the pregnancies whose rows it added, replaced or moved,
# and its own id, in its transaction, so a rebuild knows whether the list is complete.
journey_pending = Table(
    "journey_pending", metadata,
    Column("pregnancy_id", Text, nullable=False),
)
journey_pending_loads = Table(
    "journey_pending_loads", metadata,
    Column("load_id", Integer, nullable=False),
)

# Metric answers worked out after a load for the views' first requests (pathway.answers), keyed
# by the data version they were computed from: a later load makes them invisible at once.
metric_answers = Table(
    "metric_answers", metadata,
    Column("data_version", Text, primary_key=True),
    Column("metric", Text, primary_key=True),
    Column("params_key", Text, primary_key=True),
    Column("payload", LargeBinary, nullable=False),  # the answer as Parquet
)

# ---- reference tables (data/reference/*.csv, each row with its source) ----------------
REFERENCE_TABLES: dict[str, Table] = {}


def _reference(name: str, *columns: Column) -> Table:
    table = Table(f"ref_{name}", metadata, *columns, Column("source", Text))
    REFERENCE_TABLES[name] = table
    return table


_reference(
    "stages",
    Column("stage", Text, primary_key=True),
    Column("sort_order", Integer, nullable=False),
    Column("start_anchor", Text, nullable=False),   # conception | birth
    Column("start_offset_days", Integer, nullable=False),
    Column("end_anchor", Text, nullable=False),
    Column("end_offset_days", Integer, nullable=False),
    Column("label", Text),
)
_reference(
    "services",
    Column("service", Text, primary_key=True),
    Column("default_tier", Text, nullable=False),
    Column("label", Text),
)
_reference(
    "codes",
    Column("code_list", Text, primary_key=True),
    Column("code", Text, primary_key=True),
    Column("canonical", Text, nullable=False),
    Column("label", Text),
)
_reference(
    "instruments",
    Column("instrument", Text, primary_key=True),
    Column("label", Text),
    Column("min_score", Double, nullable=False),
    Column("max_score", Double, nullable=False),
    Column("case_threshold", Double),
    Column("higher_is_better", Boolean, nullable=False),
    Column("reliable_change", Double),
    Column("is_mood_screen", Boolean, nullable=False),
    Column("status", Text),  # sourced | check | not confirmed (contract v1.1)
)
_reference(
    "contact_windows",
    Column("contact_code", Text, primary_key=True),
    Column("source_contact_code", Text, nullable=False),
    Column("window_start_anchor", Text, nullable=False),  # edd | birth
    Column("window_start_offset_days", Integer, nullable=False),
    Column("window_end_anchor", Text, nullable=False),
    Column("window_end_offset_days", Integer, nullable=False),
    Column("follow_up_days", Integer, nullable=False),
    Column("sort_order", Integer),
    Column("label", Text),
)
_reference(
    "parameters",
    Column("name", Text, primary_key=True),
    Column("value", Double, nullable=False),
    Column("unit", Text),
    Column("description", Text),
    Column("status", Text),  # sourced | check | illustrative
)
_reference(
    "prevalence",
    Column("condition", Text, primary_key=True),
    Column("per_1000_low", Double, nullable=False),
    Column("per_1000_mid", Double, nullable=False),
    Column("per_1000_high", Double, nullable=False),
    Column("care_level", Text),
    Column("specialist_need", Boolean, nullable=False),
    Column("cost_condition", Text),  # the ref_costs row that prices a case, if any
    Column("label", Text),
    Column("status", Text),
)
_reference(
    "costs",
    Column("condition", Text, primary_key=True),
    Column("cost_per_case", Double, nullable=False),
    Column("mother_cost", Double),
    Column("child_cost", Double),
    Column("public_sector_cost", Double),
    Column("price_year", Text, nullable=False),
    Column("treating_tier", Text),
    Column("label", Text),
    Column("status", Text),
)
_reference(
    "unit_costs",
    Column("item", Text, primary_key=True),
    Column("unit", Text),
    Column("cost", Double, nullable=False),
    Column("price_year", Text, nullable=False),
    Column("label", Text),
    Column("status", Text),
)
_reference(
    "deflators",
    Column("price_year", Text, primary_key=True),
    Column("index_value", Double, nullable=False),
    Column("status", Text),
)
# Equity groups: which values fall in each group of a dimension (an IMD decile range, an age
# range, a count of risk factors present, or the ethnic group itself) and the reference group.
_reference(
    "equity_groups",
    Column("dimension", Text, primary_key=True),
    Column("group_name", Text, primary_key=True),
    Column("sort_order", Integer, nullable=False),
    Column("min_value", Double),   # blank: no lower bound
    Column("max_value", Double),   # blank: no upper bound
    Column("is_reference", Boolean, nullable=False),
    Column("label", Text),
)
# A commissioner's own reach standard for a stage and tier; service_gaps uses it instead of the
# median of all areas. Shipped empty: there is no published standard per stage and tier.
_reference(
    "reach_standards",
    Column("stage", Text, primary_key=True),
    Column("tier", Text, primary_key=True),
    Column("standard_pct", Double, nullable=False),
    Column("label", Text),
)
# Which published measure means which catalogue figure (pathway.published reads it).
_reference(
    "benchmark_map",
    Column("figure", Text, primary_key=True),
    Column("layout", Text, nullable=False),       # msds | fingertips
    Column("indicator", Text),                     # MSDS Dimension or Fingertips indicator id
    Column("indicator_name_contains", Text),       # Fingertips: match by name when no id
    Column("measures", Text),                      # MSDS: categories summed as the numerator (|)
    Column("excluded", Text),                      # MSDS: categories left out of the denominator (|)
    Column("metric", Text, nullable=False),        # catalogue figure: metric.column or metric.code
    Column("category", Text),                      # the group within the figure (equity groups)
    Column("label", Text),
)

# The economic case's conditions as Bauer et al. (2014) costed them (economic_case, contract
# v1.1 section 7.3): each with its prevalence and, when costed, the ref_costs row pricing it.
# A condition with no cost_condition is listed as not costed, never priced with another's cost.
_reference(
    "economic_conditions",
    Column("condition", Text, primary_key=True),
    Column("sort_order", Integer, nullable=False),
    Column("label", Text),
    Column("per_1000_low", Double, nullable=False),
    Column("per_1000_mid", Double, nullable=False),
    Column("per_1000_high", Double, nullable=False),
    Column("prevalence_basis", Text),              # bauer_2014 | jcpmh_2012 | ...
    Column("cost_condition", Text),                # the ref_costs row; blank = not costed
    Column("status", Text),                        # confirmed | secondary | check | assumption
)
# Which services treat which economic_case condition: `treated` counts women with an attended
# assessment or intervention of one of them (not screening, not universal contacts).
_reference(
    "condition_services",
    Column("condition", Text, primary_key=True),
    Column("service", Text, primary_key=True),
    Column("status", Text),
    Column("rationale", Text),
)

# ---- published benchmarks (contract section 5 `benchmarks`; pathway.published loads them) --
benchmarks = Table(
    "benchmarks", metadata,
    Column("metric", Text, nullable=False),
    Column("category", Text, nullable=False),      # '' for the whole population
    Column("population", Text, nullable=False),    # published sex/age, '' when not given
    Column("source_file", Text, nullable=False),
    Column("layout", Text),
    Column("period", Text, nullable=False),
    Column("org_level", Text, nullable=False),     # national | region | provider | area
    Column("org_code", Text, nullable=False),
    Column("org_name", Text),
    Column("indicator_id", Text),
    Column("indicator_name", Text),
    Column("numerator", Double),
    Column("denominator", Double),
    Column("pct", Double),
    Column("ci_low", Double),
    Column("ci_high", Double),
    Column("ci_method", Text),                     # wilson | published
    Column("value", Double),                        # the published value as given
    Column("suppressed", Boolean, nullable=False),
    Column("missing_excluded", Double),             # published count left out of the denominator
    Column("note", Text),
    Column("load_id", Integer),
)

# ---- dashboard accounts and the audit log (pathway.accounts, pathway.audit) ------------
# password_hash is an argon2id hash (argon2-cffi); it is empty for an account that signs in only
# through the trusted reverse proxy. role: viewer | data_manager.
users = Table(
    "users", metadata,
    Column("user_name", Text, primary_key=True),
    Column("password_hash", Text),
    Column("role", Text, nullable=False),
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
)

# Who did what and when: sign-ins and failures, uploads, downloads, reports, reference changes.
# occurred_at is UTC; details is a JSON object of the event's parameters (never a password).
audit_log = Table(
    "audit_log", metadata,
    Column("event_id", Text, primary_key=True),
    Column("occurred_at", DateTime, nullable=False),
    Column("user_name", Text),
    Column("address", Text),
    Column("event", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("details", Text),
)

# PostgreSQL-only indexes (see module docstring).
_PG_INDEXES = [
    Index("ux_cohort_id", cohort.c.pregnancy_id, unique=True),
    Index("ix_cohort_area", cohort.c.area_code),
    Index("ux_activity_id", activity.c.activity_id, unique=True),
    Index("ix_activity_pregnancy", activity.c.pregnancy_id),
    Index("ux_measures_id", measures.c.measure_id, unique=True),
    Index("ix_measures_pregnancy", measures.c.pregnancy_id),
    Index("ix_rf_pregnancy", cohort_risk_factors.c.pregnancy_id),
]
for _index in _PG_INDEXES:
    _index.table.indexes.discard(_index)


# Columns added by contract v1.1: a warehouse made by v1 gets them, with their defaults.
_ADDED_COLUMNS = {
    "cohort": ("number_of_babies integer default 1", "risk_identified_date date"),
    "activity": ("contact_mode text", "subject text default 'birthing_parent'",
                 "infant_number integer default 1"),
    "waiting_activity": ("contact_mode text", "subject text default 'birthing_parent'",
                         "infant_number integer default 1"),
    "measures": ("infant_number integer default 1",),
    "waiting_measures": ("infant_number integer default 1",),
    "ref_instruments": ("status text",),
    "journey_state": ("journey_sql text",),
}


def _add_missing_columns(conn: Connection) -> None:
    # identifiers and types are this module's constants, never input
    found = conn.exec_driver_sql(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = current_schema()").fetchall()
    for table, definitions in _ADDED_COLUMNS.items():
        present = {column for name, column in found if name == table}
        for definition in definitions:
            if definition.split()[0] not in present:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {definition}")


def create_all(conn: Connection) -> None:
    """Create every missing table and column (and, on PostgreSQL, its indexes). Idempotent."""
    metadata.create_all(conn, checkfirst=True)
    _add_missing_columns(conn)
    if conn.dialect.name == "postgresql":
        for index in _PG_INDEXES:
            index.create(conn, checkfirst=True)


def drop_all(conn: Connection) -> None:
    metadata.drop_all(conn, checkfirst=True)


CONTRACT_TABLES = ("areas", "cohort", "activity", "measures")
