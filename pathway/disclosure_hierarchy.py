"""An ICB's row against its areas' rows: the part of disclosure control that spans two answers.

A user can ask for an ICB and for all areas. The ICB's count is the sum of its areas' counts,
and each is rounded to 5 on its own; at the edge of the rounding the two answers together pin a
count neither shows (four areas shown as 10, each 8 to 12, and their ICB shown as 30, 28 to 32:
the areas add to 32 at least, so the ICB is 32 and every area 8). The area answers are fixed
first; an ICB's answer then hides any count from which the cross-table attack
(pathway.disclosure_cross) works a count of the ICB or of its areas back, and the percentages
and figures resting on it (as pathway.disclosure does for a small count). A hidden ICB count
stands for any count from 1 up.

Several metrics show one count (live births in births, the cohort of stage_reach and the live
births of economic_case; catalogue.SAME_COUNTS), each hiding or rounding it its own way, so an
ICB's answer is also set beside its siblings: each sibling metric's answer for all the ICB's
areas (shown and exact) and its ICB answer as the one-metric guard leaves it (never the
sibling's own sibling check, which would go round in circles). Only what the areas' answers
give away on their own is left out as not the ICB's to mend. The final answer starts from the
one-metric answer and only hides more. Two final answers shown together therefore give away no
more than either check saw: each is its one-metric answer or less, and each check held the
other's one-metric answer; a count both ICB answers show (the ICB's live births in two metrics)
is hidden by both checks alike, as each finds it against the same areas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from pathway.disclosure import ColumnsAddUp, DisclosureSpec
from pathway.settings import DisclosurePolicy


@dataclass(frozen=True)
class Sibling:
    """Another metric showing a count of the guarded one (catalogue.SAME_COUNTS), beside an ICB's
    answer: its answer for the ICB's areas and its ICB answer as the one-metric guard leaves it."""

    name: str
    areas_shown: pd.DataFrame
    areas_truth: pd.DataFrame
    icb_shown: pd.DataFrame
    icb_truth: pd.DataFrame
    spec: DisclosureSpec


def hide_pinned_icb_cells(name: str, icb_shown: pd.DataFrame, icb_truth: pd.DataFrame,
                          areas_shown: pd.DataFrame, areas_truth: pd.DataFrame, spec: DisclosureSpec,
                          policy: DisclosurePolicy, siblings: tuple[Sibling, ...] = ()) -> pd.DataFrame:
    """The ICB answer of metric `name` with every count hidden that the cross-table attack
    (pathway.disclosure_cross) works back from it, its areas' answers (every area of the ICB,
    shown and exact, row for row) and its siblings' answers, with what rests on it; repeated
    until the attack finds nothing it can mend."""
    from pathway import catalogue
    from pathway.disclosure import format_for_people
    from pathway.disclosure_cross import attack_across

    if icb_shown.empty or areas_shown.empty:
        return icb_shown
    attrs = dict(icb_shown.attrs)
    out = icb_shown.reset_index(drop=True).copy()
    truth = icb_truth.reset_index(drop=True)
    out.attrs = truth.attrs = {}  # pandas deep-copies attrs on every column read
    icb = str(out["area_code"].iloc[0])
    icb_of = {str(a): icb for a in areas_shown["area_code"]}
    mine = f"{name} (ICB {icb})"
    # every table but this ICB answer: (name, label, shown text, truth), and its rows' shown values
    fixed, rows_of = [], {}
    for sibling in (Sibling(name, areas_shown, areas_truth, None, None, spec), *siblings):
        tables = [("all areas", sibling.areas_shown, sibling.areas_truth)]
        if sibling.name != name and sibling.icb_shown is not None and not sibling.icb_shown.empty:
            tables.append((f"ICB {icb}", sibling.icb_shown, sibling.icb_truth))
        its_spec = sibling.spec if sibling.name == name else _what_bears_on(name, sibling.name, sibling.spec)
        for label, shown, exact in tables:
            columns = [c for c in shown.columns if c in catalogue.METRICS[sibling.name].keys
                       or c in its_spec.declared()]
            shown, exact = shown[columns].reset_index(drop=True), exact[columns].reset_index(drop=True)
            shown.attrs = {}
            exact.attrs = {"disclosure": its_spec}
            fixed.append((sibling.name, label, format_for_people(shown, its_spec), exact))
            rows_of[f"{sibling.name} ({label})"] = (sibling.name, shown)
    truth.attrs = {"disclosure": spec}
    groups = catalogue.SAME_COUNTS if siblings else ()
    alone = None
    for _ in range(len(out) * len(spec.counts) + 1):
        found = attack_across([*fixed, (name, f"ICB {icb}", format_for_people(out, spec), truth)],
                              policy, icb_of, groups)
        cells = set()
        if alone is None and any(r.table != mine for r in found.recovered):
            # what the areas' answers give away on their own is not the ICB's to mend
            areas_only = [a for a in fixed if a[1] == "all areas"]
            alone = {(r.table, r.row, r.column)
                     for r in attack_across(areas_only, policy, icb_of, groups).recovered}
        for r in found.recovered:
            if r.table == mine:
                cells.add((r.row, r.column))
            elif (r.table, r.row, r.column) not in alone:
                cells |= _cells_of_this_icb(name, out, *rows_of[r.table], r.row, r.column)
        cells = {(i, column) for i, column in cells if not pd.isna(out[column].iloc[i])}
        if not cells:
            break
        out = _hidden_with_what_rests_on_them(out, cells, spec)
    out.attrs = attrs
    return out


def _what_bears_on(name: str, other: str, spec: DisclosureSpec) -> DisclosureSpec:
    """The part of a sibling's spec that bears on metric `name`'s counts: its columns declared to
    show one of them, and every count and percentage a chain of percentages ties to those (the
    share seen within 28 days narrows the referrals it is a share of); the rest of the sibling's
    answer says nothing more about them, and leaving it out keeps the guard cheap."""
    from pathway import catalogue

    counts = {c for g in catalogue.same_counts_of(name) for m, c in g.columns
              if m == other and any(n == name for n, _ in g.columns)} & set(spec.counts)
    # parts and totals stay whole: they tell the attack a hidden count may be any count from 1 up
    counts |= {c for rule in spec.additive for c in (
        (rule.total, *rule.parts) if isinstance(rule, ColumnsAddUp) else rule.columns)}
    proportions: list = []
    while True:
        more = [p for p in spec.proportions if p not in proportions and {p.numerator, p.denominator} & counts]
        if not more:
            break
        proportions += more
        counts |= {c for p in more for c in (p.numerator, p.denominator)}
    return replace(spec, counts=tuple(c for c in spec.counts if c in counts), proportions=tuple(proportions),
                   derived=(), from_counts=(), summaries=())


def _cells_of_this_icb(name: str, out: pd.DataFrame, other: str, shown: pd.DataFrame, row: int,
                       column: str) -> set[tuple[int, str]]:
    """The cells of metric `name`'s ICB answer `out` that show the count of a pinned cell of an
    areas' or a sibling's answer: the same column (for a sibling, the column declared to show
    the same count, or every such column when the pinned one is no shared count) in the rows
    with the same keys other than the area."""
    from pathway import catalogue

    if other == name:
        pairs = [(column, [k for k in catalogue.METRICS[name].keys if k != "area_code"])]
    else:
        pairs = []
        shared = [g for g in catalogue.same_counts_of(name) if any(m == other for m, _ in g.columns)]
        direct = [g for g in shared if (other, column) in g.columns]
        for group in direct or shared:
            keys = [k for k in group.keys if k != "area_code"
                    and k in catalogue.METRICS[name].keys and k in catalogue.METRICS[other].keys]
            pairs += [(c, keys) for m, c in group.columns if m == name]
    found = set()
    for mine, keys in pairs:
        if mine not in out.columns or any(k not in out.columns or k not in shown.columns for k in keys):
            continue
        wanted = tuple(str(shown[k].iloc[row]) for k in keys)
        for i, values in enumerate(out[keys].itertuples(index=False)):
            if tuple(str(v) for v in values) == wanted:
                found.add((i, mine))
    return found


def _hidden_with_what_rests_on_them(frame: pd.DataFrame, cells: set, spec: DisclosureSpec) -> pd.DataFrame:
    out = frame.copy()
    gone: dict[str, np.ndarray] = {}
    for i, column in cells:
        rows = gone.setdefault(column, np.zeros(len(out), dtype=bool))
        rows[i] = True
    for column, rows in gone.items():
        out[column] = out[column].mask(rows)
    for rule in (*spec.proportions, *spec.derived, *spec.from_counts):
        rows = np.zeros(len(out), dtype=bool)
        for column in rule.counts:
            rows |= gone.get(column, np.zeros(len(out), dtype=bool))
        for column in rule.columns:
            if column in out.columns:
                out[column] = pd.to_numeric(out[column], errors="coerce").mask(rows)
    return out
