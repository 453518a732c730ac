"""Attacks across answers (pathway.disclosure_cross), the ICB guard that stops them
(pathway.disclosure_hierarchy), and the report's printed numbers (pathway.disclosure_report),
each on hand-worked tables; and the guard as run_metric runs it, on the fixture warehouse."""

from __future__ import annotations

import pandas as pd

from metric_fixtures import PERIOD, fixture_warehouse  # noqa: F401
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


# ---- one count in two metrics, an ICB against its areas -----------------------------------
# One ICB "I" of two areas, and its referrals to one service, shown by referral_funnel (referred,
# rounded only) and by waiting_times (referrals, with the share seen within 28 days).
#   A1: 13 referred, 9 seen: shown 15 and 10, 69% (9/13 = 69.2). Counts shown 15 and 10 are 13-17
#       and 8-12; of those pairs only 9/13 (69.2) and 11/16 (68.75) print as 69: A1 is 13 or 16.
#   A2: 14 referred, 10 seen: shown 15 and 10, 71% (10/14 = 71.4); only 10/14 and 12/17 (70.6)
#       print as 71: A2 is 14 or 17.
#   I:  27 referred, shown 25: 23-27. With the percentages A1 + A2 is 27 at least, so I is 27,
#       A1 13 and A2 14. Without them (referral_funnel alone) A1 and A2 are 13-17 each, I 26-27,
#       A1 13-14: nothing is pinned.
SERVICE = "talking_therapies"
FUNNEL = DisclosureSpec(counts=("referred",), labels=("area_code", "service"))
WAITS = DisclosureSpec(counts=("referrals", "seen_within_28_days"),
                       proportions=(Proportion("seen_within_28_days_pct", "seen_within_28_days", "referrals",
                                               intervals=()),),
                       labels=("area_code", "service"))


def _funnel(codes, referred, shown):
    truth = pd.DataFrame({"area_code": codes, "service": SERVICE, "referred": referred})
    return truth.assign(referred=pd.array(shown, dtype="Int64")), truth


def _waits(codes, referrals, seen, shown_referrals, shown_seen, shown_pct):
    truth = pd.DataFrame({"area_code": codes, "service": SERVICE, "referrals": referrals,
                          "seen_within_28_days": seen})
    truth["seen_within_28_days_pct"] = 100 * truth.seen_within_28_days / truth.referrals
    shown = truth.assign(referrals=pd.array(shown_referrals, dtype="Int64"),
                         seen_within_28_days=pd.array(shown_seen, dtype="Int64"),
                         seen_within_28_days_pct=pd.array(shown_pct, dtype="Float64"))
    return shown, truth


def _text(frame, spec):
    from pathway.disclosure import format_for_people
    frame = frame.copy()
    frame.attrs = {}
    return format_for_people(frame, spec)


def _with_spec(frame, spec):
    frame = frame.copy()
    frame.attrs = {"disclosure": spec}
    return frame


ICB_OF = {"A1": "I", "A2": "I"}


def test_a_count_two_metrics_show_is_hidden_in_the_icb_answer_of_both():
    from pathway.catalogue import SAME_COUNTS
    from pathway.disclosure_hierarchy import Sibling

    funnel_areas, funnel_areas_truth = _funnel(["A1", "A2"], [13, 14], [15, 15])
    funnel_icb, funnel_icb_truth = _funnel(["I"], [27], [25])
    waits_areas, waits_areas_truth = _waits(["A1", "A2"], [13, 14], [9, 10], [15, 15], [10, 10], [69.0, 71.0])
    # the ICB: 19 of 27 seen (70.4%), shown 20 and 70
    waits_icb, waits_icb_truth = _waits(["I"], [27], [19], [25], [20], [70.0])

    # each metric on its own: referral_funnel's ICB answer pins nothing and stays as it is;
    # waiting_times' percentages pin it, so its own guard hides its ICB referrals, the 19 seen
    # that the 27 pins through 70% (18/27 is 66.7%, 20/27 74.1%) and the percentage
    funnel_alone = hide_pinned_icb_cells("referral_funnel", funnel_icb, funnel_icb_truth, funnel_areas,
                                         funnel_areas_truth, FUNNEL, POLICY)
    assert funnel_alone.referred.tolist() == [25]
    waits_alone = hide_pinned_icb_cells("waiting_times", waits_icb, waits_icb_truth, waits_areas,
                                        waits_areas_truth, WAITS, POLICY)
    assert waits_alone[["referrals", "seen_within_28_days", "seen_within_28_days_pct"]].isna().all(axis=None)

    # shown together, referral_funnel's ICB count gives back what waiting_times hid: the 27 (in
    # both metrics) and both areas' referrals
    def attack(funnel_icb_shown, waits_icb_shown):
        return attack_across([
            ("referral_funnel", "all areas", _text(funnel_areas, FUNNEL), _with_spec(funnel_areas_truth, FUNNEL)),
            ("referral_funnel", "ICB I", _text(funnel_icb_shown, FUNNEL), _with_spec(funnel_icb_truth, FUNNEL)),
            ("waiting_times", "all areas", _text(waits_areas, WAITS), _with_spec(waits_areas_truth, WAITS)),
            ("waiting_times", "ICB I", _text(waits_icb_shown, WAITS), _with_spec(waits_icb_truth, WAITS))],
            POLICY, ICB_OF, SAME_COUNTS)

    assert found(attack(funnel_alone, waits_alone)) == {
        ("referral_funnel (all areas)", 0, "referred", 13), ("referral_funnel (all areas)", 1, "referred", 14),
        ("waiting_times (all areas)", 0, "referrals", 13), ("waiting_times (all areas)", 1, "referrals", 14),
        ("referral_funnel (ICB I)", 0, "referred", 27), ("waiting_times (ICB I)", 0, "referrals", 27)}

    # with its sibling beside it, referral_funnel's guard hides its ICB count as well
    waits = Sibling("waiting_times", waits_areas, waits_areas_truth, waits_alone, waits_icb_truth, WAITS)
    funnel_final = hide_pinned_icb_cells("referral_funnel", funnel_alone, funnel_icb_truth, funnel_areas,
                                         funnel_areas_truth, FUNNEL, POLICY, (waits,))
    assert funnel_final.referred.isna().tolist() == [True]
    # and waiting_times' guard, beside referral_funnel's one-metric answer, keeps its own hidden
    funnel = Sibling("referral_funnel", funnel_areas, funnel_areas_truth, funnel_alone, funnel_icb_truth, FUNNEL)
    waits_final = hide_pinned_icb_cells("waiting_times", waits_alone, waits_icb_truth, waits_areas,
                                        waits_areas_truth, WAITS, POLICY, (funnel,))
    assert waits_final[["referrals", "seen_within_28_days", "seen_within_28_days_pct"]].isna().all(axis=None)
    # the two final answers together give nothing back
    assert attack(funnel_final, waits_final).recovered == []


def test_a_sibling_that_pins_nothing_hides_nothing_more():
    from pathway.disclosure_hierarchy import Sibling

    # the areas' 67% is what the shown 10 of 15 give (the policy prints it so where the exact one
    # would pin), so says nothing: A1 and A2 are 13-17 each; the ICB, shown 30 (28-32) with 20
    # seen, 69%, is 29 (20/29) or 32 (22/32): nothing is pinned
    funnel_areas, funnel_areas_truth = _funnel(["A1", "A2"], [15, 14], [15, 15])
    funnel_icb, funnel_icb_truth = _funnel(["I"], [29], [30])
    waits_areas, waits_areas_truth = _waits(["A1", "A2"], [15, 14], [10, 10], [15, 15], [10, 10], [67.0, 67.0])
    waits_icb, waits_icb_truth = _waits(["I"], [29], [20], [30], [20], [69.0])
    waits = Sibling("waiting_times", waits_areas, waits_areas_truth, waits_icb, waits_icb_truth, WAITS)
    assert hide_pinned_icb_cells("referral_funnel", funnel_icb, funnel_icb_truth, funnel_areas, funnel_areas_truth,
                                 FUNNEL, POLICY, (waits,)).referred.tolist() == [30]


# ---- the guard as run_metric runs it ------------------------------------------------------
def test_a_sibling_is_asked_with_only_the_parameters_it_takes(fixture_warehouse):
    import datetime as dt

    from metric_fixtures import ICB_AB
    from pathway.metrics import _sibling_binds, _siblings_of, resolve_parameters

    economic = METRICS["economic_case"]
    binds = resolve_parameters(fixture_warehouse, economic, {**PERIOD, "area": ICB_AB, "need": "high", "effect": 0.4})
    access = _sibling_binds(fixture_warehouse, economic, METRICS["specialist_access"], binds)
    assert (access["area"], access["need"], access["date_from"], access["date_to"], access["as_at"]) == \
        (ICB_AB, "high", dt.date(2023, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 12, 31))
    assert "effect" not in access and access["suppress_below"] == 8 and access["round_to"] == 5
    births = _sibling_binds(fixture_warehouse, economic, METRICS["births"], binds)
    assert births["grain"] == "whole" and "need" not in births and births["date_from"] == dt.date(2023, 1, 1)
    # every group the economic case has a column in: live births and specialist care
    answer = pd.DataFrame(columns=["area_code", "condition", "live_births", "specialist_treated"])
    assert _siblings_of(economic, answer) == ["births", "stage_reach", "mood_screening", "specialist_access",
                                              "service_gaps", "risk_pathway", "partner_involvement"]
    # a group whose column the answer lacks is skipped
    assert _siblings_of(economic, answer.drop(columns="live_births")) == ["specialist_access", "partner_involvement"]
    assert _siblings_of(METRICS["referral_funnel"], pd.DataFrame(columns=["area_code", "referred"])) == ["waiting_times"]


def test_an_icb_answer_beside_its_siblings_only_hides_more(fixture_warehouse):
    from metric_fixtures import ICB_AB
    from pathway.catalogue import SAME_COUNTS
    from pathway.metrics import _one_metric_icb_answer, _sibling_binds, resolve_parameters, run_metric

    for name in dict.fromkeys(m for group in SAME_COUNTS for m, _ in group.columns):
        metric = METRICS[name]
        final = run_metric(fixture_warehouse, name, {**PERIOD, "area": ICB_AB})
        binds = resolve_parameters(fixture_warehouse, metric, {**PERIOD, "area": ICB_AB})
        one, _ = _one_metric_icb_answer(fixture_warehouse, metric,
                                        _sibling_binds(fixture_warehouse, metric, metric, binds))
        assert len(final) == len(one) > 0, name
        for column in metric.disclosure.counts:
            hidden_before, hidden_after = one[column].isna(), final[column].isna()
            assert not (hidden_before & ~hidden_after).any(), (name, column)
            kept = ~hidden_after
            assert final[column][kept].tolist() == one[column][kept].tolist(), (name, column)
