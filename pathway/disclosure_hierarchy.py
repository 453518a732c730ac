"""An ICB's row against its areas' rows: the part of disclosure control that spans two answers.

A user can ask for an ICB and for all areas. The ICB's count is the sum of its areas' counts,
and each is rounded to 5 on its own; at the edge of the rounding the two answers together pin a
count neither shows (an ICB shown as 300 whose areas are shown as 110, 95 and 95 can only be 298
to 302, and if the areas cannot add to less than 302, every one of them is at its lowest). The
area answers are fixed first; an ICB's answer then hides any count that, beside its areas'
shown counts, would fix one value for itself or for a hidden or rounded area count, and the
percentages and figures resting on it (as pathway.disclosure does for a small count).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pathway.disclosure import DisclosureSpec
from pathway.settings import DisclosurePolicy


class _Sum:
    def __init__(self, total, parts):
        self.total, self.parts = total, tuple(parts)

    @property
    def cells(self):
        return (*self.parts, self.total)


def pinned_icb_cells(icb_shown: pd.DataFrame, areas_shown: pd.DataFrame, spec: DisclosureSpec,
                     policy: DisclosurePolicy, keys: list[str]) -> set[tuple[int, str]]:
    """(row, count column) of the ICB answer that, beside the areas' shown rows (every area of
    the ICB; rows matched on `keys`, the metric's keys but area_code), leave one value for a count
    shown hidden or rounded."""
    from pathway.disclosure_audit import count_domain, sum_bounds

    icb_shown = icb_shown.reset_index(drop=True)
    secondary = bool(spec.additive)
    # what each answer's own percentages leave of its counts narrows them first, as an attacker
    # would narrow them
    icb_narrow = _narrowed(icb_shown, spec, policy)
    area_narrow = _narrowed(areas_shown.reset_index(drop=True), spec, policy)
    by_key: dict[tuple, list[int]] = {}
    for j, row in enumerate(areas_shown[keys].astype(str).itertuples(index=False)):
        by_key.setdefault(tuple(row), []).append(j)
    areas = areas_shown.reset_index(drop=True)
    pinned = set()
    for i, row in enumerate(icb_shown[keys].astype(str).itertuples(index=False)):
        members = by_key.get(tuple(row), [])
        if not members:
            continue
        for column in spec.counts:
            if column not in icb_shown.columns or column not in areas.columns:
                continue
            total = icb_shown[column].iloc[i]
            domains = {("icb",): _within(count_domain(np.nan if pd.isna(total) else float(total), policy,
                                                      secondary=secondary), icb_narrow.get((i, column)))}
            shown = {("icb",): total}
            for j in members:
                value = areas[column].iloc[j]
                domains[(j,)] = _within(count_domain(np.nan if pd.isna(value) else float(value), policy,
                                                     secondary=secondary), area_narrow.get((j, column)))
                shown[(j,)] = value
            bounds = sum_bounds([_Sum(("icb",), [(j,) for j in members])], domains)
            for cell, (low, high) in bounds.items():
                value = shown[cell]
                if low == high and (pd.isna(value) or int(value) != low):
                    pinned.add((i, column))
                    break
    return pinned


def _narrowed(frame: pd.DataFrame, spec: DisclosureSpec, policy: DisclosurePolicy) -> dict:
    from pathway.disclosure import format_for_people
    from pathway.disclosure_audit import parse_cell
    from pathway.disclosure_cross import _narrowed_by_percentages

    people = format_for_people(frame, spec)
    parsed = {c: [parse_cell(v) for v in people[c]] for c in spec.counts if c in people.columns}
    return _narrowed_by_percentages(spec, people, parsed, bool(spec.additive), policy)


def _within(domain: tuple[int, int], narrowed) -> tuple[int, int]:
    if narrowed is None:
        return domain
    return (max(domain[0], narrowed[0]), min(domain[1], narrowed[1]))


def hide_pinned_icb_cells(icb_shown: pd.DataFrame, areas_shown: pd.DataFrame, spec: DisclosureSpec,
                          policy: DisclosurePolicy, keys: list[str]) -> pd.DataFrame:
    """The ICB answer with every count pinned_icb_cells finds hidden, with what rests on it: the
    same count on the ICB's other rows (the cohort of every stage), its percentages and figures."""
    pinned = pinned_icb_cells(icb_shown, areas_shown, spec, policy, keys)
    if not pinned:
        return icb_shown
    out = icb_shown.reset_index(drop=True).copy()
    gone: dict[str, np.ndarray] = {}
    for i, column in pinned:
        same = (out[column] == out[column].iloc[i]).fillna(False).to_numpy(dtype=bool)
        same[i] = True
        gone[column] = gone.get(column, np.zeros(len(out), dtype=bool)) | same
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
