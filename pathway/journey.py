"""The journey tables: every event placed on the pathway, and one row per pregnancy.

`refresh(conn)` rebuilds them from the contract tables with queries/_journey.sql, in the
caller's transaction, so metrics never see a half-built journey. The loader rebuilds once
after a batch of files; `is_current` tells whether a load has landed since (metrics then
rebuild before answering).
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pathway.catalogue import named_sql, statements
from pathway.reference import read_reference_csv
from pathway.resources import reference_dir
from pathway.schema import REFERENCE_TABLES, journey_state

# What refresh builds, for checks and for the data-quality page.
DERIVED_TABLES = ("events", "journey", "journey_reach_by_service", "journey_reach", "journey_contacts",
                  "journey_baby_contacts",
                  "journey_mood_screens", "journey_service_reach", "journey_reach_measures",
                  "journey_referrals", "journey_funnel", "journey_scores", "journey_risk_flags",
                  "journey_risk_factor_names", "data_extent")
# economic_case's treatment per pregnancy and service
DERIVED_TABLES += ("journey_treatment",)
DERIVED_VIEWS = ("pregnancy_dates", "reach_measures", "area_selection", "live_births")

# One catalogue query instead of a reflection round trip per table: metrics ask before every run.
_TABLES_PRESENT = sa.text(
    "select count(distinct table_name) from information_schema.tables "
    "where table_schema = current_schema() and table_name in :names"
).bindparams(sa.bindparam("names", expanding=True))

# The ref_parameters rows the journey and metric SQL read. Without one, every event would
# silently fall outside the pathway (or a metric come back empty), so refresh refuses to run.
REQUIRED_PARAMETERS = ("conception_days_before_edd", "lmp_days_before_edd",
                       "booking_by_13_weeks_max_days", "default_follow_up_months",
                       "waiting_time_standard_days", "spc_shift_run_length",
                       "spc_trend_run_length", "perinatal_access_ambition_per_100_births",
                       "perinatal_access_months_after_birth", "perinatal_access_window_months",
                       "assessed_within_days",
                       "treated_within_days")


class JourneyError(ValueError):
    """The journey cannot be built from the reference data; the message says what to fix."""


_MAKES_EVENTS = re.compile(r"^\s*create table events as\b", re.IGNORECASE | re.MULTILINE)


def refresh(conn: Connection) -> None:
    """Rebuild the derived journey tables and views in the caller's transaction."""
    _check_reference(conn)
    dialect = conn.dialect.name
    for statement in statements(named_sql("_journey.sql", dialect)):
        conn.execute(sa.text(statement))
        if dialect == "postgresql" and _MAKES_EVENTS.search(statement):
            # PostgreSQL has no statistics for a table made in this transaction: it guessed a
            # few rows and joined referrals to contacts row by row (over 17 minutes at national
            # scale). DuckDB plans from the data itself; its ANALYZE would add 2 s to a rebuild.
            conn.execute(sa.text("analyze events"))
    indexes = named_sql("_journey_indexes.sql", dialect, required=False)
    if indexes is not None:
        for statement in statements(indexes):
            conn.execute(sa.text(statement))
    conn.execute(journey_state.delete())
    conn.execute(journey_state.insert().values(built_after_load_id=_latest_load_id(conn),
                                               built_at=dt.datetime.now()))


def is_current(conn: Connection, *, known_built: bool = False) -> bool:
    """Built, and no data has loaded since it was. known_built skips the check that every
    derived table exists (a caller that has seen them in this process)."""
    if not known_built and not is_built(conn):
        return False
    built_after, latest = conn.execute(_BUILT_AFTER_AND_LATEST_LOAD).one()
    return built_after is not None and built_after >= latest


# One round trip for both load ids: metrics ask before every run.
_BUILT_AFTER_AND_LATEST_LOAD = sa.text(
    "select (select max(built_after_load_id) from journey_state), "
    "(select coalesce(max(load_id), 0) from load_log where outcome = 'loaded')")


def _latest_load_id(conn: Connection) -> int:
    """The latest load that changed a table the journey is built from."""
    return int(conn.execute(sa.text(
        "select coalesce(max(load_id), 0) from load_log where outcome = 'loaded' "
        "and table_name in ('areas', 'cohort', 'activity', 'measures')")).scalar())


def is_built(conn: Connection) -> bool:
    """Every derived table exists (a database built by an older version lacks the newer ones)."""
    present = conn.execute(_TABLES_PRESENT, {"names": list(DERIVED_TABLES)}).scalar()
    return int(present or 0) == len(DERIVED_TABLES)


def _check_reference(conn: Connection) -> None:
    """Top up required parameters a database made before they shipped lacks, else refuse."""
    present = {row[0] for row in conn.execute(sa.text("select name from ref_parameters"))}
    missing = [name for name in REQUIRED_PARAMETERS if name not in present]
    if missing:
        shipped = read_reference_csv("parameters", reference_dir() / "parameters.csv")
        rows = shipped[shipped["name"].isin(missing)]
        if len(rows):
            conn.execute(REFERENCE_TABLES["parameters"].insert(),
                         rows.astype(object).where(rows.notna(), None).to_dict("records"))
        missing = [name for name in missing if name not in set(rows["name"])]
    if missing:
        raise JourneyError(
            "reference table ref_parameters (data/reference/parameters.csv) lacks "
            + ", ".join(repr(name) for name in missing)
            + ": the pathway stages cannot be dated without it; restore the shipped rows "
              "with `pathway reference replace parameters FILE`")
