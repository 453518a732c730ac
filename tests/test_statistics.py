"""Intervals, comparisons, funnel limits and XmR charts against hand arithmetic and published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import proportion_confint

from conftest import shared_file
from pathway.statistics import (assurance, byar_interval, compare_to_benchmark, funnel_limits,
                                rate_interval, rate_ratio, wilson_interval, xmr_chart)



# ---- Wilson score interval ------------------------------------------------------------
# OHID formula: (2O + z² ± z·sqrt(z² + 4·O·q)) / (2(n + z²)), z = 1.959964, z² = 3.841459.

def test_wilson_5_of_10_by_hand():
    # 2O + z² = 13.841459; sqrt(z² + 4·5·0.5) = sqrt(13.841459) = 3.720411, × z = 7.291871;
    # 2(n + z²) = 27.682918 -> (13.841459 ∓ 7.291871) / 27.682918 = 0.236593 and 0.763407.
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(23.6593, abs=1e-4)
    assert high == pytest.approx(76.3407, abs=1e-4)


def test_wilson_none_of_10_starts_at_zero():
    # O = 0, q = 1: low = (z² - z·z) / ... = 0; high = 2z² / (2(n + z²)) = 3.841459 / 13.841459.
    low, high = wilson_interval(0, 10)
    assert low == 0
    assert high == pytest.approx(27.7533, abs=1e-4)


def test_wilson_all_10_of_10_ends_at_100():
    # O = n, q = 0: low = (2n + z² - z²) / (2(n + z²)) = 20 / 27.682918; high = 1.
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(72.2467, abs=1e-4)
    assert high == 100


def test_wilson_matches_statsmodels_over_a_grid():
    numerators = np.array([0, 1, 7, 65, 1045, 155660])
    denominators = np.array([3, 8, 20, 100, 5000, 603318])
    low, high = wilson_interval(numerators, denominators)
    ref_low, ref_high = proportion_confint(numerators, denominators, method="wilson")
    np.testing.assert_allclose(low, ref_low * 100, atol=1e-9)
    np.testing.assert_allclose(high, ref_high * 100, atol=1e-9)


def test_wilson_at_99_8_percent_is_wider():
    low95, high95 = wilson_interval(65, 100)
    low998, high998 = wilson_interval(65, 100, confidence=0.998)
    ref_low, ref_high = proportion_confint(65, 100, alpha=0.002, method="wilson")
    assert (low998, high998) == pytest.approx((ref_low * 100, ref_high * 100))
    assert low998 < low95 and high998 > high95


def test_wilson_zero_denominator_is_nan_and_series_keep_their_index():
    low, high = wilson_interval(pd.Series([0, 2], index=["E1", "E2"]), pd.Series([0, 4], index=["E1", "E2"]))
    assert list(low.index) == ["E1", "E2"]
    assert np.isnan(low["E1"]) and np.isnan(high["E1"])
    assert low["E2"] == pytest.approx(proportion_confint(2, 4, method="wilson")[0] * 100)


def test_wilson_refuses_a_numerator_above_its_denominator():
    with pytest.raises(ValueError, match="position 1: 12 is larger than its denominator 10"):
        wilson_interval([1, 12], [10, 10])


def test_fingertips_94103_interval_is_not_wilson_on_its_counts():
    # domain.md: England 155,660 of 603,318 = 25.80% (95% CI 25.51-26.10). Wilson on those counts
    # gives 25.69-25.91, about a third of the published width: the published interval belongs to the
    # model behind this estimate, so it must be imported as published, not recalculated.
    fingertips = shared_file("fingertips-reference/perinatal_mh_prevalence_94103_northwest_2019.csv")
    england = pd.read_csv(fingertips).query("AreaCode == 'E92000001'").iloc[0]
    assert 100 * england.Count / england.Denominator == pytest.approx(england.Value, abs=1e-4)
    low, high = wilson_interval(england.Count, england.Denominator)
    assert (low, high) == pytest.approx((25.690, 25.911), abs=1e-3)
    assert (england.LowerCI, england.UpperCI) == pytest.approx((25.51076, 26.09728))
    assert (high - low) < 0.4 * (england.UpperCI - england.LowerCI)


# ---- Byar's method for counts and rates -----------------------------------------------

def test_byar_65_by_hand():
    # low = 65·(1 - 1/585 - z/(3·sqrt 65))³ = 65·(1 - 0.0017094 - 0.0810345)³ = 65·0.9172561³ = 50.1632
    # high = 66·(1 - 1/594 + z/(3·sqrt 66))³ = 66·(1 - 0.0016835 + 0.0804184)³ = 66·1.0787349³ = 82.8491
    low, high = byar_interval(65)
    assert low == pytest.approx(50.1632, abs=1e-4)
    assert high == pytest.approx(82.8491, abs=1e-4)


def test_byar_zero_count():
    # The lower limit of 0 is 0; high = 1·(1 - 1/9 + z/3)³ = (0.888889 + 0.653321)³ = 3.6680.
    low, high = byar_interval(0)
    assert low == 0
    assert high == pytest.approx(3.6680, abs=1e-4)


def test_byar_within_published_accuracy_of_the_exact_poisson_limits():
    # OHID Technical Guide: Confidence Intervals (2018), appendix 1: for 95% intervals Byar's method
    # is within 0.2% of the exact value for numerators of 10 or more.
    counts = np.arange(10, 2001)
    low, high = byar_interval(counts)
    exact_low = chi2.ppf(0.025, 2 * counts) / 2
    exact_high = chi2.ppf(0.975, 2 * counts + 2) / 2
    assert np.max(np.abs(low / exact_low - 1)) < 0.002
    assert np.max(np.abs(high / exact_high - 1)) < 0.002


def test_small_count_at_99_8_percent_clips_lower_limit_at_zero():
    # 1·(1 - 1/9 - 3.090232/3)³ = (-0.141188)³ < 0, so the limit is 0, not negative.
    low, _ = byar_interval(1, confidence=0.998)
    assert low == 0


def test_rate_interval_scales_the_count_interval():
    # 65 events in 50,000 people per 1,000: the count limits × 1,000 / 50,000.
    low, high = rate_interval(65, 50_000, 1_000)
    assert low == pytest.approx(50.1632 * 0.02, abs=1e-5)
    assert high == pytest.approx(82.8491 * 0.02, abs=1e-5)
    assert np.isnan(rate_interval(3, 0, 1_000)[0])


# ---- rate ratio (equity) --------------------------------------------------------------

def test_rate_ratio_by_hand_and_against_statsmodels():
    # 20 of 100 vs 10 of 100: ratio 2; SE(log) = sqrt(1/20 - 1/100 + 1/10 - 1/100) = sqrt(0.13) = 0.360555;
    # exp(1.959964 × 0.360555) = exp(0.706676) = 2.027240 -> 2 / 2.027240 = 0.986563, 2 × 2.027240 = 4.054479.
    ratio, low, high = rate_ratio(20, 100, 10, 100)
    assert ratio == 2
    assert (low, high) == pytest.approx((0.986563, 4.054479), abs=1e-6)
    ref = Table2x2(np.array([[20, 80], [10, 90]])).riskratio_confint()
    assert (low, high) == pytest.approx(ref)


def test_rate_ratio_with_no_events_has_no_interval():
    ratio, low, high = rate_ratio([0], [50], [10], [100])
    assert ratio[0] == 0 and np.isnan(low[0]) and np.isnan(high[0])


# ---- benchmark comparison -------------------------------------------------------------

def test_compare_to_benchmark_by_interval():
    result = compare_to_benchmark(value=[42, 58, 50, 51, np.nan],
                                  ci_low=[40, 55, 45, 50, 1],
                                  ci_high=[45, 60, 55, 52, 2],
                                  benchmark=50)
    # 40-45 is wholly below 50; 55-60 above; 45-55 contains it; 50-52 touches it (contains).
    assert list(result) == ["lower", "higher", "similar", "similar", "not compared"]


def test_compare_to_a_missing_benchmark_is_not_compared():
    assert compare_to_benchmark(50, 45, 55, np.nan) == "not compared"


# ---- funnel limits --------------------------------------------------------------------
# Published: PHEindicatormethods tests/testthat/testdata_funnel_prop_outputs.csv (ukhsa-collaboration),
# the control limits its phe_funnels() gives around the baseline 80.642448%.
PUBLISHED_FUNNEL = [  # population, lower 95, upper 95, lower 99.8, upper 99.8
    (1, 3.204264, 100, 0, 100),
    (3, 35.933491, 100, 10.150815, 100),
    (18, 62.390093, 98.894803, 51.864359, 100),
    (41, 68.548635, 92.73626, 61.574398, 99.710497),
    (1008, 78.203374, 83.081521, 76.796814, 84.488082),
    (110000, 80.408963, 80.875933, 80.274317, 81.010578),
]


def test_funnel_limits_match_phe_indicator_methods():
    frame = funnel_limits([row[0] for row in PUBLISHED_FUNNEL], 80.642448)
    assert list(frame.columns) == ["denominator", "lower_95", "upper_95", "lower_998", "upper_998"]
    expected = np.array([row[1:] for row in PUBLISHED_FUNNEL])
    np.testing.assert_allclose(frame.iloc[:, 1:].to_numpy(), expected, atol=2e-6)


def test_funnel_limits_by_hand():
    # 50% benchmark, n = 100: 50 ± 1.959964 × sqrt(0.25 / 100) × 100 = 50 ± 9.79982.
    frame = funnel_limits([100], 50.0, levels=(95.0,))
    assert frame.loc[0, "lower_95"] == pytest.approx(40.20018, abs=1e-5)
    assert frame.loc[0, "upper_95"] == pytest.approx(59.79982, abs=1e-5)


# ---- XmR chart (Making Data Count) ----------------------------------------------------

def test_xmr_mean_moving_range_and_limits_by_hand():
    # mean (10 + 12 + 11 + 13 + 14) / 5 = 12; moving ranges 2, 1, 2, 1 -> mean 1.5;
    # limits 12 ± 2.66 × 1.5 = 12 ± 3.99.
    chart = xmr_chart([10, 12, 11, 13, 14])
    assert list(chart.columns) == ["value", "mean", "moving_range", "upper_limit", "lower_limit",
                                   "outside_limits", "run_of_7", "trend_of_6", "two_of_three",
                                   "special_cause", "variation"]
    assert chart["mean"].iloc[0] == 12
    assert np.isnan(chart["moving_range"].iloc[0])
    assert list(chart["moving_range"].iloc[1:]) == [2, 1, 2, 1]
    assert chart["upper_limit"].iloc[0] == pytest.approx(15.99)
    assert chart["lower_limit"].iloc[0] == pytest.approx(8.01)
    assert not chart["special_cause"].any()
    assert set(chart["variation"]) == {"common_cause"}


def test_seven_points_each_side_of_the_mean_are_runs():
    # 7 points at 1-2 then 7 at 3-4: mean 35 / 14 = 2.5; moving ranges 12 × 1 and one 3 -> 15 / 13;
    # limits 2.5 ± 3.069 (none outside), two-thirds at 4.546 (none beyond); no 6-point trend.
    chart = xmr_chart([1, 2, 1, 2, 1, 2, 1, 4, 3, 4, 3, 4, 3, 4], improvement="up")
    assert chart["upper_limit"].iloc[0] == pytest.approx(2.5 + 2.66 * 15 / 13)
    assert chart["run_of_7"].all()
    assert not (chart["outside_limits"] | chart["trend_of_6"] | chart["two_of_three"]).any()
    assert list(chart["variation"]) == ["concern_low"] * 7 + ["improvement_high"] * 7


def test_six_points_each_side_of_the_mean_are_not_a_run():
    # Same shape with 6 a side: mean 2.5, limits 2.5 ± 2.66 × 12/11 = 2.5 ± 2.902; nothing special.
    chart = xmr_chart([1, 2, 1, 2, 1, 2, 4, 3, 4, 3, 4, 3], improvement="up")
    assert not chart["special_cause"].any()
    assert set(chart["variation"]) == {"common_cause"}


def test_a_point_on_the_mean_breaks_a_run():
    # Sum 6 + 3 + 6 + 24 + 3 = 42 over 14 points: mean 3. The first seven are 3 below, one exactly
    # on the mean, 3 below: six below in all, broken by the point on the mean, so no run of 7.
    values = [2, 2, 2, 3, 2, 2, 2, 4, 4, 4, 4, 4, 4, 3]
    assert np.mean(values) == 3
    assert not xmr_chart(values)["run_of_7"].iloc[:7].any()


@pytest.mark.parametrize("values, flagged", [
    ([3, 1, 2, 3, 4, 5, 6, 3], []),                      # 6 rising points (1..6): not a trend
    ([3, 1, 2, 3, 4, 5, 6, 7, 3], [1, 2, 3, 4, 5, 6, 7]),  # 7 rising points (1..7): all flagged
    ([9, 8, 7, 6, 5, 4, 3, 8], [0, 1, 2, 3, 4, 5, 6]),   # 7 falling points
    ([1, 2, 3, 4, 4, 5, 6, 7], []),                      # a repeated value breaks the trend
])
def test_trend_of_seven(values, flagged):
    # contract v1.1: 7 consecutive rising or falling points (Making Data Count), not 6
    chart = xmr_chart(values)
    assert list(np.flatnonzero(chart["trend_of_6"])) == flagged


def test_run_lengths_are_settable():
    # ref_parameters can set them: with 6, six rising points are a trend and six on one side a run
    chart = xmr_chart([3, 1, 2, 3, 4, 5, 6, 3], trend_length=6)
    assert list(np.flatnonzero(chart["trend_of_6"])) == [1, 2, 3, 4, 5, 6]
    values = [1, 1, 1, 1, 1, 1, 4, 1, 4, 1, 4]  # mean 20/11 = 1.82: six 1s below it, then alternating
    assert list(np.flatnonzero(xmr_chart(values, run_length=6)["run_of_7"])) == [0, 1, 2, 3, 4, 5]
    assert not xmr_chart(values)["run_of_7"].any()


def test_trend_only_points_take_the_trend_direction():
    # [3, 1, 2, 3, 4, 5, 6, 7, 3]: mean 34/9 = 3.78; points 1-3 are below the mean but rising.
    chart = xmr_chart([3, 1, 2, 3, 4, 5, 6, 7, 3], improvement="down")
    assert list(chart["variation"].iloc[1:8]) == ["concern_high"] * 7


def test_two_of_three_beyond_two_thirds():
    # 20 points alternating 10, 11, then 14, 11, 14, then 10, 11: n = 25, sum 270, mean 10.8;
    # moving ranges 19 × 1 + 3 + 3 + 3 + 4 + 1 = 33 over 24 = 1.375; upper limit 10.8 + 3.6575 =
    # 14.4575; two-thirds of the way: 10.8 + 2.43833 = 13.23833. Both 14s lie beyond it (inside the
    # limit) within three points: flagged; the 11 between them is not.
    values = [10, 11] * 10 + [14, 11, 14] + [10, 11]
    chart = xmr_chart(values, improvement="down")
    assert chart["upper_limit"].iloc[0] == pytest.approx(14.4575)
    assert list(np.flatnonzero(chart["two_of_three"])) == [20, 22]
    assert not chart["outside_limits"].any() and not chart["run_of_7"].any()
    assert list(chart["variation"].iloc[[20, 21, 22]]) == ["concern_high", "common_cause", "concern_high"]


def test_one_point_beyond_two_thirds_is_not_two_of_three():
    # [10, 11] × 10 + [14, 11, 11] + [10, 11]: mean 267/25 = 10.68; moving ranges 27/24 = 1.125;
    # upper limit 10.68 + 2.9925 = 13.6725, so the single 14 is outside the limits instead.
    chart = xmr_chart([10, 11] * 10 + [14, 11, 11] + [10, 11], improvement="up")
    assert not chart["two_of_three"].any()
    assert list(np.flatnonzero(chart["outside_limits"])) == [20]
    assert chart["variation"].iloc[20] == "improvement_high"


@pytest.mark.parametrize("improvement, expected", [
    ("up", "improvement_high"), ("down", "concern_high"), (None, "neither_high")])
def test_variation_of_a_high_point_depends_on_direction(improvement, expected):
    # [10, 11] × 5 + [20] + [10, 11]: mean 146/13 = 11.23; moving ranges 9 × 1 + 9 + 10 + 1 = 29/12;
    # upper limit 11.23 + 6.43 = 17.66 < 20.
    chart = xmr_chart([10, 11] * 5 + [20, 10, 11], improvement=improvement)
    assert chart["outside_limits"].iloc[10]
    assert chart["variation"].iloc[10] == expected


def test_missing_months_are_left_out():
    chart = xmr_chart(pd.Series([10, np.nan, 12, 11, 13, 14]))
    assert chart["mean"].iloc[0] == 12             # as without the gap
    assert np.isnan(chart["moving_range"].iloc[1]) and chart["moving_range"].iloc[2] == 2
    assert pd.isna(chart["variation"].iloc[1]) and not chart["special_cause"].iloc[1]


# Published: NHSRplotthedots tests/testthat/test-ptd_calculate_assurance_type.R (nhs-r-community):
# lower/upper limits (1, 3), (5, 7), (1, 5) against a target of 4.
@pytest.mark.parametrize("improvement, expected", [
    ("up", ["fail", "pass", "hit_or_miss"]),
    ("down", ["pass", "fail", "hit_or_miss"]),
    (None, [None, None, None]),
])
def test_assurance_as_nhsr_plot_the_dots(improvement, expected):
    assert [assurance(limits, 4, improvement) for limits in [(1, 3), (5, 7), (1, 5)]] == expected


def test_assurance_from_a_chart_uses_its_limits():
    chart = xmr_chart([10, 12, 11, 13, 14])  # limits 8.01 to 15.99
    assert assurance(chart, 8, "up") == "pass"
    assert assurance(chart, 16, "up") == "fail"
    assert assurance(chart, 12, "up") == "hit_or_miss"
