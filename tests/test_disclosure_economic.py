"""Contract 7.4 on the economic case page: its totals over conditions and areas and its returns
under other assumptions must not give a hidden or rounded count back (pathway.disclosure_economic).

Each test builds one condition's rows by hand (a cost per case of £50,000: mother £20,000, child
£30,000; 100 per 1,000; the public sector's share 0.2; effect 0.3; a specialist episode £1,000, a
targeted one £500), shows what a leaky page would send, worked out from the exact counts, and
what the page sends, worked out from the shown counts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pathway import economics
from pathway.disclosure_economic import (AS_SHOWN, COUNTS, attack_figures, candidates, quantities, read_figures,
                                         scenarios_for)
from pathway.settings import DisclosurePolicy

NAMES = {"A": "Northmoor", "B": "Eastfield"}
LABELS = {"depression": "Perinatal depression (every severity)"}
# the sensitivity's ranges (ref_parameters' names); no price year to move
PARAMETERS = {"sensitivity_cost_per_case_pct": 25, "sensitivity_episode_cost_pct": 50, "effect_avoided_share": 0.3,
              "sensitivity_effect_low": 0.15, "sensitivity_effect_high": 0.6, "public_sector_share_of_cost": 0.2,
              "nhs_social_care_share_of_cost": 0.1}


def economic_rows(areas: dict[str, tuple[int, int, int]], targeted_target: float = 0.0) -> pd.DataFrame:
    """economic_case's rows for one condition treated by both tiers: area -> (live births, women
    treated by the specialist tier, by the targeted tier); targets 10% and `targeted_target`."""
    return pd.DataFrame([dict(
        area_code=code, condition="depression", costed=True, live_births=births, specialist_treated=specialist,
        targeted_treated=targeted, treated=specialist, per_1000=100.0, per_1000_low=50.0, per_1000_mid=100.0,
        per_1000_high=150.0, cost_per_case=50_000.0, mother_cost_per_case=20_000.0, child_cost_per_case=30_000.0,
        public_cost_per_case_given=math.nan, public_share=0.2, nhs_social_care_share=0.1,
        treated_by_specialist=True, treated_by_targeted=True, target_access_pct=10.0,
        targeted_target_pct=targeted_target, specialist_episode_cost=1000.0, targeted_episode_cost=500.0,
        effect=0.3, cost_uplift=1.0) for code, (births, specialist, targeted) in areas.items()])


def disclosed(truth: pd.DataFrame, policy: DisclosurePolicy = DisclosurePolicy()) -> pd.DataFrame:
    """The counts as economic_case shows them: 1 to 7 hidden (blank), others rounded."""
    out = truth.copy()
    for column in COUNTS:
        values = out[column].astype(float)
        out[column] = np.where((values >= 1) & (values < policy.suppress_below), np.nan,
                               np.floor(values / policy.round_to + 0.5) * policy.round_to)
    return out


def recovered(result) -> set[tuple[int, str, int]]:
    return {(r.row, r.column, r.true_value) for r in result.recovered}


def attack(tables, charts, shown, truth, variations=(), policy=DisclosurePolicy()):
    from_tables, from_charts, unread = read_figures(tables, charts, NAMES, LABELS,
                                                    {v.assumption: v.assumption for v in variations})
    assert unread == []
    return attack_figures(from_tables + from_charts, shown, truth, scenarios_for(list(variations), None),
                          policy, channel="test", table="test")


def test_the_attack_works_totals_out_as_the_page_does():
    truth = economic_rows({"A": (209, 8, 22), "B": (150, 9, 12)}, targeted_target=12.5)
    combos = {area: candidates(disclosed(truth).set_index("area_code").loc[area], DisclosurePolicy(), hidden_too=False)
              for area in ("A", "B")}
    # A shown 210, 10, 20: 5 x 5 x 5 combinations, the first 208, 8, 18; B 150, 10, 10
    assert len(combos["A"]) == 125 and list(combos["A"][0]) == [208, 8, 18]
    worked = quantities(disclosed(truth), combos, {AS_SHOWN: economics.Changes()})[AS_SHOWN]
    for area, (births, specialist, targeted) in (("A", (209, 8, 22)), ("B", (150, 9, 12))):
        j = [tuple(c) for c in combos[area]].index((births, specialist, targeted))
        page = economics.totals(economics.evaluate(economic_rows({area: (births, specialist, targeted)}, 12.5)))
        for quantity in ("extra_spend", "avoided_public_cost", "avoided_cost"):
            assert worked[quantity][area][j] == page[quantity]
    # A at 209, 8, 22: specialists 20.9 - 8 = 12.9 more at £1,000, targeted 26.125 - 22 = 4.125 at £500
    j = [tuple(c) for c in combos["A"]].index((209, 8, 22))
    assert worked["extra_spend"]["A"][j] == pytest.approx(12.9 * 1000 + 4.125 * 500)
    assert worked["mother:depression"]["A"][j] == pytest.approx(20.9 * 20_000)


def test_a_scenario_total_from_exact_counts_gives_births_and_specialist_treated_back():
    # one area, 209 births (shown 210), 8 treated by the specialist tier (shown 10); no targeted
    # target, so extra spend = (10% x births - specialist) x £1,000 = 100 x births - 1,000 x specialist
    truth = economic_rows({"A": (209, 8, 22)})
    shown = disclosed(truth)
    assert list(shown.loc[0, list(COUNTS)]) == [210, 10, 20]
    # a leaky page: 12,900, 12.9 x £3,000 avoided for the public sector = 38,700, 193,500 for society,
    # sent to 3 significant figures. Printed £12.9k (12,850 to 12,950), only 209 and 8 among births
    # 208-212 and specialist 8-12 give it (20,900 - 8,000); the targeted count is used by nothing
    leaky = {"economic-scenario": {"data": [{
        "type": "bar", "x": ["Extra spend", "Avoided: public sector", "Avoided: society"],
        "y": [12900.0, 38700.0, 193000.0], "text": ["£12.9k", "£38.7k", "£193k"]}]}}
    assert recovered(attack({}, leaky, shown, truth)) == {(0, "live_births", 209), (0, "specialist_treated", 8)}
    # the page works them out from 210 and 10: 11,000, 33,000 and 165,000, which tell nothing new
    page = economics.totals(economics.evaluate(shown))
    assert [page[k] for k in ("extra_spend", "avoided_public_cost", "avoided_cost")] == [11000, 33000, 165000]
    safe = {"economic-scenario": {"data": [{
        "type": "bar", "x": ["Extra spend", "Avoided: public sector", "Avoided: society"],
        "y": [11000.0, 33000.0, 165000.0], "text": ["£11k", "£33k", "£165k"]}]}}
    assert recovered(attack({}, safe, shown, truth)) == set()


def test_headline_tiles_from_exact_counts_give_births_and_specialist_treated_back():
    from pathway.disclosure_economic import read_tiles

    # as above: each extra woman costs £1,000 and avoids £3,000 for the public sector, so the net
    # benefit is 2 x (100 x births - 1,000 x specialist): from the exact counts £25.8k (25,750 to
    # 25,850), which only 209 and 8 give; the return £3.00 and break-even 0.1 rest on no count
    truth = economic_rows({"A": (209, 8, 22)})
    shown = disclosed(truth)

    def tiles(frame):
        found = economics.totals(economics.evaluate(frame))
        return [("Return for the public sector", f"£{found['roi_public']:.2f}"),
                ("Net benefit to the public sector", economics.money_text(found["net_benefit_public"])),
                ("Break-even effect", f"{found['break_even_effect_public']:.3g}")]
    assert tiles(truth) == [("Return for the public sector", "£3.00"), ("Net benefit to the public sector", "£25.8k"),
                            ("Break-even effect", "0.1")]
    figures, unread = read_tiles(tiles(truth))
    assert unread == [] and len(figures) == 3
    result = attack_figures(figures, shown, truth, scenarios_for([], None), DisclosurePolicy(), channel="test",
                            table="test")
    assert recovered(result) == {(0, "live_births", 209), (0, "specialist_treated", 8)}
    # from the shown 210 and 10: £22k, which tells nothing new
    assert tiles(shown)[1] == ("Net benefit to the public sector", "£22k")
    result = attack_figures(read_tiles(tiles(shown))[0], shown, truth, scenarios_for([], None), DisclosurePolicy(),
                            channel="test", table="test")
    assert recovered(result) == set()


def _returns_chart(frame: pd.DataFrame) -> dict:
    """The scenario chart of several areas as the page draws it: each area's returns to the penny."""
    per_area = economics.by_area(economics.evaluate(frame))
    labels = [NAMES[a] for a in per_area.area_code]
    return {"economic-scenario": {"data": [
        {"type": "bar", "orientation": "h", "name": name, "y": labels, "x": list(per_area[column].round(2))}
        for name, column in (("Public sector", "roi_public"), ("Society", "roi_society"))]}}


def test_returns_by_area_from_exact_counts_give_an_areas_counts_back():
    # A: 96 births (shown 95), 9 and 9 treated (shown 10 and 10); targeted target 12.5%. From the
    # exact counts 9.6 - 9 = 0.6 more women at £1,000 and 12 - 9 = 3 at £500 avoid 3.6 x £3,000
    # for the public sector: £10,800 / £2,100 = £5.14. Of the 125 combinations of births 93-97 and
    # 8-12 treated by each tier, only 96, 9, 9 gives £5.14 to the penny.
    truth = economic_rows({"A": (96, 9, 9), "B": (150, 10, 10)}, targeted_target=12.5)
    shown = disclosed(truth)
    leaky = _returns_chart(truth)
    assert leaky["economic-scenario"]["data"][0]["x"][0] == 5.14
    assert recovered(attack({}, leaky, shown, truth)) == {(0, "live_births", 96), (0, "specialist_treated", 9),
                                                          (0, "targeted_treated", 9)}
    # from the shown 95, 10, 10 the specialist tier adds no one (9.5 < 10): 1.875 x £3,000 / £937.50 = £6.00
    safe = _returns_chart(shown)
    assert safe["economic-scenario"]["data"][0]["x"][0] == 6.0
    assert recovered(attack({}, safe, shown, truth)) == set()


def _sensitivity(frame: pd.DataFrame, variations) -> tuple[pd.DataFrame, dict]:
    """The sensitivity table and tornado chart as the page prints them (returns to the penny)."""
    table = economics.tornado(economics.evaluate(frame), variations, "roi_public")
    people = pd.DataFrame({"Assumption": table.assumption, "Low": table.low_label,
                           "Return at low": [f"£{v:.2f}" for v in table.low_value], "High": table.high_label,
                           "Return at high": [f"£{v:.2f}" for v in table.high_value],
                           "Swing": [f"£{v:.2f}" for v in table.swing]})
    chart = {"data": [{"type": "bar", "orientation": "h", "name": name, "base": round(float(table.base[0]), 2),
                       "y": [a.replace(" (", "<br>(") for a in table.assumption],
                       "text": [f"{v:.2f} ({w})" for v, w in zip(table[column], table[label])]}
                      for name, column, label in (("Low value", "low_value", "low_label"),
                                                  ("High value", "high_value", "high_label"))]}
    return people, chart


def test_a_sensitivity_table_from_exact_counts_gives_the_counts_back():
    variations = economics.variations(PARAMETERS, {}, None, 0.3)
    assert [v.assumption for v in variations] == ["Prevalence", "Cost per case", "Effect (share of cost avoided)",
                                                  "Treatment episode cost", "Public-sector share of the cost"]
    truth = economic_rows({"A": (96, 9, 9)}, targeted_target=12.5)
    shown = disclosed(truth)
    # from the exact counts the return is £5.14 (above): the effect at 0.15 and 0.6 halves and doubles
    # it, £2.57 and £10.29; episodes at half their cost double it, £10.29
    table, chart = _sensitivity(truth, variations)
    rows = table.set_index("Assumption")
    assert (rows.at["Effect (share of cost avoided)", "Return at low"],
            rows.at["Effect (share of cost avoided)", "Return at high"],
            rows.at["Treatment episode cost", "Return at low"]) == ("£2.57", "£10.29", "£10.29")
    given_back = {(0, "live_births", 96), (0, "specialist_treated", 9), (0, "targeted_treated", 9)}
    assert recovered(attack({"economic-sensitivity": table}, {}, shown, truth, variations)) == given_back
    # the tornado chart's values, read on their own, give the same back
    assert recovered(attack({}, {"economic-sensitivity": chart}, shown, truth, variations)) == given_back
    # worked out from the shown counts (£6.00 as shown, £3.00 and £12.00 at the effect's ends): nothing
    table, chart = _sensitivity(shown, variations)
    assert table.set_index("Assumption").at["Effect (share of cost avoided)", "Return at low"] == "£3.00"
    assert recovered(attack({"economic-sensitivity": table}, {"economic-sensitivity": chart}, shown, truth,
                            variations)) == set()


def test_a_cost_total_that_counts_a_hidden_area_gives_its_births_back():
    # A policy that hides 1-7 and does not round. A has 200 births, B 5 (hidden, and no one treated).
    # The page's cost chart adds up the areas it shows: mother 200 x 0.1 x £20,000 = £400k, child
    # £600k. A leaky page counts B too: 205 x £2,000 = £410k and 205 x £3,000 = £615k. No count of A
    # gives those, so the attack supposes the hidden area counted: child £615k (614,500 to 615,500)
    # leaves 5 births of 1-7 (£3,000 each).
    policy = DisclosurePolicy(suppress_below=8, round_to=1)
    truth = economic_rows({"A": (200, 12, 0), "B": (5, 0, 0)})
    shown = disclosed(truth, policy)
    assert math.isnan(shown.live_births[1]) and shown.specialist_treated[1] == 0

    def cost_chart(mother, child):
        labels = ["Perinatal depression<br>(every severity)"]
        return {"economic-cost": {"data": [{"type": "bar", "orientation": "h", "name": name, "y": labels, "x": [x]}
                                           for name, x in (("Mother", mother), ("Child", child),
                                                           ("Not split by the source", 0.0))]}}
    result = attack({}, cost_chart(410_000.0, 615_000.0), shown, truth, policy=policy)
    assert recovered(result) == {(1, "live_births", 5)}
    assert {r.attack for r in result.recovered} == {"economic figure from its counts, hidden rows counted"}
    assert recovered(attack({}, cost_chart(400_000.0, 600_000.0), shown, truth, policy=policy)) == set()


def test_words_the_page_does_not_print_are_listed_not_read():
    chart = {"economic-scenario": {"data": [{"type": "bar", "x": ["Extra spending"], "y": [11000.0]}]},
             "economic-cost": {"data": [{"type": "bar", "orientation": "h", "name": "Mother", "y": ["Anxiety"],
                                         "x": [1.0]}]}}
    table = pd.DataFrame({"Assumption": ["Discount rate"], "Return at low": ["£1.00"]})
    _, _, unread = read_figures({"economic-sensitivity": table}, chart, NAMES, LABELS, {"Prevalence": "Prevalence"})
    assert unread == ["sensitivity row 'Discount rate'", "economic-scenario 'Extra spending'",
                      "economic-cost 'Anxiety'"]
    from pathway.disclosure_economic import read_tiles

    # a loss is printed with a minus sign (−£12.9k), read as -12,900 to the nearest 100
    figures, unread = read_tiles([("Net benefit to society", "\u2212£12.9k"), ("Payback period", "3 years")])
    assert unread == ["headline 'Payback period'"]
    assert [(f.quantity, f.shown.value, f.shown.step) for f in figures] == [("net_society", -12900.0, 100.0)]


def test_a_blank_return_of_an_area_with_a_hidden_count_is_no_figure():
    # the areas chart sends no value for an area whose return rests on a hidden count
    chart = {"economic-scenario": {"data": [{"type": "bar", "orientation": "h", "name": "Public sector",
                                             "y": ["Northmoor", "Eastfield"], "x": [6.0, None]}]}}
    _, figures, unread = read_figures({}, chart, NAMES, LABELS, {})
    assert unread == [] and [(f.area, f.shown.value) for f in figures] == [("A", 6.0)]


def test_two_scenario_settings_together_give_births_back_that_neither_gives_alone():
    from pathway.disclosure_economic import EconomicAttack, Figure, across_views, area_counts
    from pathway.disclosure_figures import printed_numbers

    # 209 births (shown 210), 8 treated by the specialist tier (shown 10), each extra woman £1,000.
    # At a 10% target a leaky page prints extra spend 100 x 209 - 8,000 = £13k (12,500 to 13,500):
    # the specialist count 8 with any births 208-212. At 100% it prints (209 - 8) x £1,000 = £201k:
    # births - specialist = 201, so 209 and 8, 210 and 9, 211 and 10 or 212 and 11. Together: 209.
    views = []
    for target, printed in ((10.0, "£13k"), (100.0, "£201k")):
        truth = economic_rows({"A": (209, 8, 22)}).assign(target_access_pct=target)
        shown = disclosed(truth)
        worked_out = {}
        result = attack_figures([Figure("extra spend", printed_numbers(printed)[0], "extra_spend")], shown, truth,
                                scenarios_for([], None), DisclosurePolicy(), channel="test", table="test",
                                worked_out=worked_out)
        views.append((recovered(result), EconomicAttack(kept=worked_out["kept"], shown=area_counts(shown),
                                                        true=area_counts(truth))))
    assert [found for found, _ in views] == [{(0, "specialist_treated", 8)}, set()]
    together = across_views([attack for _, attack in views])
    assert {(r.table, r.column, r.true_value) for r in together.recovered} == {
        ("economic_case, A", "live_births", 209), ("economic_case, A", "specialist_treated", 8)}
    # the same two settings worked out from the shown 210 and 10 (£11k and £200k): nothing
    views = []
    for target, printed in ((10.0, "£11k"), (100.0, "£200k")):
        truth = economic_rows({"A": (209, 8, 22)}).assign(target_access_pct=target)
        shown = disclosed(truth)
        worked_out = {}
        attack_figures([Figure("extra spend", printed_numbers(printed)[0], "extra_spend")], shown, truth,
                       scenarios_for([], None), DisclosurePolicy(), channel="test", table="test",
                       worked_out=worked_out)
        views.append(EconomicAttack(kept=worked_out["kept"], shown=area_counts(shown), true=area_counts(truth)))
    assert across_views(views).recovered == []


def test_a_scenario_table_row_is_read_as_one_area_and_conditions_figures():
    # the page's scenario table: a row per area and condition, money at 3 significant figures,
    # returns to the penny, '*' or '–' where a figure rests on a hidden count or no spend
    truth = economic_rows({"A": (209, 8, 22)})
    shown = disclosed(truth)

    def table(spend, avoided, ret):
        return pd.DataFrame({"Area code": ["A"], "Condition": ["Perinatal depression (every severity)"],
                             "Women treated now": ["10"], "Extra spend": [spend], "Avoided: public sector": [avoided],
                             "Return: public sector": [ret], "Avoided: society": ["*"]})
    figures, _, unread = read_figures({"economic-scenario": table("£12.9k", "£38.7k", "£3.00")}, {}, NAMES, LABELS, {})
    assert unread == []
    assert [(f.quantity, f.per, f.area, f.shown.value, f.shown.step) for f in figures] == [
        ("row:extra_spend:depression", None, "A", 12900.0, 100.0),
        ("row:avoided_public_cost:depression", None, "A", 38700.0, 100.0),
        ("row:avoided_public_cost:depression", "row:extra_spend:depression", "A", 3.0, 0.01)]
    # the row's extra spend from the exact counts (as in the scenario chart above) gives 209 and 8 back
    result = attack_figures(figures, shown, truth, scenarios_for([], None), DisclosurePolicy(), channel="test",
                            table="test")
    assert recovered(result) == {(0, "live_births", 209), (0, "specialist_treated", 8)}
    figures, _, _ = read_figures({"economic-scenario": table("£11k", "£33k", "£3.00")}, {}, NAMES, LABELS, {})
    assert recovered(attack_figures(figures, shown, truth, scenarios_for([], None), DisclosurePolicy(),
                                    channel="test", table="test")) == set()
    # a page leaky in one part: its table from the shown counts (210, 10), its chart's total from the
    # exact ones (209, 8). No counts give both; each kind of figure on its own, the chart gives them back
    chart = {"economic-scenario": {"data": [{"type": "bar", "x": ["Extra spend"], "y": [12900.0]}]}}
    from_table, from_chart, _ = read_figures({"economic-scenario": table("£11k", "£33k", "£3.00")}, chart, NAMES,
                                             LABELS, {})
    result = attack_figures(from_table + from_chart, shown, truth, scenarios_for([], None), DisclosurePolicy(),
                            channel="test", table="test")
    assert recovered(result) == {(0, "live_births", 209), (0, "specialist_treated", 8)}
