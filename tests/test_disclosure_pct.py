"""The attack's own percentage × denominator check (pathway.disclosure_pct) against the defence's
(percentage_candidates, which pathway.disclosure chooses with): the same answers on hand-made
cases, and a leak caught when the defence's routine is broken."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pathway import disclosure_audit
from pathway.disclosure import DisclosureSpec, Proportion, apply_disclosure, format_for_people
from pathway.disclosure_audit import Shown, attack_table, count_domain, percentage_candidates
from pathway.disclosure_pct import Printed, attack_percentages, pairs_for_row, shown_count_range
from pathway.settings import DisclosurePolicy
from pathway.statistics import wilson_interval

POLICY = DisclosurePolicy()  # 1 to 7 hidden, others rounded to 5
REACH = DisclosureSpec(counts=("reached", "cohort"), proportions=(Proportion("pct", "reached", "cohort"),),
                       labels=("area_code",))


def test_shown_counts_stand_for_the_counts_that_round_to_them():
    assert shown_count_range(40, POLICY, secondary=False) == (38, 42)
    assert shown_count_range(10, POLICY, secondary=False) == (8, 12)  # never below the threshold
    assert shown_count_range(0, POLICY, secondary=False) == (0, 0)
    assert shown_count_range(None, POLICY, secondary=False) == (1, 7)
    assert shown_count_range(None, POLICY, secondary=True) == (1, None)
    for shown in (10, 40, 215, None):
        for secondary in (False, True):
            low, high = shown_count_range(shown, POLICY, secondary=secondary)
            ref = count_domain(np.nan if shown is None else shown, POLICY, secondary=secondary)
            assert (low, high if high is not None else disclosure_audit.UNBOUNDED) == ref


def test_30_percent_of_40_shown_as_10_of_40_leaves_only_12_of_40():
    # numerators 8-12, denominators 38-42, whole percent: 29.5 <= 100 n / d <= 30.5 holds only for
    # 12/40 (12/39 = 30.8, 12/41 = 29.3, 11/37 is outside 38-42)
    found = pairs_for_row((8, 12), (38, 42), Printed(30, 1))
    assert found.pairs == {(12, 40)}


def test_93_3_percent_of_195_and_210_leaves_195_of_209():
    # 195/209 = 93.301...; at 0.01 precision nothing else among 193-197 over 208-212 prints 93.30
    assert pairs_for_row((193, 197), (208, 212), Printed(93.30, 0.01)).pairs == {(195, 209)}
    # at whole percent: 194/208 (93.27), 195/209, 196/210 (93.33), 197/211 (93.36) and more
    wide = pairs_for_row((193, 197), (208, 212), Printed(93, 1))
    assert {(194, 208), (195, 209), (196, 210), (197, 211)} <= wide.pairs and len(wide.numerators) == 5


def test_the_interval_narrows_what_the_percentage_leaves():
    # 25% whole percent with 18-22 over 78-82: 20/79 (25.3), 20/80 and 20/81 (24.7) print 25;
    # 19/78 (24.4), 21/82 (25.6) and 20/82 (24.4) do not
    assert pairs_for_row((18, 22), (78, 82), Printed(25, 1)).pairs == {(20, 79), (20, 80), (20, 81)}
    # Wilson's interval for 20/80 is 16.806 to 35.485, printed 16.8 to 35.5; 20/79 gives 17.0 to
    # 35.9 and 20/81 16.6 to 35.1, so the interval leaves 80 alone
    found = pairs_for_row((18, 22), (78, 82), Printed(25, 1), (Printed(16.8, 0.1), Printed(35.5, 0.1)))
    assert found.pairs == {(20, 80)}
    # an interval printed to whole percent (17 to 35) cannot tell 79, 80 and 81 apart... except
    # 20/79's 35.9, which prints 36
    found = pairs_for_row((18, 22), (78, 82), Printed(25, 1), (Printed(17, 1), Printed(35, 1)))
    assert found.pairs == {(20, 80), (20, 81)}


def test_a_hidden_numerator_is_bounded_by_its_shown_denominator():
    # hidden by secondary suppression (any count from 1 up) over 40 shown (38-42) at 10%:
    # 4/39, 4/40, 4/41, 4/42 print 10; 3 and 5 cannot (3/38 = 7.9, 5/42 = 11.9)
    found = pairs_for_row((1, None), (38, 42), Printed(10, 1))
    assert found.numerators == {4} and found.denominators == {39, 40, 41, 42}
    assert pairs_for_row((1, None), (1, None), Printed(10, 1)).too_wide


def test_rows_of_one_area_showing_one_denominator_share_it():
    # two stages of one area over a cohort shown as 40: 30% leaves 12/40 only, and 20% alone
    # leaves 8/40 and 8/41 (19.5; 8/39 is 20.5 and prints 21) -- taken together the cohort is 40
    rows = [{"numerator": (8, 12), "denominator": (38, 42), "pct": Printed(30, 1), "share": ("A", 40)},
            {"numerator": (8, 12), "denominator": (38, 42), "pct": Printed(20, 1), "share": ("A", 40)},
            {"numerator": (8, 12), "denominator": (38, 42), "pct": None, "share": ("A", 40)}]
    found = attack_percentages(rows)
    assert found[0].pairs == {(12, 40)} and found[1].pairs == {(8, 40)} and found[2] is None
    alone = attack_percentages([rows[1]])
    assert alone[0].pairs == {(8, 40), (8, 41)}


def test_the_attack_and_the_defence_routine_agree_on_hand_made_cases():
    # every shown count from 10 to 60 over every shown denominator up to 80, whole percent and
    # one decimal place, with and without the interval: the two routines leave the same pairs
    for n_shown in range(10, 61, 10):
        for d_shown in range(n_shown, 81, 15):
            n_dom = count_domain(n_shown, POLICY, secondary=False)
            d_dom = count_domain(d_shown, POLICY, secondary=False)
            for step in (1.0, 0.1):
                pct = float(np.round(100 * n_shown / d_shown / step) * step)
                low, high = (float(np.round(v[0] / step) * step)
                             for v in wilson_interval(np.array([n_shown]), np.array([d_shown])))
                for bounds in ((), (low, high)):
                    theirs = percentage_candidates([n_dom], [d_dom], [Shown(False, pct, step)],
                                                   [[Shown(False, b, step)] for b in bounds], [None])[0]
                    ours = pairs_for_row(n_dom, d_dom, Printed(pct, step),
                                         tuple(Printed(b, step) for b in bounds))
                    assert (ours.numerators, ours.denominators) == theirs, (n_shown, d_shown, step, bounds)


def test_the_attack_catches_a_leak_the_defence_misses_when_its_routine_is_broken(monkeypatch):
    # 12 of 40 shown as 10 of 40: the defence prints 25% from the shown counts, since 30% from the
    # true ones would pin both; break its routine (it finds no pin) and 30% goes out
    low, high = wilson_interval(np.array([12]), np.array([40]))
    truth = pd.DataFrame({"area_code": ["A"], "reached": [12], "cohort": [40], "pct": [30.0],
                          "ci_low": low, "ci_high": high})
    safe = format_for_people(apply_disclosure(truth, REACH), REACH)
    assert safe.pct[0] == "25"
    assert attack_table(safe, truth, REACH).recovered == []
    monkeypatch.setattr(disclosure_audit, "percentage_pins",
                        lambda n_shown, *args, **kwargs: np.zeros(len(n_shown), dtype=bool))
    broken = format_for_people(apply_disclosure(truth, REACH), REACH)
    assert (broken.reached[0], broken.cohort[0], broken.pct[0]) == (10, 40, "30")
    found = attack_table(broken, truth, REACH).recovered
    assert {(r.column, r.true_value, r.attack) for r in found} == {("reached", 12, "percentage x denominator")}


# seen and assessed in time, each a percentage of one row's referrals
SEEN_AND_ASSESSED = DisclosureSpec(
    counts=("referrals", "seen", "assessed"), labels=("area_code",),
    proportions=(Proportion("seen_pct", "seen", "referrals", intervals=()),
                 Proportion("assessed_pct", "assessed", "referrals", intervals=())))


def _seen_and_assessed(referrals, seen, assessed, seen_pct, assessed_pct) -> pd.DataFrame:
    """Area A's one row of SEEN_AND_ASSESSED (numbers for the truth, printed text for a table)."""
    return pd.DataFrame({"area_code": ["A"], "referrals": [referrals], "seen": [seen], "assessed": [assessed],
                         "seen_pct": [seen_pct], "assessed_pct": [assessed_pct]})


def _each_alone_recovers_nothing(leaky: pd.DataFrame, truth: pd.DataFrame) -> None:
    spec = SEEN_AND_ASSESSED
    for alone in ("seen_pct", "assessed_pct"):
        one = DisclosureSpec(counts=spec.counts, labels=spec.labels,
                             proportions=tuple(p for p in spec.proportions if p.pct == alone))
        assert attack_table(leaky, truth, one).recovered == []


def test_two_percentages_over_one_denominator_are_taken_together():
    # 31 referrals shown as 30 (28-32); 9 seen in time shown as 10, 29%: 8/28 or 9/31; 14 assessed
    # in time shown as 15, 45%: 13/29 or 14/31. Each alone leaves two; together only 31.
    spec = SEEN_AND_ASSESSED
    truth = _seen_and_assessed(31, 9, 14, 100 * 9 / 31, 100 * 14 / 31)
    leaky = _seen_and_assessed("30", "10", "15", "29", "45")
    _each_alone_recovers_nothing(leaky, truth)
    found = {(r.column, r.true_value) for r in attack_table(leaky, truth, spec).recovered}
    assert found == {("referrals", 31), ("seen", 9), ("assessed", 14)}
    # the defence sees it too and works both out from the shown counts: 10/30 = 33%, 15/30 = 50%
    safe = format_for_people(apply_disclosure(truth, spec), spec)
    assert (safe.seen_pct[0], safe.assessed_pct[0]) == ("33", "50")
    assert attack_table(safe, truth, spec).recovered == []


def test_the_one_denominator_two_percentages_share_pins_each_numerator():
    # 25 referrals shown as 25 (23-27); 11 seen shown as 10 (8-12), 44%: 11/25 or 12/27; 12
    # assessed shown as 10, 48%: 11/23 or 12/25. Together only 25 referrals (shown as it is, so
    # nothing new), but over 25 alone 44% is 11 seen and 48% is 12 assessed.
    spec = SEEN_AND_ASSESSED
    truth = _seen_and_assessed(25, 11, 12, 44.0, 48.0)
    leaky = _seen_and_assessed("25", "10", "10", "44", "48")
    _each_alone_recovers_nothing(leaky, truth)
    found = {(r.column, r.true_value) for r in attack_table(leaky, truth, spec).recovered}
    assert found == {("seen", 11), ("assessed", 12)}
    # the defence works both out from the shown counts: 10/25 = 40%
    safe = format_for_people(apply_disclosure(truth, spec), spec)
    assert (safe.seen_pct[0], safe.assessed_pct[0]) == ("40", "40")
    assert attack_table(safe, truth, spec).recovered == []


def test_a_percentage_of_the_shown_counts_says_nothing_about_the_true_ones():
    # 10 of 40 shown, 25% with Wilson's 14 to 40 for 10/40: the policy prints this for 12 of 40
    # (30% would pin it), so the attacker cannot take 25% as the exact counts' percentage
    rows = [{"numerator": (8, 12), "denominator": (38, 42), "pct": Printed(25, 1),
             "intervals": (Printed(14, 1), Printed(40, 1)), "shown": (10, 40)}]
    assert attack_percentages(rows)[0].says_nothing
    # 29% is no percentage of 10 and 40 (25%): it can only be the exact counts', 11/38 (28.9),
    # 12/41 (29.3) or 12/42 (28.6)
    rows[0].update(pct=Printed(29, 1), intervals=())
    found = attack_percentages(rows)[0]
    assert not found.says_nothing and found.pairs == {(11, 38), (12, 41), (12, 42)}
