"""The attack's percentage × denominator check, written apart from the defence on purpose.

pathway.disclosure chooses how to print a percentage with percentage_candidates; if the audit used
the same routine, a bug in it would hide itself. This module works the same question out another
way: it lists every whole pair (numerator, denominator) the shown counts allow, in exact integer
arithmetic, keeps those whose percentage prints as the shown percentage and whose Wilson interval
(pathway.statistics.wilson_interval, the project's one formula) prints as the shown interval, and
takes rows that show the same denominator in the same area to share it.

Shown figures come in as (value, step) pairs: the number printed and its printed precision
('93' is (93, 1), '93.3' is (93.3, 0.1)); a hidden cell is None. The attacker knows the policy
(contract 7.4): hidden counts are 1 to suppress_below - 1, or any count from 1 up where secondary
suppression may have hidden a bigger one, and shown counts are rounded to round_to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from pathway.settings import DisclosurePolicy
from pathway.statistics import wilson_interval

# Above this many pairs for one row the row is left out and counted as too wide (a hidden count
# with no upper bound over an unbounded denominator): say so rather than run for hours.
MOST_PAIRS = 200_000


@dataclass(frozen=True)
class Printed:
    """A number as printed: its value and the step it is printed to (0 for an exact figure)."""

    value: float
    step: float

    def rational(self) -> tuple[Fraction, Fraction]:
        """The closed range of true values that print as this number, as exact fractions."""
        value = Fraction(str(self.value))
        # half the step, and a hair more: a float printed in full ('93.30143540669856') is the
        # nearest double, not the exact fraction
        half = Fraction(str(self.step)) / 2 + Fraction(1, 10**9) * max(1, abs(value))
        return value - half, value + half


@dataclass
class Pairs:
    """What percentage × denominator leaves for one row: every (numerator, denominator) pair."""

    pairs: set[tuple[int, int]]
    too_wide: bool = False
    # the percentage and interval are those of the shown counts: the policy works a percentage
    # out from them where the exact one would pin a count, so it says nothing about the true ones
    of_shown_counts: bool = False

    @property
    def says_nothing(self) -> bool:
        return self.too_wide or self.of_shown_counts

    @property
    def numerators(self) -> set[int]:
        return {n for n, _ in self.pairs}

    @property
    def denominators(self) -> set[int]:
        return {d for _, d in self.pairs}


def shown_count_range(shown: float | None, policy: DisclosurePolicy, *,
                      secondary: bool) -> tuple[int, int | None]:
    """The counts a shown count can stand for, (low, high) with high None for no upper bound."""
    if shown is None or (isinstance(shown, float) and math.isnan(shown)):
        return (1, None if secondary else policy.suppress_below - 1)
    v = int(round(shown))
    if v == 0:
        return (0, 0)
    base = max(policy.round_to, 1)
    # counts that round half up to v: v - base/2 <= x < v + base/2, never below the threshold
    low = max(v - base // 2, policy.suppress_below)
    high = v + (base - 1) // 2 if base > 1 else v
    return (low, max(low, high))


def pairs_for_row(numerator: tuple[int, int | None], denominator: tuple[int, int | None],
                  pct: Printed, intervals: tuple[Printed | None, ...] = ()) -> Pairs:
    """Every (n, d) with n in `numerator`, d in `denominator`, n <= d, d > 0, 100 n / d printing
    as `pct` (exact: no floating point) and its Wilson interval printing as `intervals`."""
    low_pct, high_pct = pct.rational()
    n_low, n_high = numerator
    d_low, d_high = max(denominator[0], 1), denominator[1]
    # n <= d bounds a numerator with no upper bound by the denominator's
    if n_high is None:
        if d_high is None:
            return Pairs(set(), too_wide=True)
        n_high = d_high
    found: list[tuple[int, int]] = []
    for n in range(n_low, n_high + 1):
        # 100 n / d in [low_pct, high_pct]  <=>  100 n / high_pct <= d <= 100 n / low_pct
        first = d_low if high_pct <= 0 else max(d_low, math.ceil(Fraction(100 * n) / high_pct))
        if low_pct > 0:
            last = math.floor(Fraction(100 * n) / low_pct)
        elif n == 0:
            last = d_high  # 0% over any denominator
        else:
            last = None
        if d_high is not None:
            last = d_high if last is None else min(last, d_high)
        if last is None:
            return Pairs(set(), too_wide=True)
        first = max(first, n, 1)
        if last - first + 1 + len(found) > MOST_PAIRS:
            return Pairs(set(), too_wide=True)
        found.extend((n, d) for d in range(first, last + 1))
    if found and any(b is not None for b in intervals):
        ns = np.array([n for n, _ in found], dtype=float)
        ds = np.array([d for _, d in found], dtype=float)
        keep = np.ones(len(found), dtype=bool)
        for printed, bound in zip(intervals, wilson_interval(ns, ds)):
            if printed is not None:
                lo, hi = printed.rational()
                keep &= (bound >= float(lo) - 1e-9) & (bound <= float(hi) + 1e-9)
        found = [pair for pair, k in zip(found, keep) if k]
    return Pairs(set(found))


# pairs_for_row's answers for rows asked again (a small set each; bounded, cleared when full)
_KEPT: dict[tuple, tuple[frozenset, bool]] = {}
_MOST_KEPT, _MOST_PAIRS_KEPT = 50_000, 1_000


def _pairs_kept(numerator: tuple, denominator: tuple, pct: Printed, intervals: tuple) -> tuple[frozenset, bool]:
    """pairs_for_row, remembered: the ICB guard (pathway.disclosure_hierarchy) asks the same rows
    of its siblings' answers once for each metric of a group."""
    key = (numerator, denominator, pct, intervals)
    if key in _KEPT:
        return _KEPT[key]
    found = pairs_for_row(numerator, denominator, pct, intervals)
    value = (frozenset(found.pairs), found.too_wide)
    if len(found.pairs) <= _MOST_PAIRS_KEPT:
        if len(_KEPT) >= _MOST_KEPT:
            _KEPT.clear()
        _KEPT[key] = value
    return value


def attack_percentages(rows: list[dict]) -> list[Pairs | None]:
    """For each row {'numerator': (low, high), 'denominator': (low, high) (shown_count_range),
    'pct': Printed or None, 'intervals': (Printed or None, ...), 'share': a key or None, 'shown':
    (shown numerator, shown denominator) or None}, what is left of its two counts; None where the
    percentage is not printed; nothing learnt where the percentage and interval are those of the
    shown counts (the attacker cannot tell them from exact ones). Rows with the same `share`
    key (one area's rows showing the same denominator) are taken to share the denominator; if no
    denominator fits them all, each row stands alone."""
    found: list[Pairs | None] = []
    for row in rows:
        if row.get("pct") is None:
            found.append(None)
            continue
        intervals = tuple(row.get("intervals", ()))
        shown = row.get("shown")
        if shown and None not in shown and \
                _pairs_kept((shown[0], shown[0]), (shown[1], shown[1]), row["pct"], intervals)[0]:
            found.append(Pairs(set(), of_shown_counts=True))
            continue
        pairs, too_wide = _pairs_kept(row["numerator"], row["denominator"], row["pct"], intervals)
        found.append(Pairs(set(pairs), too_wide=too_wide))
    together: dict[object, list[int]] = {}
    for i, row in enumerate(rows):
        if found[i] is not None and not found[i].says_nothing and row.get("share") is not None:
            together.setdefault(row["share"], []).append(i)
    for members in together.values():
        if len(members) < 2:
            continue
        common = set.intersection(*(found[i].denominators for i in members))
        if common:
            for i in members:
                found[i] = Pairs({(n, d) for n, d in found[i].pairs if d in common})
    return found
