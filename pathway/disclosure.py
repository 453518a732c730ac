"""Disclosure control (contract section 6): the one place small counts are hidden and counts rounded.

Each metric declares a DisclosureSpec: which columns are counts of people or events, which
percentages (and intervals) rest on which counts, and which counts add up to a total shown in the
same table. apply_disclosure then

1. hides every count from 1 to suppress_below - 1 (primary suppression; 0 stays 0);
2. closes every gap that would let a hidden count be worked back from a total (secondary
   suppression): within an additive group (parts and their total), if exactly one cell is hidden,
   the smallest other non-zero part is hidden too (the total when no part is left); this repeats
   until no group has exactly one hidden cell, and then a linear-algebra audit over all groups
   together checks that no hidden cell is fixed by the shown cells (in two-way tables a cell can
   be pinned by a chain of groups even when each group hides two), hiding more until none is;
3. rounds the shown counts to the nearest round_to;
4. hides each percentage, interval or other statistic that rests on a hidden count.

Percentages and intervals arrive already computed from the unrounded counts and are not recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from pathway.settings import DisclosurePolicy

SUPPRESSED_MARK = "*"

Cell = tuple[int, str]  # (row position, column name)


@dataclass(frozen=True)
class Proportion:
    """A percentage (and its interval columns) computed from a numerator and denominator count."""

    pct: str
    numerator: str
    denominator: str
    intervals: tuple[str, ...] = ("ci_low", "ci_high")

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.pct, *self.intervals)

    @property
    def counts(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator)


@dataclass(frozen=True)
class Derived:
    """Statistics over the people counted in `counts` (a median wait, a mean score, a rate ratio):
    hidden whenever any of those counts is hidden, since they can give it away."""

    columns: tuple[str, ...]
    counts: tuple[str, ...]


@dataclass(frozen=True)
class ColumnsAddUp:
    """In every row, the count in `total` is the sum of the counts in `parts`.

    Only declare it when the total and all its parts are shown: stage_reach's cohort is not one
    (cohort - reached is not a column, so nothing can be worked back from the row).
    """

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class RowsAddUp:
    """Rows add up to a total row shown in the same table, for each of `columns`.

    Within each combination of the `within` columns, the row whose `along` column equals `total`
    holds the sum of the other rows: e.g. along='area_code', total='all', within=('stage', 'tier')
    for an 'all areas' row, or along='group', total='all', within=('area_code', 'dimension') for
    equity groups that add up to the area's cohort. When the total row sits in another combination
    (one overall row for all dimensions), `total_at` names the within-columns whose value differs
    on it: total_at=(('dimension', 'all'),).
    """

    columns: tuple[str, ...]
    along: str
    total: object = "all"
    within: tuple[str, ...] = ()
    total_at: tuple[tuple[str, object], ...] = ()


Additive = ColumnsAddUp | RowsAddUp


@dataclass(frozen=True)
class DisclosureSpec:
    """What the disclosure rules need to know about one metric's output table.

    For example, in the metric catalogue:
        stage_reach: DisclosureSpec(counts=("reached", "cohort"),
                                    proportions=(Proportion("pct", "reached", "cohort"),))
        births with an 'all areas' row: DisclosureSpec(
            counts=("live_births", "pregnancies", "booked_by_13_weeks"),
            additive=(RowsAddUp(columns=("live_births", "pregnancies", "booked_by_13_weeks"),
                                along="area_code", total="all", within=("period",)),))
        waiting_times: DisclosureSpec(counts=("referrals", "seen", "seen_within_28_days"),
            proportions=(Proportion("seen_within_28_days_pct", "seen_within_28_days", "referrals",
                                    intervals=()),),
            derived=(Derived(("median_days", "p90_days"), counts=("seen",)),))
    A percentage's numerator and denominator must be count columns of the table (add them if the
    contract does not list them): a percentage of an unchecked count shows a small numerator
    through it (3 of 40 is 7.5%).
    """

    counts: tuple[str, ...]
    proportions: tuple[Proportion, ...] = ()
    additive: tuple[Additive, ...] = ()
    derived: tuple[Derived, ...] = ()

    def __post_init__(self):
        counts = set(self.counts)
        for what, names in self._count_references():
            unknown = [n for n in names if n not in counts]
            if unknown:
                raise ValueError(f"disclosure spec: {what} uses {', '.join(map(repr, unknown))}, "
                                 f"which is not among the count columns {sorted(counts)}")

    def _count_references(self) -> Iterable[tuple[str, tuple[str, ...]]]:
        for p in self.proportions:
            yield f"percentage {p.pct!r}", p.counts
        for d in self.derived:
            yield f"statistics {', '.join(d.columns)}", d.counts
        for a in self.additive:
            if isinstance(a, ColumnsAddUp):
                yield f"total {a.total!r}", (a.total, *a.parts)
            else:
                yield f"rows adding up along {a.along!r}", a.columns

    def columns_used(self) -> list[str]:
        names = list(self.counts)
        for p in self.proportions:
            names += [p.pct, *p.intervals]
        for d in self.derived:
            names += list(d.columns)
        for a in self.additive:
            if isinstance(a, RowsAddUp):
                names += [a.along, *a.within]
        return list(dict.fromkeys(names))


class DisclosureError(ValueError):
    """A table does not fit its disclosure spec; the message names the column, row and value."""


# ---- public functions -----------------------------------------------------------------

def apply_disclosure(frame: pd.DataFrame, spec: DisclosureSpec,
                     policy: DisclosurePolicy | None = None) -> pd.DataFrame:
    """A copy of `frame` safe to show people: count columns become nullable Int64 with hidden
    counts as <NA> (null in JSON), shown counts rounded; dependent percentages and statistics NaN."""
    policy = policy or DisclosurePolicy()
    _check_columns(frame, spec)
    table = frame.reset_index(drop=True)
    values = {column: _counts_of(table, column, frame.index) for column in spec.counts}
    hidden = _hidden(table, spec, policy, values)

    out = frame.copy()
    hidden_rows: dict[str, list[int]] = {}
    for i, c in hidden:
        hidden_rows.setdefault(c, []).append(i)
    for column in spec.counts:
        shown = _round_half_up(values[column], policy.round_to)
        shown[hidden_rows.get(column, [])] = np.nan
        missing = np.isnan(shown)
        out[column] = pd.arrays.IntegerArray(np.where(missing, 0, shown).astype("int64"), missing)
    for rule in (*spec.proportions, *spec.derived):
        counts = rule.counts
        gone = np.zeros(len(table), dtype=bool)
        for column in counts:
            gone[hidden_rows.get(column, [])] = True
        for column in rule.columns:
            out[column] = pd.to_numeric(out[column], errors="coerce").mask(gone)
    return out


def format_for_people(frame: pd.DataFrame, spec: DisclosureSpec, decimals: int = 1) -> pd.DataFrame:
    """The output of apply_disclosure as people read it (tables, CSV, XLSX): '*' for a hidden count
    and for a percentage or statistic hidden with it, percentages rounded to `decimals` places
    (half up), a blank where a percentage cannot be calculated (no denominator)."""
    out = frame.copy()
    for column in spec.counts:
        out[column] = [SUPPRESSED_MARK if pd.isna(v) else int(v) for v in frame[column]]
    for rule in (*spec.proportions, *spec.derived):
        gone = np.zeros(len(frame), dtype=bool)
        for column in rule.counts:
            gone |= frame[column].isna().to_numpy()
        for column in rule.columns:
            numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            if isinstance(rule, Proportion):
                numbers = _round_half_up(numbers, 10.0 ** -decimals)
            # Text, not floats: 83.3 must not print as 83.30000000000001.
            out[column] = [SUPPRESSED_MARK if g else ("" if np.isnan(v) else _shown(v, decimals))
                           for g, v in zip(gone, numbers)]
    return out


def _shown(value: float, decimals: int) -> str:
    return str(int(value)) if float(value).is_integer() and decimals == 0 else f"{value:.{decimals}f}"


def hidden_cells(frame: pd.DataFrame, spec: DisclosureSpec,
                 policy: DisclosurePolicy | None = None) -> set[Cell]:
    """The (row position, column) cells apply_disclosure hides: primary and secondary suppression."""
    _check_columns(frame, spec)
    table = frame.reset_index(drop=True)
    values = {c: _counts_of(table, c, frame.index) for c in spec.counts}
    return _hidden(table, spec, policy or DisclosurePolicy(), values)


def _hidden(table: pd.DataFrame, spec: DisclosureSpec, policy: DisclosurePolicy,
            values: dict[str, np.ndarray]) -> set[Cell]:
    hidden = {(int(i), column) for column, v in values.items()
              for i in np.flatnonzero((v >= 1) & (v < policy.suppress_below))}
    groups = additive_groups(table, spec)
    while True:
        _close_single_gaps(groups, values, hidden)
        pinned = _pinned_cells(groups, values, hidden)
        # One at a time: hiding a partner for one pinned cell often frees a whole chain of them.
        if not pinned or not _hide_partner(pinned[0], groups, values, hidden):
            return hidden


# ---- additive groups ------------------------------------------------------------------

@dataclass(frozen=True)
class AdditiveGroup:
    """One equation the reader can use: the total cell equals the sum of the part cells."""

    total: Cell
    parts: tuple[Cell, ...]

    @property
    def cells(self) -> tuple[Cell, ...]:
        return (*self.parts, self.total)


def additive_groups(frame: pd.DataFrame, spec: DisclosureSpec) -> list[AdditiveGroup]:
    """Every 'total = sum of parts' equation the spec declares, as cells of `frame` (by position)."""
    table = frame.reset_index(drop=True)
    groups: list[AdditiveGroup] = []
    for rule in spec.additive:
        if isinstance(rule, ColumnsAddUp):
            for i in range(len(table)):
                groups.append(AdditiveGroup((i, rule.total), tuple((i, p) for p in rule.parts)))
        else:
            groups += _row_groups(table, rule)
    return groups


def _row_groups(table: pd.DataFrame, rule: RowsAddUp) -> list[AdditiveGroup]:
    is_total = (table[rule.along] == rule.total).to_numpy()
    keys = [tuple(row) for row in table[list(rule.within)].itertuples(index=False)] \
        if rule.within else [()] * len(table)
    total_rows: dict[tuple, list[int]] = {}
    for i in np.flatnonzero(is_total):
        total_rows.setdefault(keys[i], []).append(int(i))
    parts_by_key: dict[tuple, list[int]] = {}
    for i in np.flatnonzero(~is_total):
        parts_by_key.setdefault(keys[i], []).append(int(i))
    override = dict(rule.total_at)
    groups = []
    for key, part_rows in parts_by_key.items():
        total_key = tuple(override.get(col, value) for col, value in zip(rule.within, key))
        found = total_rows.get(total_key, [])
        if len(found) > 1:
            raise DisclosureError(
                f"rows adding up along {rule.along!r}: {len(found)} total rows "
                f"({rule.along} = {rule.total!r}) for {dict(zip(rule.within, total_key))}; expected one")
        if not found:
            continue  # no total shown for these rows: nothing to work back from
        for column in rule.columns:
            groups.append(AdditiveGroup((found[0], column), tuple((i, column) for i in part_rows)))
    return groups


# ---- secondary suppression ------------------------------------------------------------

def _unknown(cell: Cell, values: dict[str, np.ndarray], hidden: set[Cell]) -> bool:
    return cell in hidden or np.isnan(values[cell[1]][cell[0]])


def _close_single_gaps(groups: list[AdditiveGroup], values, hidden: set[Cell]) -> None:
    changed = True
    while changed:
        changed = False
        for group in groups:
            unknown = [c for c in group.cells if _unknown(c, values, hidden)]
            if len(unknown) == 1 and unknown[0] in hidden:
                changed |= _hide_second(group, values, hidden)


def _hide_second(group: AdditiveGroup, values, hidden: set[Cell]) -> bool:
    """Hide the smallest shown non-zero part of the group (else its total). True if one was hidden."""
    candidates = [c for c in group.parts
                  if not _unknown(c, values, hidden) and values[c[1]][c[0]] > 0]
    if candidates:
        hidden.add(min(candidates, key=lambda c: (values[c[1]][c[0]], c[0], c[1])))
        return True
    if not _unknown(group.total, values, hidden) and values[group.total[1]][group.total[0]] > 0:
        hidden.add(group.total)
        return True
    return False


def _hide_partner(cell: Cell, groups: list[AdditiveGroup], values, hidden: set[Cell]) -> bool:
    """Hide one more cell in a group with `cell`, or failing that in a group linked to it through
    other unknown cells. False when no shown non-zero cell is left anywhere near it."""
    reached, frontier, seen_groups = {cell}, [cell], set()
    while frontier:
        nearby = [k for k, g in enumerate(groups)
                  if k not in seen_groups and any(c in g.cells for c in frontier)]
        for k in nearby:
            if _hide_second(groups[k], values, hidden):
                return True
        seen_groups.update(nearby)
        frontier = [c for k in nearby for c in groups[k].cells
                    if c not in reached and _unknown(c, values, hidden)]
        reached.update(frontier)
    return False


def _pinned_cells(groups: list[AdditiveGroup], values, hidden: set[Cell]) -> list[Cell]:
    """Hidden cells whose value follows from the shown cells through the groups' equations.

    Each group is a linear equation over its unknown cells; a cell is pinned when its unit vector
    lies in the row space of the system, i.e. when every solution gives it the same value.
    """
    unknown_cells = sorted({c for g in groups for c in g.cells if _unknown(c, values, hidden)})
    if not unknown_cells:
        return []
    position = {c: k for k, c in enumerate(unknown_cells)}
    rows = []
    for group in groups:
        row = np.zeros(len(unknown_cells))
        for c in group.parts:
            if c in position:
                row[position[c]] += 1
        if group.total in position:
            row[position[group.total]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return []
    _, singular, vt = np.linalg.svd(np.array(rows), full_matrices=False)
    rank = int((singular > 1e-9 * max(singular.max(), 1)).sum())
    # vt[:rank] is an orthonormal basis of the row space; e_k lies in it iff its projection keeps
    # all its length, i.e. the squared norm of column k of that basis is 1.
    in_row_space = (vt[:rank] ** 2).sum(axis=0) > 1 - 1e-9
    return [c for c, p in zip(unknown_cells, in_row_space) if p and c in hidden]


# ---- helpers --------------------------------------------------------------------------

def _round_half_up(values: np.ndarray, base: float) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if base <= 0:
        return values.copy()
    # Half up (not the banker's rounding of round()), so 12.5 -> 15 the same on every engine.
    return np.floor(values / base + 0.5) * base


def _check_columns(frame: pd.DataFrame, spec: DisclosureSpec) -> None:
    missing = [c for c in spec.columns_used() if c not in frame.columns]
    if missing:
        raise DisclosureError(f"the table has no column(s) {', '.join(map(repr, missing))} named in "
                              f"its disclosure spec; it has {', '.join(map(str, frame.columns))}")


def _counts_of(table: pd.DataFrame, column: str, labels: pd.Index) -> np.ndarray:
    raw = table[column]
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = (raw.notna().to_numpy() & np.isnan(numbers)) | (numbers < 0) | \
        (~np.isnan(numbers) & (numbers != np.round(numbers)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = raw.iloc[i]
        shown = repr(value) if isinstance(value, str) else str(value)
        raise DisclosureError(f"column {column!r}, row {labels[i]!r}: {shown} is not a "
                              "count (a whole number, 0 or more)")
    return numbers
