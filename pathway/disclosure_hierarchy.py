"""An ICB's row against its areas' rows: the part of disclosure control that spans two answers.

A user can ask for an ICB and for all areas. The ICB's count is the sum of its areas' counts,
and each is rounded to 5 on its own; at the edge of the rounding the two answers together pin a
count neither shows (four areas shown as 10, each 8 to 12, and their ICB shown as 30, 28 to 32:
the areas add to 32 at least, so the ICB is 32 and every area 8). The area answers are fixed
first; an ICB's answer then hides any count from which the cross-table attack
(pathway.disclosure_cross) works a count of the ICB or of its areas back, and the percentages
and figures resting on it (as pathway.disclosure does for a small count). A hidden ICB count
stands for any count from 1 up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pathway.disclosure import DisclosureSpec
from pathway.settings import DisclosurePolicy


def hide_pinned_icb_cells(name: str, icb_shown: pd.DataFrame, icb_truth: pd.DataFrame,
                          areas_shown: pd.DataFrame, areas_truth: pd.DataFrame, spec: DisclosureSpec,
                          policy: DisclosurePolicy) -> pd.DataFrame:
    """The ICB answer of metric `name` with every count hidden that the cross-table attack
    (pathway.disclosure_cross) works back from it and its areas' answers (every area of the ICB,
    shown and exact, row for row), with what rests on it; repeated until the attack finds nothing."""
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
    keys = [k for k in catalogue.METRICS[name].keys if k != "area_code" and k in out.columns]
    row_of = {tuple(str(v) for v in row): i for i, row in enumerate(out[keys].itertuples(index=False))}
    areas_shown, areas_truth = areas_shown.reset_index(drop=True), areas_truth.reset_index(drop=True)
    areas_shown.attrs = {}
    for frame in (areas_truth, truth):
        frame.attrs = {"disclosure": spec}
    areas_text = format_for_people(areas_shown, spec)
    alone = None
    for _ in range(len(out) * len(spec.counts) + 1):
        found = attack_across([(name, "all areas", areas_text, areas_truth),
                               (name, f"ICB {icb}", format_for_people(out, spec), truth)], policy, icb_of)
        cells = set()
        if alone is None and any(not r.table.endswith(f"(ICB {icb})") for r in found.recovered):
            # what the areas' answer gives away on its own is not the ICB's to mend
            alone = {(r.row, r.column) for r in attack_across(
                [(name, "all areas", areas_text, areas_truth)], policy, icb_of).recovered}
        for r in found.recovered:
            mine = r.table.endswith(f"(ICB {icb})")
            if not mine and (r.row, r.column) in alone:
                continue
            source = out if mine else areas_shown
            i = row_of.get(tuple(str(source[k].iloc[r.row]) for k in keys))
            if i is not None and not pd.isna(out[r.column].iloc[i]):
                cells.add((i, r.column))
        if not cells:
            break
        out = _hidden_with_what_rests_on_them(out, cells, spec)
    out.attrs = attrs
    return out


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
