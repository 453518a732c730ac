"""run_metric's parameters: defaults, areas and ICBs, people-facing errors, disclosure on the way out."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from metric_fixtures import (ALPHA, BETA, GAMMA, ICB_AB, LATEST_ACTIVITY, PERIOD,  # noqa: F401
                             build_warehouse, fixture_warehouse)
from pathway import catalogue
from pathway.metrics import MetricError, describe_metric, list_metrics, resolve_parameters, run_metric


# ---- defaults -------------------------------------------------------------------------
def test_as_at_defaults_to_the_latest_activity_date(fixture_warehouse):
    binds = resolve_parameters(fixture_warehouse, catalogue.METRICS["births"], {})
    assert binds["as_at"] == LATEST_ACTIVITY == dt.date(2024, 7, 14)
    # one default period for every metric (births too): it ends where the whole pathway
    # (365 days) is complete, 2024-07-14 - 365 days = 2023-07-15, and runs back 12 months
    assert (binds["date_from"], binds["date_to"]) == (dt.date(2022, 7, 16), dt.date(2023, 7, 15))
    assert binds["area"] == "all"


def test_default_period_ends_when_follow_up_is_complete(fixture_warehouse):
    binds = resolve_parameters(fixture_warehouse, catalogue.METRICS["stage_reach"], {})
    # 2024-07-14 - 365 days = 2023-07-15 (2024 has 29 February); from = to - 12 months + 1 day
    assert (binds["date_from"], binds["date_to"]) == (dt.date(2022, 7, 16), dt.date(2023, 7, 15))
    assert binds["follow_up_days"] == 365


def test_mandated_contacts_default_period_is_the_pathway_period(fixture_warehouse):
    binds = resolve_parameters(fixture_warehouse, catalogue.METRICS["mandated_contacts"],
                               {"as_at": "2024-12-31"})
    # the same period as every metric: 2024-12-31 - 365 days = 2024-01-01 (2024 is a leap
    # year); births too recent for the 15-month review leave only that contact's denominator
    assert binds["date_to"] == dt.date(2024, 1, 1)
    assert binds["date_from"] == dt.date(2023, 1, 2)


def test_stage_reach_with_defaults_uses_the_births_with_complete_follow_up(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "stage_reach", {"area": ALPHA}, suppress=False)
    # births 2022-07-16..2023-07-15: P1 and P2 (P3 was born in November)
    assert set(frame.cohort) == {2}


# ---- areas ----------------------------------------------------------------------------
def test_one_area_gives_only_its_rows(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "specialist_access", {**PERIOD, "area": BETA},
                       suppress=False)
    assert list(frame.area_code) == [BETA]


def test_icb_code_gives_one_row_summed_over_its_areas(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "specialist_access", {**PERIOD, "area": ICB_AB},
                       suppress=False)
    # Alpha 3 + Beta 2 live births with complete follow-up; one access (P1)
    assert frame[["area_code", "live_births", "accessed"]].values.tolist() == [[ICB_AB, 5, 1]]


def test_icb_of_areas_without_events_still_has_its_row(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "mood_screening", {**PERIOD, "area": "QBB"},
                       suppress=False)
    assert frame[["area_code", "stage", "screened", "cohort"]].values.tolist() == [
        ["QBB", "antenatal", 0, 0], ["QBB", "postnatal", 0, 0]]


def test_all_gives_one_row_per_area(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "specialist_access", PERIOD, suppress=False)
    assert list(frame.area_code) == [ALPHA, BETA, GAMMA]


# ---- errors for people ----------------------------------------------------------------
def test_unknown_area_is_named(fixture_warehouse):
    with pytest.raises(MetricError, match="unknown area 'E09999999'"):
        run_metric(fixture_warehouse, "stage_reach", {"area": "E09999999"})


def test_bad_date_is_named_with_its_parameter(fixture_warehouse):
    with pytest.raises(MetricError, match=r"from='31/02/2024' is not a date"):
        run_metric(fixture_warehouse, "stage_reach", {"from": "31/02/2024"})


def test_from_after_to_is_refused(fixture_warehouse):
    with pytest.raises(MetricError, match="from 2024-02-01 is after to 2024-01-01"):
        run_metric(fixture_warehouse, "births", {"from": "2024-02-01", "to": "2024-01-01"})


def test_unknown_parameter_is_refused_with_the_ones_accepted(fixture_warehouse):
    with pytest.raises(MetricError, match="unknown parameter 'region'.*area, from, to, as_at"):
        run_metric(fixture_warehouse, "stage_reach", {"region": "north"})


def test_choice_parameter_outside_its_choices_is_refused(fixture_warehouse):
    with pytest.raises(MetricError, match="grain='week' is not one of whole, month, quarter, year"):
        run_metric(fixture_warehouse, "births", {"grain": "week"})


def test_unknown_metric_is_refused(fixture_warehouse):
    with pytest.raises(MetricError, match="unknown metric 'reach'"):
        run_metric(fixture_warehouse, "reach")


def test_metric_error_is_a_value_error():
    assert issubclass(MetricError, ValueError)


# ---- disclosure on the way out --------------------------------------------------------
def test_suppressed_output_hides_small_counts_and_their_percentages(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "stage_reach", {**PERIOD, "area": ALPHA})
    antenatal = frame[(frame.stage == "antenatal") & (frame.tier == "universal")].iloc[0]
    # 2 reached of 3: both counts are 1..7, so hidden, and the percentage with them
    assert pd.isna(antenatal.reached) and pd.isna(antenatal.cohort)
    assert pd.isna(antenatal.pct) and pd.isna(antenatal.ci_low)
    zero = frame[(frame.stage == "antenatal") & (frame.tier == "specialist")].iloc[0]
    assert zero.reached == 0  # zero is shown: it discloses nobody


def test_unsuppressed_output_keeps_exact_counts(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "stage_reach", {**PERIOD, "area": ALPHA}, suppress=False)
    assert frame.reached.sum() == 11  # 1+0+0 + 2+1+0 + 3+0+1 + 2+0+1


def test_wilson_interval_is_added_from_unrounded_counts(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "mood_screening", {**PERIOD, "area": ALPHA},
                       suppress=False)
    postnatal = frame[frame.stage == "postnatal"].iloc[0]
    # 3 of 4, Wilson 95%: (30.06%, 95.44%) (e.g. PHEindicatormethods::phe_proportion)
    assert postnatal.ci_low == pytest.approx(30.0642, abs=1e-3)
    assert postnatal.ci_high == pytest.approx(95.4413, abs=1e-3)


# ---- the catalogue as the CLI and dashboard see it -----------------------------------
def test_list_metrics_in_catalogue_order():
    names = [metric.name for metric in list_metrics()]
    assert names[:4] == ["births", "stage_reach", "mandated_contacts", "mood_screening"]


def test_describe_metric_names_its_sql_and_parameters():
    description = describe_metric("specialist_access")
    assert description["sql_file"] == "queries/specialist_access.sql"
    assert [p["name"] for p in description["parameters"]] == ["area", "from", "to", "as_at", "need"]
    assert description["parameters"][-1]["choices"] == ["low", "mid", "high"]
    assert "ci_low" in description["columns"]


# ---- PostgreSQL's session for a metric ---------------------------------------------------
def test_a_metric_runs_without_postgres_jit_and_leaves_the_session_as_it_was(fresh_postgres_url):
    """JIT off for the metric's own transaction (compiling cost more than it saved), never for the
    pooled connection a load or rebuild gets next."""
    warehouse = build_warehouse(fresh_postgres_url)
    jit_at_the_metric = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "join journey_reach r on r.pregnancy_id" in statement:  # stage_reach.sql's own
            jit_at_the_metric.append(conn.exec_driver_sql("show jit").scalar())

    try:
        with warehouse.connect() as conn:
            server_default = conn.execute(sa.text("show jit")).scalar()
        sa.event.listen(warehouse.engine, "before_cursor_execute", record)
        run_metric(warehouse, "stage_reach", {**PERIOD, "area": ALPHA}, suppress=False)
        sa.event.remove(warehouse.engine, "before_cursor_execute", record)
        assert jit_at_the_metric == ["off"]
        with warehouse.connect() as conn:
            assert conn.execute(sa.text("show jit")).scalar() == server_default == "on"
    finally:
        warehouse.dispose()
