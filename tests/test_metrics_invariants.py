"""Invariants declared in the catalogue, checked on every metric, both backends, several
parameter sets: one row per grain, numerator <= denominator, pct in 0..100 and inside its
interval, no percentage over a zero denominator; and suppression never lets a count 1..7 out."""

from __future__ import annotations

import pandas as pd
import pytest

from metric_fixtures import ALPHA, ICB_AB, PERIOD, fixture_warehouse  # noqa: F401
from pathway.catalogue import METRICS
from pathway.metrics import run_metric

PARAMETER_SETS = {
    "defaults": {},
    "fixture period": PERIOD,
    "one area": {**PERIOD, "area": ALPHA},
    "one ICB": {**PERIOD, "area": ICB_AB},
}


def params_for(metric, params):
    accepted = {p.name for p in metric.parameters}
    return {k: v for k, v in params.items() if k in accepted}


@pytest.mark.parametrize("name", sorted(METRICS))
@pytest.mark.parametrize("label", sorted(PARAMETER_SETS))
def test_metric_invariants_hold(fixture_warehouse, name, label):
    metric = METRICS[name]
    frame = run_metric(fixture_warehouse, name, params_for(metric, PARAMETER_SETS[label]),
                       suppress=False)
    assert len(frame) > 0
    assert metric.check(frame) == []


def test_invariant_check_catches_a_broken_table():
    # a hand-made stage_reach with a repeated grain and 5 reached of 4: both must be caught
    frame = pd.DataFrame({"area_code": ["A", "A"], "stage": ["antenatal", "antenatal"],
                          "tier": ["universal", "universal"], "reached": [5, 1],
                          "cohort": [4, 4], "pct": [125.0, 25.0],
                          "ci_low": [50.0, 4.6], "ci_high": [100.0, 69.9]})
    problems = METRICS["stage_reach"].check(frame)
    assert any("repeat the grain" in p for p in problems)
    assert any("reached > cohort" in p for p in problems)
    assert any("outside 0..100" in p for p in problems)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_suppressed_output_shows_no_count_from_1_to_7(fixture_warehouse, name):
    metric = METRICS[name]
    frame = run_metric(fixture_warehouse, name, params_for(metric, PERIOD))
    for column in metric.counts:
        shown = pd.to_numeric(frame[column], errors="coerce").dropna()
        assert not ((shown >= 1) & (shown <= 7)).any(), column
        assert (shown % 5 == 0).all(), column  # shown counts are rounded to 5
