"""Contract 7.4: no hidden or rounded count can be worked back from anything shown.

The attack (pathway.disclosure_audit) must catch the leaks review found (a median benchmark over
an odd number of areas, a percentage at full precision beside rounded counts, expected cases from
unrounded births, differencing against a total), and find nothing in what the product shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metric_fixtures import PERIOD, fixture_warehouse  # noqa: F401
from pathway.catalogue import METRICS
from pathway.disclosure import (DisclosureSpec, FromCounts, Proportion, RowsAddUp, Summary,
                                apply_disclosure, format_for_people)
from pathway.disclosure_audit import attack_table, parse_cell
from pathway.metrics import run_metric
from pathway.settings import DisclosurePolicy

REACH = DisclosureSpec(counts=("reached", "cohort"), proportions=(Proportion("pct", "reached", "cohort"),),
                       summaries=(Summary(("benchmark_pct",)),), labels=("area_code",))


def recovered(result) -> set[tuple[int, str, int]]:
    return {(r.row, r.column, r.true_value) for r in result.recovered}


# ---- every column says what it is -------------------------------------------------------
RUNS = [(name, {}) for name in sorted(METRICS)] + [
    ("trend", {"metric": "stage_reach", "tier": "universal"}),
    ("trend", {"metric": "waiting_times"}),
    ("equity", {"metric": "mood_screening"}),
    ("service_gaps", {"by": "service"}),
]


@pytest.mark.parametrize("name, params", RUNS, ids=[f"{n}{p}" for n, p in RUNS])
def test_every_numeric_column_of_every_metric_is_declared(fixture_warehouse, name, params):
    metric = METRICS[name]
    accepted = {p.name for p in metric.parameters}
    params = {k: v for k, v in {**PERIOD, **params}.items() if k in accepted}
    for suppress in (True, False):
        frame = run_metric(fixture_warehouse, name, params, suppress=suppress)
        spec = frame.attrs["disclosure"]
        assert spec.undeclared(frame) == [], f"{name}: declare these in pathway/catalogue.py"


def test_an_undeclared_numeric_column_is_named():
    frame = pd.DataFrame({"area_code": ["A"], "reached": [10], "cohort": [40], "pct": [25.0],
                          "ci_low": [1.0], "ci_high": [2.0], "benchmark_pct": [3.0],
                          "expected": [4.2], "note": ["text"]})
    assert REACH.undeclared(frame) == ["expected"]


# ---- the attack catches the leaks review found ----------------------------------------
def test_median_benchmark_over_three_areas_gives_a_hidden_count_back():
    # Riverholme reaches 1 of 165: hidden, but the median of three areas' exact percentages is
    # its own, 0.6060606...%, and 0.6060606 x 165 / 100 = 1.
    truth = pd.DataFrame({"area_code": ["A", "B", "C"], "reached": [1, 0, 9], "cohort": [165, 120, 200]})
    truth["pct"] = 100 * truth.reached / truth.cohort
    truth["ci_low"], truth["ci_high"] = float("nan"), float("nan")
    truth["benchmark_pct"] = truth.pct.median()
    shown = format_for_people(apply_disclosure(truth, REACH), REACH)
    shown["benchmark_pct"] = [repr(v) for v in truth.benchmark_pct]  # as the old code printed it
    assert shown.reached[0] == "*"
    result = attack_table(shown, truth, REACH)
    assert (0, "reached", 1) in recovered(result)
    assert {r.attack for r in result.recovered} == {"median or mean over areas"}


def test_a_percentage_at_full_precision_pins_both_rounded_counts():
    # 195 of 209 shown as 195 and 210; 93.30143...% is 195/209 and nothing else near.
    truth = pd.DataFrame({"area_code": ["A"], "reached": [195], "cohort": [209]})
    truth["pct"] = 100 * 195 / 209
    truth["ci_low"], truth["ci_high"] = float("nan"), float("nan")
    truth["benchmark_pct"] = float("nan")
    shown = pd.DataFrame({"area_code": ["A"], "reached": ["195"], "cohort": ["210"],
                          "pct": [repr(100 * 195 / 209)], "ci_low": [""], "ci_high": [""],
                          "benchmark_pct": [""]})
    assert recovered(attack_table(shown, truth, REACH)) == {(0, "cohort", 209)}
    # printed as the product prints it (whole percent over a denominator under 4,000): nothing
    safe = format_for_people(apply_disclosure(truth, REACH), REACH)
    assert safe.pct[0] == "93" and recovered(attack_table(safe, truth, REACH)) == set()


def test_a_formula_right_only_by_chance_is_not_a_recovery():
    """A whole-number rate per 100 beside a hidden count of women seen by telephone: 'rate =
    count x 1' answers one value in every row (a shown 2 allows only 2 of 1 to 7), right in 2
    rows of 6 by chance (on the national demo, 6 months of 10). An attacker cannot tell which,
    so it is luck, not a recovery. A formula that gives counts away fits the true count in
    every row, so it is right wherever it answers one value."""
    spec = DisclosureSpec(counts=("phone", "births"),
                          from_counts=(FromCounts(("rate",), per=("phone",), over=("births",)),),
                          labels=("area_code",))
    truth = pd.DataFrame({"area_code": list("ABCDEF"), "phone": [2, 3, 5, 1, 4, 6],
                          "births": [1500, 1400, 1300, 1200, 1100, 1000],
                          "rate": [2.0, 2.0, 3.0, 1.0, 1.0, 2.0]})
    shown = pd.DataFrame({"area_code": list("ABCDEF"), "phone": ["*"] * 6,
                          "births": ["1500", "1400", "1300", "1200", "1100", "1000"],
                          "rate": ["2", "2", "3", "1", "1", "2"]})
    assert recovered(attack_table(shown, truth, spec)) == set()
    # wrong in one row of 6, it is still luck; right in every row it is a way back
    truth["phone"] = [2, 2, 3, 1, 1, 6]
    assert recovered(attack_table(shown, truth, spec)) == set()
    truth["phone"] = [2, 2, 3, 1, 1, 2]
    assert {(0, "phone", 2), (2, "phone", 3), (5, "phone", 2)} <= recovered(attack_table(shown, truth, spec))


def test_expected_cases_from_unrounded_births_give_the_births_back():
    # 209 births shown as 210; expected cases 209 x 125 / 1,000 = 26.125 printed 26.1, which
    # only 209 gives among 208..212 (26.0, 26.1, 26.3, 26.4, 26.5).
    spec = DisclosureSpec(counts=("live_births",),
                          from_counts=(FromCounts(("expected_cases",), per=("live_births",)),),
                          labels=("area_code", "per_1000"))
    truth = pd.DataFrame({"area_code": ["A", "B"], "live_births": [209, 114], "per_1000": [125.0, 125.0]})
    truth["expected_cases"] = truth.live_births * truth.per_1000 / 1000
    leaky = pd.DataFrame({"area_code": ["A", "B"], "live_births": ["210", "115"],
                          "per_1000": ["125.0", "125.0"], "expected_cases": ["26.1", "14.3"]})
    assert recovered(attack_table(leaky, truth, spec)) == {(0, "live_births", 209), (1, "live_births", 114)}
    # the product works them out from the shown births: 210 x 0.125 = 26.25 -> 26.3
    safe = format_for_people(apply_disclosure(truth, spec), spec)
    assert list(safe.expected_cases) == ["26.3", "14.4"]
    assert recovered(attack_table(safe, truth, spec)) == set()


def test_differencing_against_a_total_gives_a_hidden_area_back():
    # A policy that only hides 1-7 (no rounding): areas 5, 40, 12 and an 'all' row of 57.
    policy = DisclosurePolicy(suppress_below=8, round_to=1)
    spec = DisclosureSpec(counts=("n",), labels=("area_code",),
                          additive=(RowsAddUp(columns=("n",), along="area_code", total="all"),))
    truth = pd.DataFrame({"area_code": ["A", "B", "C", "all"], "n": [5, 40, 12, 57]})
    naive = apply_disclosure(truth, DisclosureSpec(counts=("n",)), policy)
    assert recovered(attack_table(naive, truth, spec, policy)) == {(0, "n", 5)}
    assert recovered(attack_table(apply_disclosure(truth, spec, policy), truth, spec, policy)) == set()


def test_rounded_parts_at_the_edge_of_their_total_are_protected():
    # Four groups of 12 shown as 10 each and their total 48 shown as 50: the total can only be
    # 48 (the parts reach at most 4 x 12) and so every group exactly 12.
    spec = DisclosureSpec(counts=("n",), labels=("group",),
                          additive=(RowsAddUp(columns=("n",), along="group", total="all"),))
    truth = pd.DataFrame({"group": ["a", "b", "c", "d", "all"], "n": [12, 12, 12, 12, 48]})
    naive = apply_disclosure(truth, DisclosureSpec(counts=("n",)))
    assert len(recovered(attack_table(naive, truth, spec))) == 5
    safe = apply_disclosure(truth, spec)
    assert safe["n"].isna().sum() == 2  # two groups hidden, so the others no longer add up to it
    assert recovered(attack_table(safe, truth, spec)) == set()


def test_printed_precision_is_read_from_the_text():
    assert parse_cell("93.3").step == pytest.approx(0.1)
    assert parse_cell("1310000").step == 10000  # three significant figures
    assert parse_cell("*").hidden and parse_cell(None).hidden
    assert parse_cell(93.30143540669856).step < 1e-9


# ---- what the product shows -------------------------------------------------------------
def test_money_is_shown_to_three_significant_figures():
    spec = DisclosureSpec(counts=("live_births",), from_counts=(
        FromCounts(("cost",), per=("live_births",), unit="money"),))
    truth = pd.DataFrame({"live_births": [210], "cost": [1302291.7]})  # 210 x 6,201.39
    out = format_for_people(apply_disclosure(truth, spec), spec)
    assert out.cost[0] == "1300000"


def test_a_percentage_has_one_decimal_place_only_over_4000():
    out = format_for_people(apply_disclosure(
        pd.DataFrame({"area_code": ["A", "B"], "reached": [2000, 100], "cohort": [4002, 201],
                      "pct": [100 * 2000 / 4002, 100 * 100 / 201], "ci_low": [49.4, 42.9],
                      "ci_high": [51.5, 56.6], "benchmark_pct": [50.0, 50.0]}), REACH), REACH)
    # 49.975...% over 4,000 -> 50.0; 49.75% over 200 -> 50
    assert list(out.pct) == ["50.0", "50"]


# ---- the county demo: every metric and area mode attacked; planted gaps still show --------
@pytest.fixture(scope="session")
def county_demo(tmp_path_factory):
    """The county demo in a throwaway DuckDB file, built once for the session (20-40 s)."""
    from pathway.db import Warehouse
    from pathway.demo import build_demo

    warehouse = Warehouse(f"duckdb:///{tmp_path_factory.mktemp('county') / 'county.duckdb'}")
    warehouse.ensure_schema()
    assert all(s.outcome == "loaded" for s in build_demo(warehouse, seed=2024, scale="county"))
    yield warehouse
    warehouse.dispose()


@pytest.mark.slow
def test_the_attack_recovers_nothing_from_the_county_demo(county_demo):
    from pathway.disclosure_audit import area_modes, audit_warehouse

    modes = area_modes(county_demo)
    assert [label for label, _ in modes][:2] == ["all areas", "ICB X54000001"] and len(modes) == 5
    result = audit_warehouse(county_demo)
    assert result.cells_attacked["pathway query CSV"] > 1000
    assert result.attacks_tried[("pathway query CSV", "percentage x denominator")] > 500
    # every metric ran, and every card table and chart point is mapped back to a metric's cells
    # (what could not be would be listed here, not skipped in silence): the economic case's totals,
    # returns by area and sensitivity too, in its layout and through its scenario callback
    assert result.not_covered == []
    for channel in ("dashboard tables and downloads", "dashboard chart data", "dashboard headline figures"):
        assert result.attacks_tried[(channel, "economic figure from its counts")] > 500, channel
    assert result.cells_attacked["dashboard across views (economic case)"] > 10
    for channel in ("pathway query JSON", "dashboard tables and downloads", "HTML report (every printed number)",
                    "across tables and metrics (pathway query)", "dashboard chart data",
                    "map hover text"):
        assert result.cells_attacked[channel] > 100, channel
    # pooled all-areas cards are attacked as totals of the areas' rows
    assert result.attacks_tried[("dashboard tables and downloads", "differencing and sums of parts")] > 100
    assert result.recovered == [], "\n".join(map(str, result.recovered[:20]))


@pytest.mark.slow
def test_the_planted_gaps_still_show_with_the_same_figures(county_demo):
    from pathway.demo import PLANTED_GAPS

    def both(name, params):
        return (run_metric(county_demo, name, params),
                run_metric(county_demo, name, params, suppress=False))

    # Eastfield: no parent-infant team, flagged no_service in the infant stage either way
    eastfield = PLANTED_GAPS["no_parent_infant_team"]["area_code"]
    for frame in both("service_gaps", {"by": "service"}):
        cell = frame[(frame.area_code == eastfield) & (frame.stage == "infant")
                     & (frame.service == "parent_infant")].iloc[0]
        assert (cell.reached, cell.flag) == (0, "no_service")
    # Riverholme: the 12-month review on time for about 15%, against 55% or more elsewhere;
    # the shown percentage differs from the exact one by its precision (whole percent) and,
    # over 1,000 or more, by working it out from the shown counts: (a - p.b) / d for counts
    # moved by a and b of at most 2.5 each, so at most 500 / d points
    riverholme = PLANTED_GAPS["twelve_month_review_lag"]["area_code"]
    shown, exact = (f[f.contact_code == "twelve_month_review"].set_index("area_code")
                    for f in both("mandated_contacts", {}))
    from_shown = 500 / shown.denominator.astype(float)
    assert ((shown.pct - exact.pct).abs() <= 0.5 + from_shown.where(shown.denominator >= 1000, 0) + 1e-9).all()
    assert shown.pct[riverholme] < 25 and (shown.pct.drop(riverholme) > 55).all()
    # Riverholme: no maternal mental health service, nothing at any step of its funnel
    for frame in both("referral_funnel", {"area": riverholme}):
        steps = frame[frame.service == "maternal_mh"].iloc[0]
        assert [steps[c] for c in ("screened", "referred", "assessed", "treated")] == [0, 0, 0, 0]
    # Northmoor: its most deprived fifth reached by targeted services far less than the rest
    northmoor = PLANTED_GAPS["deprived_families_underserved"]["area_code"]
    shown, exact = (f[f.dimension == "imd_quintile"].set_index("group")
                    for f in both("equity", {"area": northmoor, "metric": "stage_reach", "tier": "targeted"}))
    # (whole percent, or from the shown counts where the exact one would pin them: within the
    # rounding of a count to 5 as well)
    both = shown.pct.notna()
    assert ((shown.pct - exact.pct).abs()[both] <= 0.5 + 250 / shown.cohort.astype(float)[both]).all()
    assert shown.pct["1"] < 0.6 * shown.pct[["2", "3"]].min()
    # and its rate ratio against quintile 5 (the reference group, which secondary suppression
    # leaves shown) is well below 1, as the exact one is, within the rounding of the counts.
    # (Northmoor's least deprived fifth is about 90 families, so whether the ratio's interval
    # stops short of 1 turns on a handful of them: the ratio itself is the planted figure.)
    assert shown.rate_ratio["1"] < 0.7 and exact.rate_ratio["1"] < 0.7
    assert abs(shown.rate_ratio["1"] - exact.rate_ratio["1"]) < 0.1


@pytest.mark.slow
def test_the_counts_several_metrics_show_are_declared_and_agree(county_demo):
    """catalogue.SAME_COUNTS, which the ICB guard reads, against what the attack across tables
    judges from the counts (pathway.disclosure_cross): every pair of two metrics' count columns
    it takes for one count is declared, and every declared pair agrees in every area."""
    from itertools import combinations

    from pathway.catalogue import SAME_COUNTS
    from pathway.disclosure_cross import _same_count

    series = {}
    for name, metric in METRICS.items():
        if "area_code" not in metric.keys or not metric.parameter("area"):
            continue
        frame = run_metric(county_demo, name, {"area": "all"}, suppress=False)
        keys = [k for k in metric.keys if k in frame.columns]
        for column in frame.attrs["disclosure"].counts:
            if column in frame.columns:
                series[(name, column)] = frame[keys].astype(str).assign(
                    node=[(name, column, i) for i in range(len(frame))], true=frame[column])
    judged = set()
    for (s, a), (t, b) in combinations(series.items(), 2):
        shared = [k for k in METRICS[s[0]].keys if k in METRICS[t[0]].keys]
        if s[0] != t[0] and _same_count(a, b, shared) is not None:
            judged.add(frozenset((s, t)))
    declared = {frozenset(pair): group for group in SAME_COUNTS for pair in combinations(group.columns, 2)}
    assert judged == set(declared), (sorted(map(sorted, judged - set(declared))),
                                     sorted(map(sorted, set(declared) - judged)))
    for pair, group in declared.items():
        (s, a), (t, b) = sorted(pair)
        shared = [k for k in group.keys if k in METRICS[s].keys and k in METRICS[t].keys]
        assert _same_count(series[(s, a)], series[(t, b)], shared, fewest=1), (group.name, s, t)
    assert len(declared) == 21 + 1 + 3 + 1


def test_a_percentage_that_would_pin_its_counts_is_worked_out_from_the_shown_counts():
    from pathway.statistics import wilson_interval

    # 12 of 40 shown as 10 of 40: among 8-12 of 38-42 only 12/40 rounds to 30%, so 30% would
    # give both counts back; it is shown as the shown counts' 10/40 = 25% (Wilson 14.2 to 40.2,
    # whole percent).
    low, high = wilson_interval(np.array([12]), np.array([40]))
    truth = pd.DataFrame({"area_code": ["A"], "reached": [12], "cohort": [40], "pct": [30.0],
                          "ci_low": low, "ci_high": high, "benchmark_pct": [np.nan]})
    out = apply_disclosure(truth, REACH)
    assert (out.pct[0], out.ci_low[0], out.ci_high[0]) == (25, 14, 40)
    assert recovered(attack_table(format_for_people(out, REACH), truth, REACH)) == set()
    # printed from the unrounded counts, the attack gets both back
    leaky = format_for_people(out, REACH).assign(pct="30", ci_low=str(int(np.round(low[0]))),
                                                  ci_high=str(int(np.round(high[0]))))
    assert recovered(attack_table(leaky, truth, REACH)) == {(0, "reached", 12)}


def test_secondary_suppression_keeps_the_reference_group_shown_when_it_can():
    # Groups 1, 2 and 5 (the reference) add up to 'all'; group 1 (4) is hidden, and the smallest
    # other part is the reference group (20): group 2 (30) goes instead, so rate ratios stay.
    spec = DisclosureSpec(counts=("n",), labels=("group", "reference_group"), additive=(
        RowsAddUp(columns=("n",), along="group", total="all",
                  hide_last_where_equal=("group", "reference_group")),))
    frame = pd.DataFrame({"group": ["all", "1", "2", "5"], "reference_group": ["5"] * 4,
                          "n": [54, 4, 30, 20]})
    assert list(apply_disclosure(frame, spec)["n"]) == [55, pd.NA, pd.NA, 20]
    # without the preference the reference group would go
    plain = DisclosureSpec(counts=("n",), additive=(RowsAddUp(columns=("n",), along="group", total="all"),))
    assert list(apply_disclosure(frame, plain)["n"]) == [55, pd.NA, 30, pd.NA]


# ---- the dashboard's charts, map hover text and pooled tables ---------------------------
SHARE = DisclosureSpec(counts=("reached", "cohort"), labels=("area_code", "area_name"),
                       proportions=(Proportion("pct", "reached", "cohort", intervals=()),))


def _one_area():
    # 195 of 209 reached, shown as 195 of 210 and 93% (whole percent under 4,000)
    truth = pd.DataFrame({"area_code": ["A"], "area_name": ["Northmoor"], "reached": [195], "cohort": [209],
                          "pct": [100 * 195 / 209]})
    shown = pd.DataFrame({"area_code": ["A"], "area_name": ["Northmoor"], "reached": ["195"],
                          "cohort": ["210"], "pct": ["93"]})
    return shown, truth


def test_a_chart_that_sends_the_exact_percentage_gives_the_cohort_back():
    from pathway.disclosure_figures import figure_points, figure_table

    shown, truth = _one_area()
    assert recovered(attack_table(shown, truth, SHARE)) == set()  # the table alone gives nothing
    # the bar's height goes to the browser at full precision: 93.30143...% is 195/209 only
    leaky = {"data": [{"type": "bar", "x": ["Northmoor"], "y": [100 * 195 / 209], "customdata": ["93"],
                       "hovertemplate": "%{x}: %{customdata}"}]}
    drawn, placed, unplaced = figure_table(figure_points(leaky), shown, truth, SHARE)
    assert (placed, unplaced) == (1, 0) and drawn.pct[0] == repr(100 * 195 / 209)
    assert recovered(attack_table(drawn, truth, SHARE)) == {(0, "cohort", 209)}
    # sent as shown (93), the chart gives nothing more than the table
    safe = {"data": [{"type": "bar", "x": ["Northmoor"], "y": [93], "customdata": ["93"]}]}
    drawn, _, _ = figure_table(figure_points(safe), shown, truth, SHARE)
    assert recovered(attack_table(drawn, truth, SHARE)) == set()


def test_map_hover_text_printed_too_finely_gives_the_cohort_back():
    from pathway.disclosure_figures import figure_points, figure_table

    shown, truth = _one_area()
    # an area outline: its x and y are the shape (not figures), its hover text the figures;
    # 93.30% allows only 195/209 among 193-197 of 208-212 (93.27 for 194/208, 93.33 for 196/210)
    outline = {"type": "scatter", "x": [0.1, 0.5, 0.3], "y": [0.2, 0.9, 0.4], "fill": "toself", "name": "Northmoor",
               "customdata": ["A", "A", "A"], "hoverinfo": "text",
               "text": "Northmoor: 93.30% (95% CI 89.1% to 96.3%)"}
    points = figure_points({"data": [outline]}, text_only=True)
    assert [sorted(round(c.value, 2) for c in p.numbers.values()) for p in points] == [[89.1, 93.3, 96.3]]
    drawn, placed, _ = figure_table(points, shown, truth, SHARE)
    assert placed == 1 and recovered(attack_table(drawn, truth, SHARE)) == {(0, "cohort", 209)}
    # printed to whole percent, as the dashboard prints it under 4,000 births: nothing
    outline["text"] = "Northmoor: 93% (95% CI 89% to 96%)"
    drawn, _, _ = figure_table(figure_points({"data": [outline]}, text_only=True), shown, truth, SHARE)
    assert recovered(attack_table(drawn, truth, SHARE)) == set()


def test_a_pooled_row_is_attacked_as_the_total_of_the_areas_it_adds_up():
    from pathway.disclosure_reshaped import POOLED, map_back

    # areas A (12 of 41, shown 10 of 40) and B (20 of 52, shown 20 of 50), pooled from the shown
    # counts into 30 of 90; its true total is 32 of 93
    truth = pd.DataFrame({"area_code": ["A", "B"], "area_name": ["Northmoor", "Eastfield"],
                          "reached": [12, 20], "cohort": [41, 52]})
    truth["pct"] = 100 * truth.reached / truth.cohort
    answer = apply_disclosure(truth, SHARE)
    card = pd.DataFrame({"reached": [30.0], "cohort": [90.0], "pct": [33.3]})
    table, truth_rows, spec, card_rows = map_back(card, answer, truth, SHARE)
    assert list(table["_pooled"]) == ["one row", "one row", f"{POOLED} from shown counts"] and card_rows == [2]
    assert list(table.reached) == [10, 20, 30.0] and list(truth_rows.reached) == [12, 20, 32]
    assert list(truth_rows.cohort) == [41, 52, 93]
    assert spec.additive == ()  # the sum of what is shown adds nothing to it
    assert recovered(attack_table(table, truth_rows, spec)) == set()
    # pooled from the unrounded counts (32 of 93, 34.4%), the pooled row is their total: its
    # counts are shown as they are
    leaky = pd.DataFrame({"reached": [32.0], "cohort": [93.0], "pct": [34.4]})
    table, truth_rows, spec, _ = map_back(leaky, answer, truth, SHARE)
    assert list(table["_pooled"]) == ["one row", "one row", POOLED] and len(spec.additive) == 1
    result = attack_table(table, truth_rows, spec)
    assert recovered(result) == {(2, "reached", 32), (2, "cohort", 93)}
    # a row far from any total of these rows is not taken for one
    assert map_back(card.assign(reached=[300.0]), answer, truth, SHARE) is None


def test_a_long_table_in_words_is_read_back_into_the_metrics_columns():
    from pathway.disclosure_reshaped import map_back

    # two services' outcomes as a page prints them: one row per service and measure, services in
    # words, 'people' and 'out of' standing for improved/paired or recovered/at baseline
    spec = DisclosureSpec(counts=("improved", "paired", "recovered", "at_baseline"), labels=("service",))
    truth = pd.DataFrame({"service": ["talking_therapies", "family_hub"], "improved": [54, 21],
                          "paired": [126, 42], "recovered": [37, 12], "at_baseline": [67, 31]})
    answer = apply_disclosure(truth, spec)  # 55 of 125, 20 of 40; 35 of 65, 10 of 30
    card = pd.DataFrame({"service": ["Talking therapies", "Family hub", "Talking therapies", "Family hub"],
                         "measure": ["Improved", "Improved", "Recovered", "Recovered"],
                         "people": [55, 20, 35, 10], "out_of": [125, 40, 65, 30]})
    names = {"talking_therapies": "Talking therapies", "family_hub": "Family hub"}
    table, truth_rows, _, card_rows = map_back(card, answer, truth, spec, lambda code: {code, names.get(code, code)})
    assert card_rows == [0, 1] and list(table.service) == ["talking_therapies", "family_hub"]
    assert [list(table[c]) for c in ("improved", "paired", "recovered", "at_baseline")] == \
        [[55, 20], [125, 40], [35, 10], [65, 30]]
    assert list(truth_rows.paired) == [126, 42]
    # without the names in words the services cannot be told apart: not read back
    assert map_back(card, answer, truth, spec) is None


# ---- step tables (funnels) read back as the metric's rows -------------------------------
RISK = DisclosureSpec(counts=("at_risk", "referred_antenatal", "seen_antenatal", "parent_infant_seen"),
                      labels=("area_code", "risk_factor"))
RISK_WORDS = ("Risk recorded in pregnancy", "Referred before birth", "Seen before birth", "Parent-infant team")
RISK_STEPS = tuple(zip(RISK.counts, RISK_WORDS))


def _risk_steps_attack(values, truth):
    from pathway.disclosure_reshaped import map_back
    from pathway.disclosure_steps import risk_steps

    card = pd.DataFrame({"step": list(RISK_WORDS), "families": values})
    (wide,), = risk_steps(card, RISK_STEPS)
    mapped = map_back(wide, apply_disclosure(truth, RISK), truth, RISK)
    assert mapped is not None
    table, truth_rows, spec, card_rows = mapped
    return table, truth_rows, card_rows, attack_table(table, truth_rows, spec)


def test_a_risk_step_table_is_read_back_as_the_any_row_and_its_pooled_total():
    # Two areas' 'any risk factor' rows: A 43, 31, 22, 9 (shown 45, 30, 20, 10), B 57, 36, 18, 6
    # (shown 55, 35, 20, * hidden); a risk factor row of A beside them is not read
    truth = pd.DataFrame({"area_code": ["A", "B", "A"], "risk_factor": ["any", "any", "rf_smoking"],
                          "at_risk": [43, 57, 20], "referred_antenatal": [31, 36, 12],
                          "seen_antenatal": [22, 18, 9], "parent_infant_seen": [9, 6, 3]})
    # all areas, as the page adds them up: each step the sum of the shown counts, '*' where one
    # rests on a hidden count: 100, 65, 40, *
    table, truth_rows, card_rows, result = _risk_steps_attack([100, 65, 40, "*"], truth)
    assert card_rows == [2] and list(table.at_risk) == [45, 55, 100]
    assert list(truth_rows.at_risk) == [43, 57, 100]
    assert recovered(result) == set()
    # a leaky page adding up the unrounded counts shows 100, 67, 40, 15: 67 is no multiple of 5,
    # the exact total of 31 and 36 (100, 40 and 15 are, and tell nothing)
    table, truth_rows, card_rows, result = _risk_steps_attack([100, 67, 40, 15], truth)
    assert recovered(result) == {(2, "referred_antenatal", 67)}
    # the wrong words are not read at all
    from pathway.disclosure_steps import risk_steps
    assert risk_steps(pd.DataFrame({"step": ["Births", *RISK_WORDS[1:]], "families": [1, 2, 3, 4]}),
                      RISK_STEPS) is None


REACH_BY_STAGE = DisclosureSpec(counts=("reached", "cohort"), labels=("area_code", "stage", "tier"),
                                proportions=(Proportion("pct", "reached", "cohort", intervals=()),))


def test_the_overview_funnel_is_read_back_with_its_births_as_a_stages_cohort():
    from pathway.disclosure_reshaped import map_back
    from pathway.disclosure_steps import chart_steps, overview_funnel

    # area A, universal tier: antenatal 97 of 203 (shown 95 of 205), postnatal 151 of 198 (shown
    # 150 of 200); area B: antenatal 52 of 111 (50 of 110), postnatal 60 of 104 (60 of 105)
    truth = pd.DataFrame({"area_code": ["A", "A", "B", "B"], "stage": ["antenatal", "postnatal"] * 2,
                          "tier": ["universal"] * 4, "reached": [97, 151, 52, 60], "cohort": [203, 198, 111, 104]})
    truth["pct"] = 100 * truth.reached / truth.cohort
    answer = apply_disclosure(truth, REACH_BY_STAGE)
    assert list(answer.reached) == [95, 150, 50, 60] and list(answer.cohort) == [205, 200, 110, 105]

    def read(steps, people, rows):
        card = pd.DataFrame({"step": steps, "people": people})
        words = {"antenatal": "Pregnancy", "postnatal": "Postnatal"}   # ref_stages' labels
        for cards in overview_funnel(card, answer.iloc[rows], words):
            mapped = [map_back(wide, answer.iloc[rows], truth.iloc[rows], REACH_BY_STAGE) for wide in cards]
            if all(m is not None for m in mapped):
                return mapped
        return None
    steps = ["Births in the period", "Reached, Pregnancy", "Reached, Postnatal"]
    # one area, as the page prints it: births 205 is the antenatal cohort (the nearest first)
    (reached, _, _, card_rows), (births, births_truth, spec, _) = read(steps, [205, 95, 150], [0, 1])
    assert list(reached.reached) == [95, 150] and list(births.stage) == ["antenatal"]
    assert list(births.cohort) == [205] and list(births_truth.cohort) == [203]
    assert recovered(attack_table(births, births_truth, spec)) == set()
    # the unrounded births are not the antenatal row's shown cohort: not read (listed as not covered)
    assert read(steps, [203, 95, 150], [0, 1]) is None
    # all areas, pooled from the shown counts: births 315 (205 + 110), reached 145 and 210
    pooled = read(steps, [315, 145, 210], [0, 1, 2, 3])
    assert all(recovered(attack_table(t, tr, s)) == set() for t, tr, s, _ in pooled)
    # pooled from the unrounded counts: 314 births and 149 reached before birth are given back
    # (211 reached after birth is too: 151 + 60)
    leaky = read(steps, [314, 149, 211], [0, 1, 2, 3])
    found = set().union(*(recovered(attack_table(t, tr, s)) for t, tr, s, _ in leaky))
    assert {(v, n) for _, v, n in found} == {("cohort", 314), ("reached", 149), ("reached", 211)}
    # the funnel chart's bars read back as its steps, at the precision they are sent: bars of the
    # unrounded sums beside the table's shown ones give the same counts back
    chart = {"data": [{"type": "bar", "y": steps, "x": [314.0, 149.0, 211.0],
                       "text": ["314", "149 (47%)", "211 (67%)"]}]}
    drawn = chart_steps(chart, pd.DataFrame({"step": steps, "people": [315, 145, 210]}))
    assert drawn.people.tolist() == [314, 149, 211]
    charted = read(steps, drawn.people.tolist(), [0, 1, 2, 3])
    assert set().union(*(recovered(attack_table(t, tr, s)) for t, tr, s, _ in charted)) == found


def test_the_area_profile_is_read_back_row_by_row_with_its_spread_as_summaries():
    from pathway.disclosure_profile import profile_tables
    from pathway.web.indicators import Indicator

    # one indicator over three areas: A 12 of 40 (shown 10 of 40, 25%), B 2 of 30 (hidden),
    # C 20 of 50 (20 of 50, 40%); the spread is of the shown percentages 25 and 40
    indicator = Indicator("reach", "Reached", "stage_reach", "pct", "reached", "cohort", "reached", "births")
    spec = DisclosureSpec(counts=("reached", "cohort"), labels=("area_code",),
                          proportions=(Proportion("pct", "reached", "cohort", intervals=()),))
    truth = pd.DataFrame({"area_code": ["A", "B", "C"], "reached": [12, 2, 20], "cohort": [40, 30, 50]})
    truth["pct"] = 100 * truth.reached / truth.cohort
    answer = apply_disclosure(truth, spec)
    answer.attrs["disclosure"] = spec
    fetched = {("stage_reach", (("area", "all"),)): answer}

    def attack(**shown):
        card = pd.DataFrame([{"indicator": "Reached", "count": 10, "this area": 25, "benchmark": 33.3,
                              "lowest": 25, "25th percentile": 28.8, "75th percentile": 36.3, "highest": 40,
                              **shown}])
        (_, table, truth_rows, table_spec), = profile_tables(card, fetched, lambda n, p: truth, "area A",
                                                             {"reach": indicator})
        return table, recovered(attack_table(table, truth_rows, table_spec))
    table, found = attack()
    assert list(table.reached) == [10, "*", 20] and list(table["profile q1"]) == [28.8] * 3
    assert found == set()
    # a leaky profile: the lowest of the exact percentages (30, 6.67, 40) is B's own, 6.7, which
    # no shown value is and only 2 of 30 gives among 1-7 of 28-32; and the area's count printed
    # as it is (12, no multiple of 5) is given back too
    table, found = attack(lowest=6.7, count=12)
    assert found == {(1, "reached", 2), (0, "reached", 12)}


def test_a_card_of_every_area_is_not_read_against_one_areas_answer():
    from pathway.disclosure_reshaped import map_back

    # the page asked for area A alone and for all areas; a card of all three areas printed
    # against A's answer would read A's row only and leave B and C unattacked
    truth = pd.DataFrame({"area_code": ["A", "B", "C"], "area_name": ["Northmoor", "Eastfield", "Oakvale"],
                          "reached": [12, 20, 31], "cohort": [41, 52, 60]})
    truth["pct"] = 100 * truth.reached / truth.cohort
    everyone = apply_disclosure(truth, SHARE)
    card = format_for_people(everyone, SHARE)
    one = everyone.iloc[[0]].reset_index(drop=True)
    assert map_back(card, one, truth.iloc[[0]], SHARE) is None
    table, _, _, card_rows = map_back(card, everyone, truth, SHARE)
    assert card_rows == [0, 1, 2] and list(table.area_code) == ["A", "B", "C"]


def test_pooled_outcomes_in_long_form_are_read_back_a_measure_at_a_time():
    from pathway.disclosure_reshaped import map_back
    from pathway.disclosure_steps import outcome_measures

    spec = DisclosureSpec(counts=("improved", "paired", "recovered", "at_baseline"),
                          labels=("area_code", "service", "instrument"))
    measures = (("Improved", "improved_pct", "improved", "paired", "improved_ci_low", "improved_ci_high"),
                ("Recovery", "recovered_pct", "recovered", "at_baseline", "recovered_ci_low", "recovered_ci_high"))
    # two areas of one service and scale: improved 54 of 126 and 21 of 42 (shown 55 of 125, 20 of
    # 40), recovered 37 of 67 and 12 of 31 (shown 35 of 65, 10 of 30)
    truth = pd.DataFrame({"area_code": ["A", "B"], "service": ["talking_therapies"] * 2, "instrument": ["PHQ-9"] * 2,
                          "improved": [54, 21], "paired": [126, 42], "recovered": [37, 12], "at_baseline": [67, 31]})
    answer = apply_disclosure(truth, spec)

    def attack(people, out_of):
        card = pd.DataFrame({"service": ["Talking therapies"] * 2, "instrument": ["PHQ-9"] * 2,
                             "people": people, "out_of": out_of, "measure": ["Improved", "Recovery"]})
        (cards,) = outcome_measures(card, measures)
        found = set()
        for wide in cards:
            table, truth_rows, table_spec, card_rows = map_back(
                wide, answer, truth, spec, lambda code: {code, "Talking therapies"})
            assert card_rows == [2]
            found |= recovered(attack_table(table, truth_rows, table_spec))
        return found
    # pooled from the shown counts: 75 of 165 improved, 45 of 95 recovered
    assert attack([75, 45], [165, 95]) == set()
    # pooled from the unrounded counts: 75 of 168, 49 of 98 given back (75 is a multiple of 5)
    assert attack([75, 49], [168, 98]) == {(2, "paired", 168), (2, "recovered", 49), (2, "at_baseline", 98)}
