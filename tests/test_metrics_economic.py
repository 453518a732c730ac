"""economic_case and its assumptions on the hand-built fixture (tests/metric_fixtures.py), on
DuckDB and PostgreSQL, with the arithmetic of the domain notes worked by hand.

Period 2023-01-01..2024-06-30, as_at 2024-12-31. Live births with a year of follow-up: Alpha
3 (P1, P2, P3), Beta 2 (Q1, Q2). Reach from conception to day 365: Alpha specialist 2 (P1's
perinatal MH assessment on day 71, P3's contact on day 39), targeted 1 (P1's talking
therapies); Beta none. Shipped reference data, mid prevalence per 1,000: postpartum psychosis
2, chronic SMI 2 (both priced as psychosis, GBP 53,000), severe depression 30 (depression
74,000 = 23,000 mother + 51,000 child; public sector 15,530) - all specialist; mild-moderate
depression and anxiety 125 and PTSD 30 (anxiety 35,000 = 21,000 + 14,000; public 7,345) -
targeted. Episodes: specialist 2,800, targeted 650. All 2012/13 prices.
"""

from __future__ import annotations

import pandas as pd
import pytest

from metric_fixtures import ALPHA, BETA, ICB_AB, PERIOD, fixture_warehouse  # noqa: F401
from pathway.metrics import MetricError, economic_assumptions, run_metric

PRICES_2012 = {**PERIOD, "price_year": "2012/13"}


def case(warehouse, **params):
    frame = run_metric(warehouse, "economic_case", {**PRICES_2012, **params}, suppress=False)
    return frame.set_index(["area_code", "condition"])


def test_cost_of_illness_is_expected_cases_times_cost_per_case(fixture_warehouse):
    depression = case(fixture_warehouse).loc[(BETA, "severe_depressive_illness")]
    # expected cases = 2 births x 30 / 1,000 = 0.06
    assert depression.live_births == 2
    assert depression.expected_cases == pytest.approx(0.06)
    assert depression.cost_per_case == pytest.approx(74000)
    assert depression.cost_of_illness == pytest.approx(0.06 * 74000)       # 4,440
    assert depression.mother_cost == pytest.approx(0.06 * 23000)           # 1,380
    assert depression.child_cost == pytest.approx(0.06 * 51000)            # 3,060
    assert depression.public_sector_cost == pytest.approx(0.06 * 15530)    # 931.80
    assert depression.treating_tier == "specialist"


def test_treated_shares_the_tiers_reach_among_its_conditions(fixture_warehouse):
    alpha = case(fixture_warehouse).loc[ALPHA]
    # 2 reached by the specialist tier, shared 2 : 2 : 30 among psychosis, chronic SMI, depression
    assert set(alpha.tier_reached[alpha.treating_tier == "specialist"]) == {2}
    assert alpha.loc["severe_depressive_illness", "treated"] == pytest.approx(2 * 30 / 34)
    assert alpha.loc["postpartum_psychosis", "treated"] == pytest.approx(2 * 2 / 34)
    assert alpha[alpha.treating_tier == "specialist"].treated.sum() == pytest.approx(2)
    # spend = treated x the tier's episode cost
    assert alpha.loc["severe_depressive_illness", "current_service_spend"] == pytest.approx(
        2 * 30 / 34 * 2800)
    # targeted: 1 reached, shared 125 : 30 between mild-moderate and PTSD
    assert alpha.loc["ptsd", "treated"] == pytest.approx(30 / 155)
    assert alpha.loc["ptsd", "current_service_spend"] == pytest.approx(30 / 155 * 650)


def test_scenario_raises_access_to_the_target_capped_at_expected_cases(fixture_warehouse):
    beta = case(fixture_warehouse).loc[BETA]
    # default target: national ambition 10% of 2 births = 0.2 people per tier.
    # specialist: expected 2 x 34 / 1,000 = 0.068 < 0.2, so the target is the 0.068 cases;
    # none reached: extra 0.068, depression's share 30/34 = 0.06
    depression = beta.loc["severe_depressive_illness"]
    assert depression.target_access_pct == 10
    assert depression.extra_treated == pytest.approx(0.06)
    assert depression.extra_spend == pytest.approx(0.06 * 2800)                 # 168
    # avoided = extra treated x cost per case x effect (default 0.1) = 0.06 x 74,000 x 0.1
    assert depression.avoided_cost == pytest.approx(0.06 * 74000 * 0.1)         # 444
    assert depression.net_benefit == pytest.approx(444 - 168)
    assert depression.roi == pytest.approx(444 / 168)
    # targeted: expected 2 x 155 / 1,000 = 0.31 > 0.2: extra 0.2, mild-moderate's share 125/155
    mild = beta.loc["mild_moderate_depression_anxiety"]
    assert mild.extra_treated == pytest.approx(0.2 * 125 / 155)
    assert mild.avoided_cost == pytest.approx(0.2 * 125 / 155 * 35000 * 0.1)
    assert mild.roi == pytest.approx(35000 * 0.1 / 650)
    # Alpha already reaches more than its expected cases: nothing extra to do
    alpha = case(fixture_warehouse).loc[ALPHA]
    assert set(alpha.extra_treated) == {0} and set(alpha.extra_spend) == {0}


def test_target_effect_and_need_are_parameters(fixture_warehouse):
    beta = case(fixture_warehouse, target_access_pct="1", effect="0.5", need="high").loc[BETA]
    mild = beta.loc["mild_moderate_depression_anxiety"]
    # high: 150 per 1,000, expected 0.3; the target 1% of 2 births = 0.02 people, shared
    # 150 : 30 with PTSD; avoided = 0.02 x 150/180 x 35,000 x 0.5
    assert mild.per_1000 == 150 and mild.expected_cases == pytest.approx(0.3)
    assert mild.extra_treated == pytest.approx(0.02 * 150 / 180)
    assert mild.avoided_cost == pytest.approx(0.02 * 150 / 180 * 35000 * 0.5)
    assert (mild.target_access_pct, mild.effect) == (1, 0.5)


def test_prices_are_uplifted_to_the_latest_deflator_year_by_default(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "economic_case", {**PERIOD, "area": BETA}, suppress=False)
    depression = frame.set_index("condition").loc["severe_depressive_illness"]
    # GDP deflator 2024/25 103.4 over 2012/13 72.6
    assert depression.price_year == "2024/25"
    assert depression.cost_per_case == pytest.approx(74000 * 103.4 / 72.6, rel=1e-6)
    assert depression.extra_spend == pytest.approx(0.06 * 2800 * 103.4 / 72.6, rel=1e-6)


def test_one_row_per_area_and_costed_condition(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "economic_case", {**PRICES_2012, "area": ICB_AB},
                       suppress=False)
    # adjustment disorders have no cost per case, so five conditions; the ICB sums 5 births
    assert sorted(frame.condition) == ["chronic_serious_mental_illness",
                                       "mild_moderate_depression_anxiety", "postpartum_psychosis",
                                       "ptsd", "severe_depressive_illness"]
    assert set(frame.live_births) == {5}


def test_bad_scenario_parameters_are_refused_in_words(fixture_warehouse):
    with pytest.raises(MetricError, match="target_access_pct='150' is outside 0 to 100"):
        run_metric(fixture_warehouse, "economic_case", {**PERIOD, "target_access_pct": "150"})
    with pytest.raises(MetricError, match="effect='lots' is not a number"):
        run_metric(fixture_warehouse, "economic_case", {**PERIOD, "effect": "lots"})
    with pytest.raises(MetricError, match="price_year='2030/31' is not in ref_deflators"):
        run_metric(fixture_warehouse, "economic_case", {**PERIOD, "price_year": "2030/31"})


def test_suppressed_case_hides_what_a_small_birth_count_would_give_away(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "economic_case", {**PRICES_2012, "area": BETA})
    # 2 births: hidden, and with them every figure that is births x a published rate
    assert frame.live_births.isna().all()
    assert frame[["expected_cases", "cost_of_illness", "avoided_cost"]].isna().all().all()
    # nobody reached by a treating tier is shown as 0, and so is treated (0 x a share)
    assert (frame.tier_reached == 0).all() and (frame.treated == 0).all()
    assert frame.cost_per_case.notna().all()  # reference figures stay


def test_assumptions_list_each_step_with_its_source(fixture_warehouse):
    steps = economic_assumptions(fixture_warehouse, {"effect": "0.25", "price_year": "2023/24"})
    by_step = steps.set_index("step")
    assert list(steps.columns) == ["step", "value", "unit", "source", "status"]
    assert by_step.loc["Cost per case: Perinatal depression", "value"] == 74000
    assert "Bauer" in by_step.loc["Cost per case: Perinatal depression", "source"]
    assert by_step.loc["Prevalence per 1,000 maternities (mid): Severe depressive illness",
                       "value"] == 30
    uplift = by_step.loc["Price uplift from 2012/13 to 2023/24"]
    assert uplift.value == pytest.approx(100 / 72.6, rel=1e-6)
    effect = by_step.loc["Effect: share of a case's cost avoided by treatment"]
    assert (effect.value, effect.status) == (0.25, "your setting")
    target = by_step.loc["Target access: live births treated by each condition's tier"]
    # not given: the national ambition, with its own source
    assert target.value == 10 and "Long Term Plan" in target.source
    assert pd.Series(steps.status).isin(["sourced", "check", "illustrative", "your setting"]).all()
