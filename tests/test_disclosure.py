"""Disclosure control (contract section 6): small counts hidden, counts rounded, no way back from totals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from pathway.disclosure import (ColumnsAddUp, Derived, DisclosureError, DisclosureSpec, Proportion,
                                RowsAddUp, additive_groups, apply_disclosure, format_for_people,
                                hidden_cells)
from pathway.settings import DisclosurePolicy

REACH = DisclosureSpec(counts=("reached", "cohort"),
                       proportions=(Proportion("pct", "reached", "cohort"),))


def reach_table(reached, cohort, areas=None):
    reached, cohort = np.asarray(reached), np.asarray(cohort)
    with np.errstate(invalid="ignore"):  # 0 of 0 has no percentage
        pct = 100 * reached / cohort
    # Stand-in intervals: disclosure only hides or keeps them, so their exact values do not matter.
    return pd.DataFrame({
        "area_code": areas or [f"E0{i}" for i in range(len(reached))],
        "reached": reached,
        "cohort": cohort,
        "pct": pct,
        "ci_low": pct - 1,
        "ci_high": pct + 1,
    })


# ---- primary suppression and rounding -------------------------------------------------

@pytest.mark.parametrize("count, shown", [
    (0, 0), (1, None), (7, None), (8, 10), (12, 10), (13, 15), (17, 15), (18, 20), (102, 100)])
def test_counts_rounded_to_5_and_1_to_7_hidden(count, shown):
    out = apply_disclosure(pd.DataFrame({"n": [count]}), DisclosureSpec(counts=("n",)))
    assert str(out["n"].dtype) == "Int64"
    assert (pd.isna(out["n"].iloc[0]) if shown is None else out["n"].iloc[0] == shown)


def test_percentages_kept_as_computed_from_unrounded_counts():
    # 12 of 40 is 30%; shown counts become 10 and 40, but the percentage stays 30, not 25.
    out = apply_disclosure(reach_table([12], [40]), REACH)
    assert (out["reached"].iloc[0], out["cohort"].iloc[0]) == (10, 40)
    assert out["pct"].iloc[0] == 30 and out["ci_low"].iloc[0] == 29 and out["ci_high"].iloc[0] == 31


def test_percentages_over_a_shown_thousand_come_from_the_shown_counts():
    # 304 of 1,001 is 30.37%, shown as 305 of 1,000. Exact percentages over a count this size,
    # taken across several metrics over the same births, narrowed it to one value on the
    # national demo; so the percentage is 305/1000 = 30.5 -> 31, and the interval Wilson's for
    # 305 of 1,000 (27.73 to 33.42 -> 28 to 33), not 30 from the exact counts.
    out = apply_disclosure(reach_table([304, 12], [1001, 40]), REACH)
    assert out[["reached", "cohort", "pct", "ci_low", "ci_high"]].iloc[0].tolist() == [305, 1000, 31, 28, 33]
    # below a thousand they stay as the exact counts give them (12 of 40 is 30%, not 25)
    assert out["pct"].iloc[1] == 30


def test_percentage_hidden_with_its_numerator():
    out = apply_disclosure(reach_table([5, 0], [40, 40]), REACH)
    assert pd.isna(out["reached"].iloc[0])
    assert out[["pct", "ci_low", "ci_high"]].iloc[0].isna().all()
    # 0 of 40 is shown: 0 stays 0, and 0% is no secret.
    assert out["reached"].iloc[1] == 0 and out["pct"].iloc[1] == 0


def test_percentage_hidden_with_its_denominator():
    out = apply_disclosure(reach_table([0], [6]), REACH)
    assert out["reached"].iloc[0] == 0 and pd.isna(out["cohort"].iloc[0])
    assert out[["pct", "ci_low", "ci_high"]].iloc[0].isna().all()


def test_policy_comes_from_settings():
    # A stricter policy (hide below 10, round to 10) changes both steps.
    out = apply_disclosure(pd.DataFrame({"n": [9, 14, 15]}), DisclosureSpec(counts=("n",)),
                           DisclosurePolicy(suppress_below=10, round_to=10))
    assert pd.isna(out["n"].iloc[0]) and list(out["n"].iloc[1:]) == [10, 20]


def test_input_frame_is_not_changed():
    frame = reach_table([5], [40])
    apply_disclosure(frame, REACH)
    assert frame["reached"].iloc[0] == 5


def test_derived_statistics_hidden_with_their_count():
    spec = DisclosureSpec(counts=("referrals", "seen"),
                          derived=(Derived(columns=("median_days",), counts=("seen",)),))
    frame = pd.DataFrame({"referrals": [30, 30], "seen": [4, 20], "median_days": [12.0, 20.5]})
    out = apply_disclosure(frame, spec)
    assert pd.isna(out["median_days"].iloc[0]) and out["median_days"].iloc[1] == 20.5


# ---- secondary suppression ------------------------------------------------------------

def test_all_areas_row_would_give_away_a_hidden_area_without_secondary_suppression():
    # Areas reach 5, 40 and 12 (all areas: 57). Hiding only the 5 leaks it: 57 - 40 - 12 = 5.
    # Secondary suppression hides the smallest other non-zero area, 12, so 57 - 40 = 17 = A + C
    # with A anywhere from 1 to 7 (and C = 17 - A).
    frame = reach_table([5, 40, 12, 57], [50, 100, 30, 180], areas=["A", "B", "C", "all"])
    spec = DisclosureSpec(counts=("reached", "cohort"),
                          proportions=(Proportion("pct", "reached", "cohort"),),
                          additive=(RowsAddUp(columns=("reached", "cohort"), along="area_code",
                                              total="all"),))
    naive = apply_disclosure(frame, REACH)
    assert naive["reached"].isna().sum() == 1  # only A: recoverable from the total

    out = apply_disclosure(frame, spec)
    assert list(out["reached"]) == [pd.NA, 40, pd.NA, 55]
    assert pd.isna(out["pct"].iloc[2])  # C's percentage would give C (and so A) back
    assert list(out["cohort"]) == [50, 100, 30, 180]  # cohorts need no protection here


def test_a_total_column_protects_its_parts():
    # Screen outcomes in one row: positive 3 + negative 41 = screened 44. Hiding 3 leaves 44 - 41 = 3,
    # so negative is hidden too (the only other non-zero part).
    spec = DisclosureSpec(counts=("screened", "positive", "negative"),
                          additive=(ColumnsAddUp(total="screened", parts=("positive", "negative")),))
    out = apply_disclosure(pd.DataFrame({"screened": [44], "positive": [3], "negative": [41]}), spec)
    assert out["screened"].iloc[0] == 45
    assert pd.isna(out["positive"].iloc[0]) and pd.isna(out["negative"].iloc[0])


def test_a_few_pregnancies_without_a_booking_date_hide_the_total_not_the_percentage():
    # pregnancies 58 = booking known 55 + booking missing 3; 41 of the 55 booked by 13 weeks.
    # Missing 3 is hidden; the total goes with it rather than the denominator, so the reader still
    # sees 40 of 55 and the percentage (41/55 = 74.5% -> 75%), and 58 - 55 cannot be worked out.
    spec = DisclosureSpec(
        counts=("pregnancies", "booked", "booking_known", "booking_missing"),
        proportions=(Proportion("pct", "booked", "booking_known", ()),),
        additive=(ColumnsAddUp(total="pregnancies", parts=("booking_known", "booking_missing"),
                               hide_after_total=("booking_known",)),))
    row = pd.DataFrame({"pregnancies": [58], "booked": [41], "booking_known": [55],
                        "booking_missing": [3], "pct": [100 * 41 / 55]})
    out = apply_disclosure(row, spec)
    assert pd.isna(out["booking_missing"].iloc[0]) and pd.isna(out["pregnancies"].iloc[0])
    assert (out["booked"].iloc[0], out["booking_known"].iloc[0], out["pct"].iloc[0]) == (40, 55, 75)

    # Declared without the preference, the denominator goes and the percentage with it.
    plain = DisclosureSpec(counts=spec.counts, proportions=spec.proportions,
                           additive=(ColumnsAddUp(total="pregnancies", parts=("booking_known", "booking_missing")),))
    out = apply_disclosure(row, plain)
    assert out["pregnancies"].iloc[0] == 60
    assert pd.isna(out["booking_known"].iloc[0]) and pd.isna(out["pct"].iloc[0])


def test_stage_reach_row_with_cohort_is_not_a_leak():
    # reached 5 of cohort 40: cohort - reached is not shown, so the cohort stays.
    out = apply_disclosure(reach_table([5], [40]), REACH)
    assert out["cohort"].iloc[0] == 40


def test_equity_groups_add_up_to_one_overall_row():
    # Area E01: overall cohort 100 (row dimension 'all'); IMD quintiles 3 + 30 + 67 and ethnic
    # groups 50 + 50. The quintile 3 is hidden, so the next smallest quintile (30) goes too;
    # the ethnic groups have nothing hidden and stay.
    frame = pd.DataFrame({
        "area_code": ["E01"] * 6,
        "dimension": ["all", "imd_quintile", "imd_quintile", "imd_quintile", "ethnic_group", "ethnic_group"],
        "group": ["all", "1", "2", "3", "White", "Asian"],
        "cohort": [100, 3, 30, 67, 50, 50],
    })
    spec = DisclosureSpec(counts=("cohort",), additive=(
        RowsAddUp(columns=("cohort",), along="group", total="all", within=("area_code", "dimension"),
                  total_at=(("dimension", "all"),)),))
    out = apply_disclosure(frame, spec)
    assert list(out["cohort"]) == [100, pd.NA, pd.NA, 65, 50, 50]


def test_a_zero_part_is_no_protection():
    # Parts 4, 0, 20 of 24: the 0 cannot hide the 4 (0 is shown and known), so the 20 goes.
    frame = pd.DataFrame({"area_code": ["A", "B", "C", "all"], "n": [4, 0, 20, 24]})
    spec = DisclosureSpec(counts=("n",), additive=(RowsAddUp(columns=("n",), along="area_code"),))
    assert list(apply_disclosure(frame, spec)["n"]) == [pd.NA, 0, pd.NA, 25]


def test_two_way_table_where_pairs_of_hidden_cells_still_leak():
    # Areas a0-a2 by groups g0-g3 with both margins. Hiding 1-7 and then a second cell in every
    # line with a single hidden cell hides a0g0 (9), a0g1, a0g3, a1g0, a1g2, a2g1, a2g3, all/g0
    # and all/g2, yet a0g0 can still be worked out: column g2 gives a1g2 = all/g2 (the other cells
    # are 0), row a1 gives a1g0 + a1g2 = 61 - 40 = 21, row 'all' gives all/g0 + all/g2 = 103 - 18 -
    # 55 = 30, and column g0 gives a0g0 = all/g0 - a1g0 = (30 - all/g2) - (21 - a1g2) = 9.
    # The audit finds that and hides more until no hidden cell is fixed by the shown ones.
    counts = np.array([[9, 6, 0, 6], [1, 0, 20, 40], [0, 12, 0, 9]])
    frame, spec = two_way_table(counts)
    hidden = hidden_cells(frame, spec)
    a0g0 = frame.index[(frame.area == "a0") & (frame.group == "g0")][0]
    assert (a0g0, "n") in hidden
    assert worked_out_cells(frame, spec, hidden) == set()


def test_spec_refuses_a_percentage_on_a_column_not_declared_a_count():
    with pytest.raises(ValueError, match="'reached'.*not among the count columns"):
        DisclosureSpec(counts=("cohort",), proportions=(Proportion("pct", "reached", "cohort"),))


def test_missing_column_is_named():
    with pytest.raises(DisclosureError, match="no column\\(s\\) 'cohort'"):
        apply_disclosure(pd.DataFrame({"reached": [1], "pct": [1.0], "ci_low": [0.0], "ci_high": [2.0]}), REACH)


def test_a_value_that_is_not_a_count_is_named_with_its_row():
    frame = pd.DataFrame({"n": [3, -2]}, index=["E06000001", "E06000002"])
    with pytest.raises(DisclosureError, match="column 'n', row 'E06000002': -2 is not a count"):
        apply_disclosure(frame, DisclosureSpec(counts=("n",)))


def test_two_total_rows_for_the_same_parts_is_an_error():
    frame = pd.DataFrame({"area_code": ["A", "all", "all"], "n": [10, 10, 10]})
    spec = DisclosureSpec(counts=("n",), additive=(RowsAddUp(columns=("n",), along="area_code"),))
    with pytest.raises(DisclosureError, match="2 total rows"):
        apply_disclosure(frame, spec)


# ---- formatting for people ------------------------------------------------------------

def test_format_for_people_marks_hidden_cells_with_a_star():
    frame = reach_table([5, 12, 0], [40, 40, 0])
    out = format_for_people(apply_disclosure(frame, REACH), REACH)
    assert list(out["reached"]) == ["*", 10, 0]
    assert list(out["cohort"]) == [40, 40, 0]
    assert out["pct"].iloc[0] == "*" and out["ci_low"].iloc[0] == "*"
    assert out["pct"].iloc[1] == "30"  # written as text: whole percent under 4,000, no float noise
    assert out["pct"].iloc[2] == ""  # 0 of 0: no percentage to hide, none to show


def test_format_for_people_rounds_percentages_half_up():
    # 490 of 4,000 is 12.25%: one decimal place from a denominator of 4,000, half up to 12.3
    # (round() would give 12.2); 49 of 400 is the same share, shown to the whole percent.
    frame = reach_table([490, 49], [4000, 400])
    out = format_for_people(apply_disclosure(frame, REACH), REACH)
    assert list(out["pct"]) == ["12.3", "12"]


def test_json_shows_hidden_cells_as_null():
    out = apply_disclosure(reach_table([5], [40]), REACH)
    record = json.loads(out.to_json(orient="records"))[0]
    assert record["reached"] is None and record["pct"] is None and record["cohort"] == 40


# ---- property: random two-way tables never leak ---------------------------------------

def two_way_table(counts: np.ndarray) -> tuple[pd.DataFrame, DisclosureSpec]:
    """Areas × groups with an 'all' row per area, per group and overall (both margins shown)."""
    rows = []
    for i, line in enumerate(counts):
        rows += [(f"a{i}", f"g{j}", int(v)) for j, v in enumerate(line)]
        rows.append((f"a{i}", "all", int(line.sum())))
    rows += [("all", f"g{j}", int(v)) for j, v in enumerate(counts.sum(axis=0))]
    rows.append(("all", "all", int(counts.sum())))
    spec = DisclosureSpec(counts=("n",), additive=(
        RowsAddUp(columns=("n",), along="area", total="all", within=("group",)),
        RowsAddUp(columns=("n",), along="group", total="all", within=("area",))))
    return pd.DataFrame(rows, columns=["area", "group", "n"]), spec


def worked_out_cells(frame, spec, hidden) -> set:
    """Hidden cells a reader can solve for exactly from the equations the table's totals give.

    Independent of the module's audit: cell k is determined iff adding the unit vector e_k to the
    system's coefficient rows does not raise its rank.
    """
    groups = additive_groups(frame, spec)
    unknown = sorted(hidden)
    if not unknown:
        return set()
    column = {c: k for k, c in enumerate(unknown)}
    system = []
    for g in groups:
        row = np.zeros(len(unknown))
        for c in g.parts:
            if c in column:
                row[column[c]] = 1
        if g.total in column:
            row[column[g.total]] = -1
        system.append(row)
    system = np.array(system)
    rank = np.linalg.matrix_rank(system)
    return {c for c in unknown
            if np.linalg.matrix_rank(np.vstack([system, np.eye(len(unknown))[column[c]]])) == rank}


small_counts = st.sampled_from([0, 0, 1, 2, 5, 7, 8, 9, 12, 13, 20, 35, 60])


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 4).flatmap(lambda rows: st.integers(2, 4).flatmap(
    lambda cols: st.lists(st.lists(small_counts, min_size=cols, max_size=cols),
                          min_size=rows, max_size=rows))))
def test_random_tables_never_show_or_give_away_a_small_count(lines):
    counts = np.array(lines)
    frame, spec = two_way_table(counts)
    out = apply_disclosure(frame, spec)
    shown = out["n"].dropna().astype(int)
    assert not shown.between(1, 7).any()
    assert (shown % 5 == 0).all()
    assert (np.abs(shown - frame["n"][shown.index]) <= 2).all()  # rounding moves a count by 2 at most

    hidden = {(i, "n") for i in np.flatnonzero(out["n"].isna())}
    assert all(frame["n"][i] != 0 for i, _ in hidden)
    for group in additive_groups(frame, spec):
        assert sum(c in hidden for c in group.cells) != 1  # no lone hidden cell beside its total
    assert worked_out_cells(frame, spec, hidden) == set()
