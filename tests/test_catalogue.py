"""The catalogue and queries/ agree: one SQL file per metric, in the house shape, parameters bound."""

from __future__ import annotations

import re

import pytest

from pathway import catalogue
from pathway.catalogue import METRICS, bind_names, named_sql, statements

METRIC_NAMES = sorted(METRICS)
# Binds run_metric supplies besides the declared parameters' own.
WORKED_OUT_BINDS = {"follow_up_days", "area", "date_from", "date_to", "as_at",
                    # the disclosure policy, for summaries across areas of disclosed counts
                    "suppress_below", "round_to"}
# Binds pathway.metrics works out from a declared parameter (which journey_reach_measures
# rows a reach measure reads): the parameter counts as used when its worked-out bind is.
WORKED_OUT_FROM = {"reach_stage": "stage", "reach_tier": "tier", "last_month_end": "as_at"}


def code_of(sql: str) -> str:
    """The SQL without comments (line comments only: the house style has no block comments)."""
    return "\n".join(line.split("--")[0] for line in sql.splitlines())


def test_every_metric_has_its_sql_file_and_every_sql_file_a_metric():
    assert catalogue.sql_files() == {f"{name}.sql" for name in METRICS}


def test_the_contract_core_metrics_are_in_the_catalogue():
    assert {"births", "stage_reach", "mandated_contacts", "mood_screening", "specialist_access",
            "referral_funnel", "waiting_times", "outcomes", "data_quality"} <= set(METRICS)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_sql_file_starts_with_a_header_and_ends_with_select_from_final(name):
    sql = named_sql(METRICS[name].sql_file)
    lines = sql.strip().splitlines()
    assert lines[0].startswith(f"-- {name}:"), "the header names the metric and what it measures"
    header = "\n".join(line for line in lines if line.startswith("--"))
    for heading in ("Grain:", "Parameters:", "Definition"):
        assert heading in header
    assert lines[-1].strip() == "select * from final"
    assert len(statements(sql)) == 1


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_sql_binds_only_parameters_the_catalogue_declares(name):
    metric = METRICS[name]
    declared = {p.bind for p in metric.parameters}
    used = bind_names(statements(named_sql(metric.sql_file))[0])
    worked_out = {bind for bind, source in WORKED_OUT_FROM.items() if source in declared}
    assert used <= declared | WORKED_OUT_BINDS | worked_out
    # and every declared choice parameter is used, or it would be silently ignored
    used |= {WORKED_OUT_FROM[bind] for bind in used & set(WORKED_OUT_FROM)}
    assert {p.bind for p in metric.parameters if p.kind == "choice"} <= used


# a journey table joined on pregnancy and area together (see the next test)
_PREGNANCY_AND_AREA = re.compile(
    r"(\w+)\.pregnancy_id\s*=\s*(\w+)\.pregnancy_id\s+and\s+\1\.area_code\s*=\s*\2\.area_code",
    re.IGNORECASE)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_sql_joins_the_journey_on_pregnancy_alone(name):
    # A pregnancy has one area. Joined on pregnancy and area together, PostgreSQL takes the two
    # conditions as independent, expects one row where there are thousands and compares every
    # pair (one area's equity took 2.3 s); the areas asked for are filtered on their own.
    code = code_of(named_sql(METRICS[name].sql_file))
    assert not _PREGNANCY_AND_AREA.search(code)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_sql_has_no_window_or_threshold_literals(name):
    # Domain numbers live in data/reference: conception 266, gestation 280 and 90, the
    # contact windows 84, 14, 56, 365, 456, the 28-day wait, case thresholds 10, 13, 40.
    code = code_of(named_sql(METRICS[name].sql_file))
    literals = set(re.findall(r"(?<![\w.'])(\d+)(?![\w.'])", code))
    assert not literals & {"266", "280", "90", "84", "14", "56", "57", "365", "456", "28",
                           "10", "13", "40"}


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_catalogue_entry_is_complete(name):
    metric = METRICS[name]
    assert metric.description and metric.title and metric.grain
    assert set(metric.keys) <= set(metric.columns)
    assert metric.follow_up in catalogue.FOLLOW_UP_RULES
    for proportion in metric.proportions:
        assert {proportion.pct, proportion.numerator, proportion.denominator} <= set(metric.columns)
        assert len(proportion.intervals) == 2
    for column in metric.counts:
        assert column in metric.columns


def test_contract_columns_are_declared():
    # contract section 5, the required columns
    required = {
        "births": {"area_code", "period", "live_births", "pregnancies", "booked_by_13_weeks"},
        "stage_reach": {"area_code", "stage", "tier", "reached", "cohort", "pct", "ci_low", "ci_high"},
        "mandated_contacts": {"area_code", "contact_code", "numerator", "denominator", "pct",
                              "ci_low", "ci_high"},
        "mood_screening": {"area_code", "stage", "screened", "cohort", "pct", "ci_low", "ci_high"},
        "specialist_access": {"area_code", "live_births", "accessed", "access_pct", "ci_low",
                              "ci_high", "expected_need", "need_met_pct"},
        "referral_funnel": {"area_code", "service", "screened", "screen_positive", "referred",
                            "assessed", "treated", "completed"},
        "waiting_times": {"area_code", "service", "referrals", "seen", "median_days", "p90_days",
                          "seen_within_28_days_pct"},
        "outcomes": {"area_code", "service", "instrument", "paired", "mean_baseline", "mean_end",
                     "reliable_improvement_pct", "reliable_deterioration_pct",
                     "cases_at_baseline", "recovered_pct"},
        "data_quality": {"table", "column", "completeness_pct", "invalid", "quarantined",
                         "last_load"},
    }
    for name, columns in required.items():
        assert columns <= set(METRICS[name].output_columns), name


def test_shared_sql_files_are_not_metrics():
    assert "_journey.sql" not in catalogue.sql_files()
    assert named_sql("_journey_indexes.sql", "duckdb", required=False) is None
    assert named_sql("_journey_indexes.sql", "postgresql") is not None
