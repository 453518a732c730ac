"""economic_case and its assumptions on the hand-built fixture (tests/metric_fixtures.py), on
DuckDB and PostgreSQL, with the arithmetic of the domain notes worked by hand.

Period 2023-01-01..2024-06-30, as_at 2024-12-31. Live births with a year of follow-up: Alpha
3 (P1, P2, P3), Beta 2 (Q1, Q2). Treatment (an attended assessment or intervention, conception
to day 365): P1's talking therapies assessment and intervention (antenatal: targeted) and her
perinatal MH assessment on day 71 (specialist). P3's perinatal MH *contact* is not treatment;
P2's parent-infant scores and cancelled family hub contact are not either. So Alpha has 1 woman
treated by each tier, Beta none.

Shipped reference data. Conditions (ref_economic_conditions, mid prevalence per 1,000):
depression 95 (GBP 74,000 = 23,000 mother + 51,000 child), anxiety alone 80 (35,000 = 21,000 +
14,000), psychosis 2 (53,000, not split), PTSD 30 and adjustment disorders 225 (not costed).
Costs in 2012/13 prices; the episode costs (specialist 2,080, targeted 546) in 2024/25 prices.
GDP deflator 2012/13 72.6, 2024/25 103.4: u = 103.4 / 72.6. Public-sector share 0.2099, NHS and
social care 0.1481; effect 0.1; targets 10% (specialist) and 12.5% (targeted) of live births.
Services: specialist (perinatal MH, maternal MH, MBU) treat depression, anxiety, psychosis, PTSD
(per 1,000 sum 95 + 80 + 2 + 30 = 207); targeted (talking therapies) treat depression, anxiety,
PTSD (sum 205).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metric_fixtures import ALPHA, BETA, ICB_AB, PERIOD, fixture_warehouse  # noqa: F401
from pathway import economics
from pathway.metrics import MetricError, economic_assumptions, run_metric

U = 103.4 / 72.6
PRICES_2024 = {**PERIOD, "price_year": "2024/25"}


def case(warehouse, **params):
    frame = run_metric(warehouse, "economic_case", {**PRICES_2024, **params}, suppress=False)
    return frame.set_index(["area_code", "condition"])


def test_cost_of_illness_is_expected_cases_times_bauers_cost_per_case(fixture_warehouse):
    alpha = case(fixture_warehouse).loc[ALPHA]
    depression = alpha.loc["perinatal_depression"]
    # 3 births x 95 / 1,000 = 0.285 cases x GBP 74,000 (2012/13) x u
    assert depression.live_births == 3
    assert depression.expected_cases == pytest.approx(0.285)
    assert depression.cost_of_illness == pytest.approx(0.285 * 74000 * U)
    assert depression.mother_cost == pytest.approx(0.285 * 23000 * U)
    assert depression.child_cost == pytest.approx(0.285 * 51000 * U)
    # the public-sector part is the overall 1.7bn / 8.1bn share, for every condition
    assert depression.public_sector_cost == pytest.approx(0.285 * 74000 * U * 0.2099)
    assert depression.nhs_social_care_cost == pytest.approx(0.285 * 74000 * U * 0.1481)
    # anxiety alone 3 x 80 / 1,000 = 0.24 x 35,000; psychosis 0.006 x 53,000, not split
    assert alpha.loc["perinatal_anxiety", "cost_of_illness"] == pytest.approx(0.24 * 35000 * U)
    psychosis = alpha.loc["perinatal_psychosis"]
    assert psychosis.cost_of_illness == pytest.approx(0.006 * 53000 * U)
    assert math.isnan(psychosis.mother_cost) and math.isnan(psychosis.child_cost)


def test_ptsd_and_adjustment_disorders_are_listed_but_never_priced(fixture_warehouse):
    alpha = case(fixture_warehouse).loc[ALPHA]
    ptsd = alpha.loc["ptsd"]
    assert not ptsd.costed and ptsd.expected_cases == pytest.approx(0.09)
    for column in ("cost_per_case", "cost_of_illness", "public_sector_cost", "avoided_cost", "roi_public"):
        assert math.isnan(ptsd[column]), column
    assert alpha.loc["adjustment_disorders_distress", "expected_cases"] == pytest.approx(0.675)


def test_treated_counts_attended_assessments_and_interventions_of_treating_services(fixture_warehouse):
    alpha = case(fixture_warehouse).loc[ALPHA]
    # P1 only: her talking therapies and perinatal MH treatment; P3's perinatal MH contact is not
    assert dict(alpha.treated) == {"perinatal_depression": 1, "perinatal_anxiety": 1,
                                   "perinatal_psychosis": 1, "ptsd": 1,
                                   "adjustment_disorders_distress": 0}
    assert set(alpha.specialist_treated) == {1} and set(alpha.targeted_treated) == {1}
    # spend: each tier's women shared by prevalence among the conditions it treats
    depression_spend = 1 * 95 / 207 * 2080 + 1 * 95 / 205 * 546
    assert alpha.loc["perinatal_depression", "current_service_spend"] == pytest.approx(depression_spend)
    assert alpha.current_service_spend.sum() == pytest.approx(2080 + 546)
    assert set(case(fixture_warehouse).loc[BETA].treated) == {0}


def test_alpha_above_both_targets_adds_no_one(fixture_warehouse):
    alpha = case(fixture_warehouse).loc[ALPHA]
    # 10% of 3 births = 0.3 < 1 treated; 12.5% = 0.375 < 1: nothing extra, no return to work out
    assert set(alpha.extra_treated) == {0} and set(alpha.extra_spend) == {0}
    assert alpha.roi_public.isna().all()


def test_beta_scenario_returns_for_the_public_sector_and_for_society(fixture_warehouse):
    beta = case(fixture_warehouse).loc[BETA]
    # extra: specialist 10% x 2 - 0 = 0.2, targeted 12.5% x 2 - 0 = 0.25 (no cap at need)
    depression = beta.loc["perinatal_depression"]
    assert depression.extra_treated == pytest.approx(0.2 * 95 / 207 + 0.25 * 95 / 205)
    assert depression.extra_spend == pytest.approx(0.2 * 95 / 207 * 2080 + 0.25 * 95 / 205 * 546)
    assert depression.avoided_cost == pytest.approx(depression.extra_treated * 74000 * U * 0.1)
    assert depression.avoided_public_cost == pytest.approx(depression.avoided_cost * 0.2099)
    # Beta's totals: spend 0.2 x 2,080 + 0.25 x 546 = 552.5 over every condition (PTSD's too);
    # avoided (society) = effect x u x (0.2 x 9,936,000 / 207 + 0.25 x 9,830,000 / 205)
    #                   = 0.1 x u x (9,600 + 11,987.80) = 3,074.62
    totals = economics.totals(beta.reset_index().assign(area_code=BETA))
    assert totals["extra_spend"] == pytest.approx(552.5)
    avoided = 0.1 * U * (0.2 * 48000 + 0.25 * 9_830_000 / 205)
    assert totals["avoided_cost"] == pytest.approx(avoided)
    assert totals["roi_society"] == pytest.approx(avoided / 552.5)               # 5.56
    assert totals["roi_public"] == pytest.approx(avoided * 0.2099 / 552.5)       # 1.17
    assert round(totals["roi_public"], 2) == 1.17 and round(totals["roi_society"], 2) == 5.56
    # break-even effect for the public sector: spend / (extra cases x public cost per case)
    assert totals["break_even_effect_public"] == pytest.approx(552.5 / (avoided * 0.2099 / 0.1))


def test_targets_are_separate_for_the_two_tiers(fixture_warehouse):
    beta = case(fixture_warehouse, target_access_pct="10", targeted_target_pct="0").loc[BETA]
    # only the specialist tier: 0.2 extra, GBP 416, avoided 0.2 x 48,000 x u x 0.1 = 960u
    assert beta.extra_spend.sum() == pytest.approx(416)
    totals = economics.totals(beta.reset_index().assign(area_code=BETA))
    assert totals["roi_society"] == pytest.approx(960 * U / 416)
    assert totals["roi_public"] == pytest.approx(960 * U * 0.2099 / 416)
    assert set(beta.target_access_pct) == {10} and set(beta.targeted_target_pct) == {0}


def test_effect_and_need_are_parameters(fixture_warehouse):
    beta = case(fixture_warehouse, effect="0.5", need="high").loc[BETA]
    depression = beta.loc["perinatal_depression"]
    assert depression.per_1000 == 140 and depression.expected_cases == pytest.approx(0.28)
    share = 0.2 * 140 / (140 + 150 + 4 + 30) + 0.25 * 140 / (140 + 150 + 30)
    assert depression.extra_treated == pytest.approx(share)
    assert depression.avoided_cost == pytest.approx(share * 74000 * U * 0.5)


def test_prices_are_uplifted_to_the_latest_deflator_year_by_default(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "economic_case", {**PERIOD, "area": BETA}, suppress=False)
    depression = frame.set_index("condition").loc["perinatal_depression"]
    assert depression.price_year == "2024/25"
    assert depression.cost_per_case == pytest.approx(74000 * U, rel=1e-9)
    in_2012 = case(fixture_warehouse, price_year="2012/13").loc[(BETA, "perinatal_depression")]
    assert in_2012.cost_per_case == 74000
    assert in_2012.extra_spend == pytest.approx(depression.extra_spend / U)


def test_one_row_per_area_and_condition(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "economic_case", {**PRICES_2024, "area": ICB_AB},
                       suppress=False)
    assert list(frame.condition) == ["perinatal_depression", "perinatal_anxiety", "perinatal_psychosis",
                                     "ptsd", "adjustment_disorders_distress"]
    # the ICB sums 5 births and 1 woman treated by each tier
    assert set(frame.live_births) == {5} and set(frame.specialist_treated) == {1}


def test_bad_scenario_parameters_are_refused_in_words(fixture_warehouse):
    with pytest.raises(MetricError, match="target_access_pct='150' is outside 0 to 100"):
        run_metric(fixture_warehouse, "economic_case", {**PERIOD, "target_access_pct": "150"})
    with pytest.raises(MetricError, match="targeted_target_pct='-1' is outside 0 to 100"):
        run_metric(fixture_warehouse, "economic_case", {**PERIOD, "targeted_target_pct": "-1"})
    with pytest.raises(MetricError, match="effect='lots' is not a number"):
        run_metric(fixture_warehouse, "economic_case", {**PERIOD, "effect": "lots"})
    with pytest.raises(MetricError, match="price_year='2030/31' is not in ref_deflators"):
        run_metric(fixture_warehouse, "economic_case", {**PERIOD, "price_year": "2030/31"})


def test_suppressed_case_hides_what_a_small_birth_count_would_give_away(fixture_warehouse):
    frame = run_metric(fixture_warehouse, "economic_case", {**PRICES_2024, "area": BETA})
    # 2 births: hidden, and with them every figure that is births x a published rate
    assert frame.live_births.isna().all()
    assert frame[["expected_cases", "cost_of_illness", "extra_spend", "roi_public"]].isna().all().all()
    assert frame.cost_per_case.notna().sum() == 3  # reference figures stay (the costed three)
    assert economics.totals(frame)["left_out"] == 5


def test_assumptions_list_each_step_with_its_source(fixture_warehouse):
    steps = economic_assumptions(fixture_warehouse, {"effect": "0.25", "price_year": "2023/24"})
    by_step = steps.set_index("step")
    assert list(steps.columns) == ["step", "value", "unit", "source", "status"]
    assert by_step.loc["Cost per case: Perinatal depression (every severity)", "value"] == 74000
    assert "pssru.ac.uk" in by_step.loc["Cost per case: Perinatal depression (every severity)", "source"]
    assert by_step.loc["Prevalence per 1,000 maternities (mid): Perinatal depression (every severity)",
                       "value"] == 95
    uplift = by_step.loc["Price uplift from 2012/13 to 2023/24"]
    assert uplift.value == pytest.approx(100 / 72.6, rel=1e-6)
    effect = by_step.loc["Effect: share of a case's cost avoided by treatment"]
    assert (effect.value, effect.status) == (0.25, "your setting")
    target = by_step.loc["Target: women treated by a specialist service, % of live births"]
    # not given: the national ambition, with its own source
    assert target.value == 10 and "Long Term Plan" in target.source
    share = by_step.loc["Public-sector share of the cost (every condition)"]
    assert share.value == 0.2099 and "not confirmed per condition" in share.unit
    ptsd = by_step.loc["Cost per case: Post-traumatic stress disorder (not costed)"]
    assert math.isnan(ptsd.value) and "not costed" in ptsd.unit


# ---- the pure arithmetic: disclosure, money, sensitivity --------------------------------------
def _one_area(live_births=2196, specialist=51, targeted=134) -> pd.DataFrame:
    """Two conditions of one area as economic_case.sql gives them (2012/13 prices, uplift 1)."""
    base = dict(area_code="A", live_births=live_births, specialist_treated=specialist,
                targeted_treated=targeted, treated=specialist, effect=0.1, target_access_pct=10.0,
                targeted_target_pct=12.5, public_share=0.2099, nhs_social_care_share=0.1481,
                public_cost_per_case_given=None, cost_uplift=1.0, treated_by_specialist=True,
                specialist_episode_cost=2000.0, targeted_episode_cost=500.0, price_year="2012/13")
    return pd.DataFrame([
        {**base, "condition": "perinatal_depression", "costed": True, "per_1000": 95.0,
         "per_1000_low": 70.0, "per_1000_mid": 95.0, "per_1000_high": 140.0, "cost_per_case": 74000.0,
         "mother_cost_per_case": 23000.0, "child_cost_per_case": 51000.0, "treated_by_targeted": True},
        {**base, "condition": "perinatal_psychosis", "costed": True, "per_1000": 5.0,
         "per_1000_low": 5.0, "per_1000_mid": 5.0, "per_1000_high": 5.0, "cost_per_case": 53000.0,
         "mother_cost_per_case": None, "child_cost_per_case": None, "treated_by_targeted": False}])


def test_disclosed_figures_come_from_the_rounded_count_at_three_significant_figures():
    shown = economics.disclosed(_one_area(live_births=2195))
    depression = shown.iloc[0]
    # 2,195 births (2,196 rounded) x 95 / 1,000 = 208.525 -> 209; x 74,000 = 15,430,850 -> 15,400,000
    assert depression.expected_cases == 209
    assert depression.cost_of_illness == 15_400_000
    assert economics.money_text(depression.cost_of_illness) == "£15.4m"


def test_each_tiers_share_rests_on_its_areas_total_summed_exactly():
    # ten conditions of 0.1 per 1,000 in area A: added one by one they make 0.9999999999999999,
    # exactly 1.0 (math.fsum); area B's rows lie between A's; a NaN adds nothing; no area, no total
    values = np.array([0.1] * 5 + [2.0, 3.0, np.nan] + [0.1] * 5 + [4.0])
    areas = np.array([0] * 5 + [1, 1, 1] + [0] * 5 + [-1])
    totals = economics.group_totals(values, areas)
    assert sum([0.1] * 10) != 1.0
    assert totals[:5].tolist() == [1.0] * 5 and totals[8:13].tolist() == [1.0] * 5
    assert totals[5:8].tolist() == [5.0, 5.0, 5.0]
    assert np.isnan(totals[13])
    assert economics.group_totals(np.zeros(0), np.zeros(0, dtype=np.int64)).tolist() == []


def test_money_is_shown_to_three_significant_figures_never_to_the_pound():
    assert economics.money_text(170_092_145) == "£170m"
    assert economics.money_text(1_234_567) == "£1.23m"
    assert economics.money_text(45_649) == "£45.6k"
    assert economics.money_text(980.4) == "£980"
    assert economics.money_text(-15_300.26) == "−£15.3k"
    assert economics.money_text(float("nan")) == "*"


def test_tornado_moves_one_assumption_at_a_time_and_ranks_by_swing():
    frame = _one_area()
    # specialist extra = 10% x 2,196 - 51 = 168.6; targeted 12.5% x 2,196 - 134 = 140.5 (depression only)
    found = economics.variations({"sensitivity_cost_per_case_pct": 25, "sensitivity_episode_cost_pct": 50,
                                  "sensitivity_effect_low": 0.05, "sensitivity_effect_high": 0.2,
                                  "public_sector_share_of_cost": 0.2099,
                                  "nhs_social_care_share_of_cost": 0.1481},
                                 {"2011/12": 71.5, "2012/13": 72.6, "2013/14": 74.0}, "2012/13", 0.1)
    table = economics.tornado(frame, found).set_index("assumption")
    spend = 168.6 * 2000 + 140.5 * 500
    worth = (168.6 * (95 * 74000 + 5 * 53000) / 100 + 140.5 * 74000) * 0.2099  # public cost of the extra cases
    base = worth * 0.1 / spend
    assert table.loc["Effect (share of cost avoided)", "base"] == pytest.approx(base)
    # ROI is linear in the effect: 0.05 and 0.2 halve and double it
    assert table.loc["Effect (share of cost avoided)", "low_value"] == pytest.approx(base / 2)
    assert table.loc["Effect (share of cost avoided)", "high_value"] == pytest.approx(base * 2)
    # episode cost +/-50%: ROI / 0.5 and / 1.5
    assert table.loc["Treatment episode cost", "low_value"] == pytest.approx(base / 0.5)
    # the costs counted in 2011/12 pounds are worth 72.6 / 71.5 more
    assert table.loc["Price year of the costs per case (2012/13)", "low_value"] == pytest.approx(base * 72.6 / 71.5)
    # the largest swing first: the effect (x0.5 to x2, 1.5 x base) beats episode cost (x2 to x0.67)
    assert list(table.index[:2]) == ["Effect (share of cost avoided)", "Treatment episode cost"]
    assert economics.break_even_effect(economics.evaluate(frame)) == pytest.approx(spend / worth)


def test_a_commissioners_own_costs_replace_the_shipped_ones(warehouse_url, tmp_path):
    from metric_fixtures import build_warehouse
    from pathway.reference import replace

    warehouse = build_warehouse(warehouse_url)
    own = tmp_path / "costs.csv"
    own.write_text("condition,cost_per_case,mother_cost,child_cost,public_sector_cost,price_year,label,status,source\n"
                   "depression,100000,40000,60000,30000,2024/25,Depression,assumption,Our own review\n")
    with warehouse.begin() as conn:
        replace(conn, "costs", own)
    frame = run_metric(warehouse, "economic_case", {**PRICES_2024, "area": ALPHA}, suppress=False)
    warehouse.dispose()
    by_condition = frame.set_index("condition")
    # depression now GBP 100,000 in 2024/25 prices (no uplift), its own public-sector part 30,000;
    # anxiety and psychosis have no ref_costs row left, so they are listed but not costed
    depression = by_condition.loc["perinatal_depression"]
    assert depression.cost_of_illness == pytest.approx(0.285 * 100000)
    assert depression.public_sector_cost == pytest.approx(0.285 * 30000)
    assert not by_condition.loc["perinatal_anxiety", "costed"]
    assert math.isnan(by_condition.loc["perinatal_anxiety", "cost_of_illness"])
