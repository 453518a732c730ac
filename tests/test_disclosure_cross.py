"""Attacks across answers (pathway.disclosure_cross), the ICB guard that stops them
(pathway.disclosure_hierarchy), and the report's printed numbers (pathway.disclosure_report),
each on hand-worked tables."""

from __future__ import annotations

import pandas as pd

from pathway.disclosure import DisclosureSpec, Proportion
from pathway.disclosure_audit import attack_table
from pathway.disclosure_cross import attack_across
from pathway.disclosure_hierarchy import hide_pinned_icb_cells
from pathway.disclosure_report import attack_report_numbers, printed_numbers
from pathway.catalogue import METRICS
from pathway.settings import DisclosurePolicy

POLICY = DisclosurePolicy()  # 1 to 7 hidden, others rounded to 5


def found(result) -> set[tuple[str, int, str, int]]:
    return {(r.table, r.row, r.column, r.true_value) for r in result.recovered}


# ---- an ICB against its areas -------------------------------------------------------------
def _births(codes, live_births, shown):
    truth = pd.DataFrame({"area_code": codes, "period": "2024-25", "live_births": live_births})
    text = pd.DataFrame({"area_code": codes, "period": "2024-25", "live_births": [str(v) for v in shown]})
    return text, truth


def test_four_areas_at_the_bottom_of_their_rounding_pin_themselves_and_their_icb():
    # four areas of 8 births, each shown as 10 (8 to 12); their ICB, 32, shown as 30 (28 to 32).
    # The areas add to at least 32, so the ICB is 32 and every area 8.
    areas = _births(["A1", "A2", "A3", "A4"], [8, 8, 8, 8], [10, 10, 10, 10])
    icb = _births(["I"], [32], [30])
    icb_of = {a: "I" for a in ("A1", "A2", "A3", "A4")}
    result = attack_across([("births", "all areas", *areas), ("births", "ICB I", *icb)], POLICY, icb_of)
    assert found(result) == {("births (all areas)", i, "live_births", 8) for i in range(4)} | \
        {("births (ICB I)", 0, "live_births", 32)}
    assert {r.attack for r in result.recovered} == {"an ICB against its areas"}
    # each table on its own gives nothing
    spec = DisclosureSpec(counts=("live_births",), labels=("area_code", "period"))
    assert attack_table(*areas, spec).recovered == [] and attack_table(*icb, spec).recovered == []
    # one area of 9 (shown 10): the areas add to 33 or more, not 32 at most; nothing is pinned
    areas = _births(["A1", "A2", "A3", "A4"], [8, 8, 8, 9], [10, 10, 10, 10])
    icb = _births(["I"], [33], [35])
    assert attack_across([("births", "all areas", *areas), ("births", "ICB I", *icb)], POLICY,
                         icb_of).recovered == []


def test_the_icb_guard_hides_the_icb_count_its_areas_would_pin():
    spec = DisclosureSpec(counts=("live_births",), labels=("area_code", "period"))
    areas_truth = _births(["A1", "A2", "A3", "A4"], [8, 8, 8, 8], [10, 10, 10, 10])[1]
    areas = areas_truth.assign(live_births=pd.array([10, 10, 10, 10], dtype="Int64"))
    icb_truth = _births(["I"], [32], [30])[1]
    icb = icb_truth.assign(live_births=pd.array([30], dtype="Int64"))
    guarded = hide_pinned_icb_cells("births", icb, icb_truth, areas, areas_truth, spec, POLICY)
    assert guarded.live_births.isna().tolist() == [True]
    # hidden (any count from 1 up), the ICB leaves the areas 8 to 12 each: nothing comes back
    shown_icb = pd.DataFrame({"area_code": ["I"], "period": "2024-25", "live_births": ["*"]})
    result = attack_across([("births", "all areas", *_births(["A1", "A2", "A3", "A4"], [8] * 4, [10] * 4)),
                            ("births", "ICB I", shown_icb, icb_truth)], POLICY, {a: "I" for a in areas.area_code})
    assert result.recovered == []
    # areas of 8, 8, 8 and 9 and an ICB of 33 shown as 35 pin nothing: the ICB stays shown
    areas_truth = _births(["A1", "A2", "A3", "A4"], [8, 8, 8, 9], [10, 10, 10, 10])[1]
    icb_truth = _births(["I"], [33], [35])[1]
    icb = icb_truth.assign(live_births=pd.array([35], dtype="Int64"))
    assert hide_pinned_icb_cells("births", icb, icb_truth, areas, areas_truth, spec,
                                 POLICY).live_births.tolist() == [35]


# ---- one count in two metrics --------------------------------------------------------------
def test_live_births_in_two_metrics_are_intersected():
    # Area A has 31 live births (shown 30: 28 to 32). Specialist access shows 9 accessed as 10 and
    # 29%: that leaves 8/28 or 9/31. Stage reach shows 14 reached as 15 and 45%: 13/29 or 14/31.
    # Each table alone leaves two denominators; the live births are one count, so 31.
    codes = ["A", "B", "C"]
    access_truth = pd.DataFrame({"area_code": codes, "live_births": [31, 100, 200], "accessed": [9, 20, 50]})
    access_truth["access_pct"] = 100 * access_truth.accessed / access_truth.live_births
    access_shown = pd.DataFrame({"area_code": codes, "live_births": ["30", "100", "200"],
                                 "accessed": ["10", "20", "50"], "access_pct": ["29", "20", "25"]})
    reach_truth = pd.DataFrame({"area_code": codes, "stage": "postnatal", "tier": "specialist",
                                "reached": [14, 30, 40], "cohort": [31, 100, 200]})
    reach_truth["pct"] = 100 * reach_truth.reached / reach_truth.cohort
    reach_shown = pd.DataFrame({"area_code": codes, "stage": "postnatal", "tier": "specialist",
                                "reached": ["15", "30", "40"], "cohort": ["30", "100", "200"],
                                "pct": ["45", "30", "20"]})
    for shown, truth, name in ((access_shown, access_truth, "specialist_access"),
                               (reach_shown, reach_truth, "stage_reach")):
        assert attack_table(shown, truth, METRICS[name].disclosure).recovered == []
    result = attack_across([("specialist_access", "all areas", access_shown, access_truth),
                            ("stage_reach", "all areas", reach_shown, reach_truth)], POLICY, {})
    assert found(result) == {("specialist_access (all areas)", 0, "live_births", 31),
                             ("specialist_access (all areas)", 0, "accessed", 9),
                             ("stage_reach (all areas)", 0, "cohort", 31),
                             ("stage_reach (all areas)", 0, "reached", 14)}


# ---- the report's printed numbers ---------------------------------------------------------
class _NoReference:
    def reference(self, name):
        return pd.DataFrame()


REPORT = """<html><body><section id='summary'>
<p>Specialist services in the postnatal stage reach {pct} of live births.</p>
<table><tr><th>Stage</th><th>Tier</th><th>Reached</th><th>Live births</th><th>%</th></tr>
<tr><td>postnatal</td><td>specialist</td><td>*</td><td>165</td><td>*</td></tr></table>
<svg><title>Reach (%)</title><text x="184" y="46" text-anchor="end">postnatal · specialist</text>
<text x="528" y="46" font-weight="bold">*</text><text x="190" y="60" text-anchor="middle">25%</text></svg>
</section><section id='methods'><p>Counts of 1 to 7 are shown as *.</p></section></body></html>"""


def test_every_number_is_read_with_its_words():
    numbers = printed_numbers(REPORT.format(pct="1.8%"))
    assert [(n.text, n.kind) for n in numbers] == [
        ("*", "table"), ("165", "table"), ("*", "table"), ("*", "chart"), ("1.8%", "text")]
    assert numbers[1].header == "live births" and "postnatal specialist" in numbers[1].context
    assert numbers[3].context.startswith("postnatal · specialist")  # the chart row's label


def test_a_figure_in_a_sentence_gives_a_hidden_count_back():
    # 3 of 165 reached, hidden; the sentence prints the exact 1.8%, which among 1-7 over 163-167
    # only 3 gives (2/165 = 1.2, 4/165 = 2.4)
    truth = pd.DataFrame({"area_code": ["A"], "stage": ["postnatal"], "tier": ["specialist"],
                          "reached": [3], "cohort": [165], "pct": [100 * 3 / 165],
                          "ci_low": [0.6], "ci_high": [5.2]})
    shown = truth.assign(reached=pd.array([None], dtype="Int64"), pct=float("nan"),
                         ci_low=float("nan"), ci_high=float("nan"))
    answers = [("stage_reach", {"area": "A"}, shown, truth)]
    leaky = attack_report_numbers(REPORT.format(pct="1.8%"), answers, _NoReference(), POLICY, table_prefix="r")
    assert found(leaky) == {("r: stage_reach", 0, "reached", 3)}
    safe = attack_report_numbers(REPORT.format(pct="*"), answers, _NoReference(), POLICY, table_prefix="r")
    assert safe.recovered == [] and safe.not_covered == []
    assert safe.cells_attacked["HTML report (every printed number)"] == 1
