"""trend: monthly series with XmR process limits, on the hand-built fixture
(tests/metric_fixtures.py) and a small monthly cohort built here, on DuckDB and PostgreSQL.

XmR by hand (NHS 'Making Data Count'): mean of the points; moving ranges |x(i) - x(i-1)|;
process limits = mean +- 2.66 x mean moving range.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metric_fixtures import AREAS, ALPHA, PERIOD, build_warehouse, fixture_warehouse  # noqa: F401
from pathway.metrics import run_metric


def trend(warehouse, **params):
    return run_metric(warehouse, "trend", {**PERIOD, "area": ALPHA, **params},
                      suppress=False).set_index("month")


def test_births_by_month_with_process_limits(fixture_warehouse):
    frame = trend(fixture_warehouse)
    # January 2023 to June 2024: 18 months; births P1 2023-03, P2 2023-06, P3 2023-11,
    # P4 2024-03 (a birth count needs no follow-up)
    assert len(frame) == 18
    assert frame.value.sum() == 4
    assert list(frame.loc[["2023-03", "2023-06", "2023-11", "2024-03"], "numerator"]) == [1, 1, 1, 1]
    # mean 4 / 18; the 17 moving ranges are eight 1s and nine 0s: mean 8 / 17
    mean, moving_range = 4 / 18, 8 / 17
    assert frame["mean"].iloc[0] == pytest.approx(mean)
    assert frame.upper_limit.iloc[0] == pytest.approx(mean + 2.66 * moving_range)
    assert frame.lower_limit.iloc[0] == pytest.approx(mean - 2.66 * moving_range)
    # the longest run below the mean is four months (2023-07..10): common cause only
    assert not frame.special_cause.any()
    assert set(frame.latest_variation) == {"common_cause"}


def test_reach_measures_are_percentages_of_the_months_births(fixture_warehouse):
    frame = trend(fixture_warehouse, metric="specialist_access")
    # a year of follow-up: P1, P2, P3 in; P4 (2024-03) not yet. Only P1 accessed.
    assert (frame.loc["2023-03", "numerator"], frame.loc["2023-03", "denominator"]) == (1, 1)
    assert frame.loc["2023-03", "value"] == 100.0
    assert frame.loc["2023-06", "value"] == 0.0
    assert frame.loc["2024-03", "denominator"] == 0 and pd.isna(frame.loc["2024-03", "value"])
    # Wilson 95% interval for 1 of 1: the lower limit is 1 / (1 + z^2) = 20.7%, the upper 100%
    assert frame.loc["2023-03", "ci_low"] == pytest.approx(100 / (1 + 1.959964**2))
    assert frame.loc["2023-03", "ci_high"] == pytest.approx(100.0)
    contacts = trend(fixture_warehouse, metric="mandated_contacts.new_birth_visit")
    # day 14 (P1) and day 3 (P3) on time; P2 on day 15 late; P4's visit a DNA
    assert list(contacts.loc[["2023-03", "2023-06", "2023-11", "2024-03"], "value"]) == [100, 0, 100, 0]


def test_waiting_times_by_referral_month(fixture_warehouse):
    frame = trend(fixture_warehouse, metric="waiting_times", service="perinatal_mh")
    # P1 referred 2023-04-01, seen after 40 days; P3 referred 2023-12-01, seen after 28
    assert frame.loc["2023-04", "value"] == 40 and frame.loc["2023-12", "value"] == 28
    assert (frame.loc["2023-04", "numerator"], frame.loc["2023-04", "denominator"]) == (1, 1)
    # two points: mean 34, one moving range of 12: limits 34 +- 31.92
    assert frame["mean"].iloc[0] == pytest.approx(34.0)
    assert frame.upper_limit.iloc[0] == pytest.approx(34 + 2.66 * 12)
    assert frame.lower_limit.iloc[0] == pytest.approx(34 - 2.66 * 12)


def test_default_window_is_two_years_ending_at_the_default_period_end(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "trend", {"area": ALPHA}, suppress=False)
    # as_at = the latest activity, 2024-07-14 (P2's day 400); to = as_at - 365 days =
    # 2023-07-15; from = to - 24 months + 1 day = 2021-07-16: July 2021 to July 2023
    assert list(frame.month[[0, len(frame) - 1]]) == ["2021-07", "2023-07"]
    assert len(frame) == 25


def monthly_cohort(url):
    """Twelve months with one birth each (15th of 2023-01..12), then ten births in 2024-01."""
    births = [dt.date(2023, m, 15) for m in range(1, 13)] + [dt.date(2024, 1, 15)] * 10
    cohort = [{"pregnancy_id": f"T{i}", "person_id": f"person-T{i}", "area_code": ALPHA,
               "outcome": "live_birth", "edd": day, "birth_date": day}
              for i, day in enumerate(births)]
    activity = [{"activity_id": "TA1", "pregnancy_id": "T0", "service": "maternity",
                 "activity_type": "contact", "activity_date": dt.date(2024, 12, 31),
                 "attendance": "attended", "tier": "universal"}]
    return build_warehouse(url, areas=AREAS, cohort=cohort, activity=activity, measures=[])


def test_a_month_beyond_the_limits_is_special_cause(warehouse_url):
    warehouse = monthly_cohort(warehouse_url)
    period = {"from": "2023-01-01", "to": "2024-01-31", "as_at": "2024-12-31"}
    frame = trend(warehouse, **period)
    # mean 22 / 13 = 1.69; moving ranges eleven 0s and one 9: 0.75; upper limit
    # 1.69 + 2.66 x 0.75 = 3.69, and 10 births is above it
    assert frame["mean"].iloc[0] == pytest.approx(22 / 13)
    assert frame.upper_limit.iloc[0] == pytest.approx(22 / 13 + 2.66 * 9 / 12)
    january = frame.loc["2024-01"]
    assert january.value == 10 and january.outside_limits and january.special_cause
    # twelve months in a row below the mean: a run of 7 or more
    assert frame.loc["2023-01":"2023-12", "run_of_7"].all()
    # births have no better direction: the icon says 'neither', high
    assert set(frame.latest_variation) == {"neither_high"}

    # Suppressed: the twelve 1-birth months are hidden; the limits still come from the
    # unrounded series (contract 7.3), shown to whole births so 13 x the mean gives no
    # total back: mean 1.69 -> 2, upper limit 3.69 -> 4
    shown = run_metric(warehouse, "trend", {**period, "area": ALPHA}).set_index("month")
    assert shown.loc["2023-01":"2023-12", "value"].isna().all()
    assert shown.loc["2024-01", "value"] == 10 and shown.loc["2024-01", "numerator"] == 10
    assert set(shown["mean"]) == {2.0} and set(shown["upper_limit"]) == {4.0}
    assert shown.loc["2024-01", "outside_limits"] and shown.loc["2024-01", "special_cause"]
    warehouse.dispose()


def test_process_limits_are_worked_out_per_area_all_at_once():
    # trend for area=all charts every area in one vectorised pass (xmr_charts_by_area); each
    # area must get exactly what pathway.statistics.xmr_chart gives its own series.
    from pathway.metrics import xmr_charts_by_area
    from pathway.statistics import xmr_chart

    rising = [1.0, 2, 3, 4, 5, 6, 7]            # seven rising points: a trend (default 7)
    with_gap = [4.0, float("nan"), 4, 9, 4]      # a missing month is left out of the limits
    above = [0.0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9]  # a run of 7 above the mean
    frame = pd.DataFrame({
        "area_code": ["A"] * 7 + ["B"] * 5 + ["C"] * 15,
        "month": [f"2024-{m:02d}" for m in range(1, 8)] + [f"2024-{m:02d}" for m in range(1, 6)]
                 + [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01", "2024-02", "2024-03"],
        "value": rising + with_gap + above,
    })
    charts = xmr_charts_by_area(frame, improvement="up")
    # A by hand: mean 4, every moving range 1, limits 4 +- 2.66; all seven in the trend,
    # and the latest point (high, by a rising trend) is an improvement
    a = charts[frame.area_code == "A"]
    assert a["mean"].tolist() == [4.0] * 7
    assert a.upper_limit.iloc[0] == pytest.approx(4 + 2.66)
    assert a.trend_of_6.all() and a.special_cause.all()
    assert set(a.latest_variation) == {"improvement_high"}
    # B by hand: points 4, 4, 9, 4 (the gap left out): mean 5.25, moving ranges 0, 5, 5
    b = charts[frame.area_code == "B"]
    assert b["mean"].iloc[1] == pytest.approx(5.25)
    assert b.upper_limit.iloc[0] == pytest.approx(5.25 + 2.66 * 10 / 3)
    assert pd.isna(b.variation.iloc[1]) and not b.special_cause.iloc[1]
    # C: the last seven points (9s) are a run above the mean 63 / 15 = 4.2
    c = charts[frame.area_code == "C"]
    assert c.run_of_7.iloc[8:].all() and c.run_of_7.iloc[:8].all()  # eight 0s below it, too
    for area, rows in frame.groupby("area_code"):
        one = xmr_chart(rows["value"], improvement="up")
        got = charts.loc[rows.index]
        for column in ("mean", "upper_limit", "lower_limit"):
            assert got[column].tolist() == pytest.approx(one[column].tolist(), nan_ok=True)
        for column in ("outside_limits", "run_of_7", "trend_of_6", "two_of_three", "special_cause"):
            assert got[column].tolist() == one[column].tolist(), (area, column)
        assert (got["variation"].fillna("-").tolist()
                == pd.Series(one["variation"]).fillna("-").tolist()), area
