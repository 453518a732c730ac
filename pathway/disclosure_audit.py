"""An attack on what people are shown (contract 7.4): try to work hidden or rounded counts back.

Given one table as a channel shows it (text cells: '*' for hidden, numbers at the precision they
are printed) and the metric's disclosure spec, the attacker knows the policy (1 to 7 hidden,
others rounded to 5) and tries:

- percentage × denominator: every pair of counts a shown percentage and its interval allow,
  rows sharing a denominator (same area, same shown count) intersected;
- differencing and sums of parts: parts against their total, with the rounding of each;
- derived figures: a figure equal to a count times a constant shown in the row (expected
  cases = live births × rate per 1,000), and sums of a figure over rows against a count;
- summaries across areas: a median or mean over areas that is no shown value, tried as the
  exact percentage of each area whose percentage is hidden.

Two more stages attack what this one cannot see: every number the HTML report prints
(pathway.disclosure_report) and one count as several tables and metrics show it
(pathway.disclosure_cross).

A count is *recovered* when an attack leaves exactly one value for it and that value is the true
count while the table shows it hidden or rounded to something else. The true counts are used
only to judge success, never by an attack. audit_warehouse runs every metric, area mode and
channel it can reach (`pathway audit-disclosure`).
"""

from __future__ import annotations

import io
import itertools
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd

from pathway.disclosure import SUPPRESSED_MARK, DisclosureSpec
from pathway.settings import DisclosurePolicy
from pathway.statistics import wilson_percent

UNBOUNDED = 10**9


# ---- shown numbers ------------------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    """One cell as a channel shows it: hidden ('*' or null), blank, or a number and its step
    (the printed precision: '93.3' has step 0.1, '1300000' three significant figures)."""

    hidden: bool
    value: float = math.nan
    step: float = 0.0

    @property
    def number(self) -> bool:
        return not self.hidden and not math.isnan(self.value)

    def allows_all(self, x: np.ndarray) -> np.ndarray:
        """allows, for an array of true values at once."""
        x = np.asarray(x, dtype=float)
        if not self.number:
            return np.zeros(x.shape, dtype=bool)
        if self.step <= 1e-9:
            return np.isclose(x, self.value, rtol=1e-9, atol=1e-12)
        return np.abs(x - self.value) <= self.step / 2 + 1e-9 * np.maximum(1.0, np.abs(x))

    def allows(self, x: float) -> bool:
        """Whether a true value x prints as this cell."""
        if not self.number or math.isnan(x):
            return False
        if self.step <= 1e-9:
            return math.isclose(x, self.value, rel_tol=1e-9, abs_tol=1e-12)
        return abs(x - self.value) <= self.step / 2 + 1e-9 * max(1.0, abs(x))


def parse_cell(text, *, null_is_hidden: bool = True) -> Shown:
    if text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)):
        return Shown(hidden=null_is_hidden)
    if isinstance(text, bool):
        return Shown(hidden=False)
    if isinstance(text, (int, np.integer)):
        return Shown(False, float(text), 1.0)  # a whole number tells nothing finer than itself
    if isinstance(text, (float, np.floating)):
        text = repr(float(text))
    text = str(text).strip().replace(",", "").replace("£", "").rstrip("%")
    if text == SUPPRESSED_MARK:
        return Shown(hidden=True)
    if text == "":
        return Shown(hidden=False)
    try:
        value = float(text)
    except ValueError:
        return Shown(hidden=False)
    if "e" in text.lower():
        return Shown(False, value, 0.0)
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0") if set(fraction) <= {"0"} else fraction
    if fraction:
        return Shown(False, value, 10.0 ** -len(fraction))
    digits = whole.lstrip("-")
    # trailing zeros of a long number are rounding (1,300,000: money to 3 significant figures);
    # of a short one (20, 100) they are its digits: 20% is whole percent, not to the nearest 10
    zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") and len(digits) > 3 else 0
    return Shown(False, value, 10.0 ** zeros if zeros else 1.0)


# ---- results -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recovery:
    channel: str
    table: str
    row: int
    column: str
    shown: str
    true_value: int
    attack: str
    evidence: str = ""


@dataclass
class AuditResult:
    """What one run tried and found, per channel."""

    cells_attacked: Counter = field(default_factory=Counter)
    attacks_tried: Counter = field(default_factory=Counter)  # (channel, attack) -> hypotheses
    recovered: list[Recovery] = field(default_factory=list)
    tables: Counter = field(default_factory=Counter)
    not_covered: list[str] = field(default_factory=list)

    def merge(self, other: "AuditResult") -> None:
        self.cells_attacked.update(other.cells_attacked)
        self.attacks_tried.update(other.attacks_tried)
        self.recovered.extend(other.recovered)
        self.tables.update(other.tables)
        self.not_covered.extend(other.not_covered)

    def recovered_cells(self) -> dict[str, int]:
        """Distinct cells recovered, per channel (a cell two attacks find counts once)."""
        return dict(Counter(channel for channel, *_ in
                            {(r.channel, r.table, r.row, r.column) for r in self.recovered}))

    def summary_lines(self) -> list[str]:
        channels = sorted(set(self.cells_attacked) | {c for c, _ in self.attacks_tried})
        recovered = self.recovered_cells()
        lines = []
        for channel in channels:
            tried = {a: n for (c, a), n in self.attacks_tried.items() if c == channel}
            by_attack = Counter(r.attack for r in {(r.channel, r.table, r.row, r.column, r.attack): r
                                                  for r in self.recovered}.values()
                                if r.channel == channel)
            lines.append(f"{channel}: {self.tables[channel]} tables, {self.cells_attacked[channel]} "
                         f"hidden or rounded counts attacked, {sum(tried.values())} attacks tried "
                         f"({', '.join(f'{a} {n}' for a, n in sorted(tried.items()))}), "
                         f"{recovered.get(channel, 0)} counts recovered"
                         + (f" ({', '.join(f'{a} {n}' for a, n in sorted(by_attack.items()))})"
                            if by_attack else ""))
        return lines


# ---- the attack on one table -------------------------------------------------------------
class TableAttack:
    """Every attack on one shown table; `truth` (the unsuppressed table, same rows) only judges."""

    def __init__(self, shown: pd.DataFrame, truth: pd.DataFrame, spec: DisclosureSpec,
                 policy: DisclosurePolicy, *, channel: str, table: str,
                 null_is_hidden: bool = True):
        self.raw = shown.reset_index(drop=True)
        self.truth = truth.reset_index(drop=True)
        # no attrs: pandas deep-copies them into every slice and group
        self.raw.attrs, self.truth.attrs = {}, {}
        if len(self.raw) != len(self.truth):
            raise ValueError(f"{table}: shown table has {len(self.raw)} rows, truth {len(self.truth)}")
        self.spec, self.policy = spec, policy
        self.channel, self.table = channel, table
        self.cells = {c: [parse_cell(v, null_is_hidden=null_is_hidden) for v in self.raw[c]]
                      for c in self.raw.columns}
        self.result = AuditResult()
        self.result.tables[channel] += 1
        self.count_columns = [c for c in spec.counts if c in self.raw.columns]
        self.domains = {(i, c): self._domain(self.cells[c][i]) for c in self.count_columns
                        for i in range(len(self.raw))}
        shared = {p.pct for p in spec.proportions} | {c for p in spec.proportions for c in p.intervals}
        # figures: every shown number that is not a count, a percentage or a label (an
        # undeclared column is attacked as a figure); constants: labels that are numbers (a
        # rate per 1,000, a unit cost), which an attacker may multiply a count by
        self.figure_columns = [c for c in self.raw.columns
                               if c not in self.count_columns and c not in shared
                               and c not in spec.labels and any(s.number for s in self.cells[c])]
        self.constant_columns = [c for c in self.raw.columns if c in spec.labels
                                 and any(s.number for s in self.cells[c])]
        self.secret = {(i, c) for (i, c) in self.domains if self._is_secret(i, c)}
        self.result.cells_attacked[channel] += len(self.secret)

    # domains: the values a count cell can take given what is shown
    def _domain(self, cell: Shown) -> tuple[int, int]:
        if not cell.hidden and not cell.number:
            return (0, UNBOUNDED)
        return count_domain(math.nan if cell.hidden else cell.value, self.policy,
                            secondary=bool(self.spec.additive))

    def _true(self, i: int, c: str) -> int | None:
        value = pd.to_numeric(pd.Series([self.truth[c].iloc[i]]), errors="coerce").iloc[0]
        return None if pd.isna(value) else int(value)

    def _is_secret(self, i: int, c: str) -> bool:
        true = self._true(i, c)
        cell = self.cells[c][i]
        if true is None:
            return False
        return cell.hidden or (cell.number and (int(round(cell.value)) != true or self._unrounded(cell)))

    def _unrounded(self, cell: Shown) -> bool:
        """A count printed as no multiple of the rounding base: shown as it is, not rounded."""
        base = self.policy.round_to
        return base > 1 and cell.number and int(round(cell.value)) % base != 0

    def _found(self, i: int, c: str, value: int, attack: str, evidence: str = "") -> None:
        if (i, c) in self.secret and value == self._true(i, c):
            self.result.recovered.append(Recovery(self.channel, self.table, i, c,
                                                  str(self.raw[c].iloc[i]), value, attack, evidence))

    def _tried(self, attack: str, n: int = 1) -> None:
        self.result.attacks_tried[(self.channel, attack)] += n

    def run(self) -> AuditResult:
        self.counts_shown_unrounded()
        self.percentage_times_denominator()
        self.sums_of_parts()
        self.derived_figures()
        self.sums_of_figures()
        self.summaries_across_areas()
        return self.result

    # 0. a count printed as it is (a pooled total added up from unrounded counts) -----------
    def counts_shown_unrounded(self) -> None:
        for i, c in sorted(self.secret):
            cell = self.cells[c][i]
            if self._unrounded(cell):
                self._tried("count shown unrounded")
                self._found(i, c, int(round(cell.value)), "count shown unrounded")

    # 1. percentage x denominator ----------------------------------------------------------
    def percentage_times_denominator(self) -> None:
        """Written apart from the defence (pathway.disclosure_pct), so a bug in the routine
        disclosure.py chooses with cannot hide itself here."""
        from pathway.disclosure_pct import Printed, attack_percentages, shown_count_range

        def count_range(cell: Shown) -> tuple[int, int | None]:
            if not cell.hidden and not cell.number:
                return (0, None)  # not printed: anything
            return shown_count_range(None if cell.hidden else cell.value, self.policy,
                                     secondary=bool(self.spec.additive))

        def printed(cell: Shown) -> Printed | None:
            return Printed(cell.value, cell.step) if cell.number else None

        areas = list(self.raw["area_code"]) if "area_code" in self.raw else [None] * len(self.raw)
        by_proportion = {}
        for p in self.spec.proportions:
            if any(c not in self.cells for c in (p.pct, p.numerator, p.denominator)):
                continue
            # rows share a denominator where it is by definition one count per area (the cohort
            # of every stage), seen as: the same in every row of each area, in every area. Two
            # instruments' cases at baseline that happen to round alike are two counts.
            per_area = "area_code" in self.truth and \
                (self.truth.groupby("area_code")[p.denominator].nunique(dropna=False) <= 1).all()
            rows = []
            for i in range(len(self.raw)):
                d = self.cells[p.denominator][i]
                rows.append({"numerator": count_range(self.cells[p.numerator][i]),
                             "denominator": count_range(d), "pct": printed(self.cells[p.pct][i]),
                             "intervals": tuple(printed(self.cells[c][i]) for c in p.intervals
                                                if c in self.cells),
                             "share": (areas[i], "hidden" if d.hidden else d.value)
                             if per_area and (d.hidden or d.number) else None,
                             "shown": _shown_pair(self.cells[p.numerator][i], d)})
            found = attack_percentages(rows)
            self._tried("percentage x denominator", sum(1 for f in found if f is not None and not f.too_wide))
            by_proportion[p] = found
        # percentages of one row over one denominator (seen, assessed and treated in time, of
        # referrals): the denominator is one count, so what each leaves is intersected
        for p, found in by_proportion.items():
            others = [f for q, f in by_proportion.items() if q is not p and q.denominator == p.denominator]
            for i, f in enumerate(found):
                if f is None or f.says_nothing:
                    continue
                common = f.denominators
                for other in others:
                    if other[i] is not None and not other[i].says_nothing and other[i].pairs:
                        common = common & other[i].denominators
                pairs = {(n, d) for n, d in f.pairs if d in common} if common else f.pairs
                numerators, denominators = {n for n, _ in pairs}, {d for _, d in pairs}
                if len(numerators) == 1:
                    self._found(i, p.numerator, next(iter(numerators)), "percentage x denominator", p.pct)
                if len(denominators) == 1:
                    self._found(i, p.denominator, next(iter(denominators)), "percentage x denominator", p.pct)

    # 2. differencing rows against totals, sums of parts (with rounding) -----------------
    def sums_of_parts(self) -> None:
        from pathway.disclosure import additive_groups

        try:
            groups = additive_groups(self.raw, self.spec)
        except Exception:  # a channel that renamed or dropped the columns: nothing to add up
            return
        self._tried("differencing and sums of parts", len(groups))
        for cell, (low, high) in sum_bounds(groups, self.domains).items():
            if low == high:
                self._found(*cell, low, "differencing and sums of parts")

    # 3. derived figures: a figure = count x a constant shown in the row ------------------
    def _constants(self) -> dict[str, np.ndarray]:
        """Per row, the numbers an attacker may multiply a count by: 1, a shown non-count figure
        that is the same kind of thing in every row (a rate, a unit cost), their products and
        ratios, each times a power of ten."""
        columns = [c for c in self.constant_columns
                   if not c.endswith("_order") and c not in ("sort_order", "period_start")]
        n = len(self.raw)
        base = {"1": np.ones(n)}
        values = {c: np.array([s.value if s.number else np.nan for s in self.cells[c]]) for c in columns}
        for c, v in values.items():
            base[c] = v
            with np.errstate(divide="ignore", invalid="ignore"):
                base[f"1/{c}"] = 1 / v
        for a, b in itertools.combinations(columns, 2):
            with np.errstate(divide="ignore", invalid="ignore"):
                base[f"{a}*{b}"] = values[a] * values[b]
                base[f"{a}/{b}"] = values[a] / values[b]
                base[f"{b}/{a}"] = values[b] / values[a]
        return {f"{k}*1e{e}": v * 10.0 ** e for k, v in base.items() for e in range(-5, 6)}

    def derived_figures(self) -> None:
        if not self.count_columns or not self.figure_columns:
            return
        constants = self._constants()
        for figure in self.figure_columns:
            shown = self.cells[figure]
            for count in self.count_columns:
                rows = [i for i in range(len(self.raw)) if shown[i].number and shown[i].value != 0
                        and self.domains[(i, count)][1] - self.domains[(i, count)][0] <= 50
                        and self.domains[(i, count)][1] > 0]
                if not rows:
                    continue
                for name, k in constants.items():
                    if name.startswith(f"{figure}*") or f"/{figure}*" in name or f"{figure}/" in name \
                            or f"*{figure}*" in name:
                        continue
                    self._tried("derived figure = count x constant", len(rows))
                    fits = {}
                    for i in rows:
                        if not np.isfinite(k[i]) or k[i] == 0:
                            fits = None
                            break
                        low, high = self.domains[(i, count)]
                        fits[i] = [x for x in range(max(low, 1), high + 1) if shown[i].allows(x * k[i])]
                        if not fits[i]:
                            fits = None  # the formula does not hold in this row: not this formula
                            break
                    if not fits:
                        continue
                    # Thousands of formulas are tried: one that fits coarse figures by chance
                    # pins a count in a row or two at most. A formula that gives the figure
                    # away pins it in most rows (and in at least 3, or every row of a short table).
                    # Rows that repeat the same figure, count and constant are one piece of
                    # evidence (an area's figure repeated on each of its conditions).
                    def evidence(i):
                        return (shown[i].value, self.domains[(i, count)], round(float(k[i]), 12))
                    unique = [i for i, found in fits.items() if len(found) == 1]
                    distinct_unique = {evidence(i) for i in unique}
                    distinct_all = {evidence(i) for i in fits}
                    # One piece of evidence is never believed: among thousands of formulas one
                    # fits a single figure by chance (a one-area table repeats one piece).
                    if len(distinct_unique) < min(3, len(distinct_all)) or \
                            2 * len(distinct_unique) < len(distinct_all) or len(distinct_all) < 2:
                        continue
                    # On fewer than three pieces of evidence only a count times one shown
                    # constant is believed: a product of two constants fits by chance too easily.
                    base = name.rsplit("*1e", 1)[0]
                    if len(distinct_all) < 3 and ("*" in base or "/" in base.removeprefix("1/")):
                        continue
                    # An attacker cannot tell a right answer from a wrong one: a formula with a
                    # wrong single answer in any row is luck where it is right (a rate of 1 per
                    # 100 beside 1 woman seen by telephone, in 6 months of 10), not a way back to
                    # the counts. One that gives counts away fits the true count in every row,
                    # so wherever it answers one value, that value is the true one.
                    answered = [i for i in unique if (i, count) in self.secret]
                    if any(fits[i][0] != self._true(i, count) for i in answered):
                        continue
                    for i in unique:
                        self._found(i, count, fits[i][0], "derived figure = count x constant",
                                    f"{figure} = {count} x {name}")

    # 4. sums of a figure over rows against a count (treated summed over conditions) -----
    def sums_of_figures(self) -> None:
        labels = [c for c in self.raw.columns if c in self.spec.labels and c != "area_code"
                  and not any(s.number for s in self.cells[c])]
        if "area_code" not in self.raw or not self.count_columns:
            return
        for figure in self.figure_columns:
            for count in self.count_columns:
                for by in [()] + [(c,) for c in labels]:
                    keys = ["area_code", *by]
                    groups = self.raw.groupby(keys, sort=False).indices
                    fits: dict[int, list[int]] = {}
                    ok = True
                    for rows in groups.values():
                        rows = list(rows)
                        domain = {self.domains[(i, count)] for i in rows}
                        if len(rows) < 2 or len(domain) != 1:
                            continue
                        low, high = domain.pop()
                        cells = [self.cells[figure][i] for i in rows]
                        if not all(s.number for s in cells) or high - low > 50:
                            continue
                        self._tried("sum of a figure over rows")
                        total = sum(s.value for s in cells)
                        slack = sum(s.step / 2 for s in cells) + 1e-9 * max(1.0, abs(total))
                        found = [x for x in range(low, high + 1) if abs(x - total) <= slack]
                        if not found:
                            ok = False
                            break
                        fits[rows[0]] = found
                        for i in rows[1:]:
                            fits[i] = found
                    if ok:
                        for i, found in fits.items():
                            if len(found) == 1:
                                self._found(i, count, found[0], "sum of a figure over rows",
                                        f"sum of {figure} by {', '.join(keys)}")

    # 5. a median or mean over areas that equals no shown value ---------------------------
    def summaries_across_areas(self) -> None:
        if "area_code" not in self.raw:
            return
        for p in self.spec.proportions:
            if p.pct not in self.cells or p.numerator not in self.cells or p.denominator not in self.cells:
                continue
            hidden_rows = [i for i in range(len(self.raw)) if not self.cells[p.pct][i].number
                           and self.cells[p.pct][i].hidden]
            if not hidden_rows:
                continue
            shown_pcts = [s.value for s in self.cells[p.pct] if s.number]
            # summaries across areas: the declared ones, and any figure nobody declared
            declared = set(getattr(self.spec, "declared", set)())
            summaries = {c for rule in getattr(self.spec, "summaries", ()) for c in rule.columns}
            for figure in [c for c in self.figure_columns if c in summaries or c not in declared]:
                for i in hidden_rows:
                    summary = self.cells[figure][i]
                    if not summary.number:
                        continue
                    self._tried("median or mean over areas")
                    if summary.step > 0.1 + 1e-12:
                        continue  # a summary printed to whole percent is no one area's figure
                    if any(summary.allows(v) for v in shown_pcts):
                        continue
                    dn, dd = self.domains[(i, p.numerator)], self.domains[(i, p.denominator)]
                    if dn[1] - dn[0] > 50 or dd[1] - dd[0] > 500:
                        continue
                    pairs = [(n, d) for n in range(dn[0], dn[1] + 1) for d in range(dd[0], dd[1] + 1)
                             if d > 0 and n <= d and summary.allows(100 * n / d)]
                    ns, ds = {n for n, _ in pairs}, {d for _, d in pairs}
                    if len(ns) == 1:
                        self._found(i, p.numerator, ns.pop(), "median or mean over areas", figure)
                    if len(ds) == 1:
                        self._found(i, p.denominator, ds.pop(), "median or mean over areas", figure)


def _shown_pair(numerator: Shown, denominator: Shown) -> tuple[int, int] | None:
    """The shown counts of a percentage, when both are printed numbers."""
    if numerator.number and denominator.number:
        return (int(round(numerator.value)), int(round(denominator.value)))
    return None


def count_domain(shown: float, policy: DisclosurePolicy, *, secondary: bool) -> tuple[int, int]:
    """The true counts a shown count can stand for: NaN (hidden) 1..suppress_below-1, or any
    count from 1 up when secondary suppression may have hidden it; 0 is 0; else the counts that
    round to it."""
    below, base = policy.suppress_below, max(policy.round_to, 1)
    if shown is None or math.isnan(shown):
        return (1, UNBOUNDED if secondary else below - 1)
    v = int(round(shown))
    if v == 0:
        return (0, 0)
    low = max(int(math.ceil(v - base / 2)), below)
    high = int(math.ceil(v + base / 2)) - 1 if base > 1 else v
    return (low, max(low, high))


def count_domains(shown, policy: DisclosurePolicy, *, secondary: bool) -> np.ndarray:
    """count_domain of each value at once: an array of (low, high) rows."""
    below, base = policy.suppress_below, max(policy.round_to, 1)
    values = np.asarray(shown, dtype=float)
    hidden = np.isnan(values)
    v = np.round(np.where(hidden, 0, values))
    low = np.maximum(np.ceil(v - base / 2), below)
    high = np.maximum(low, np.ceil(v + base / 2) - 1 if base > 1 else v)
    low = np.where(v == 0, 0, low)
    high = np.where(v == 0, 0, high)
    low = np.where(hidden, 1, low)
    high = np.where(hidden, UNBOUNDED if secondary else below - 1, high)
    return np.column_stack([low, high]).astype(np.int64)


def sum_bounds(groups, domains: dict) -> dict:
    """Each cell's smallest and largest possible value once every 'total = sum of parts' holds
    (bounds propagated until nothing changes): a cell whose two bounds meet is worked back."""
    bounds = {cell: list(domains[cell]) for g in groups for cell in g.cells if cell in domains}
    for _ in range(50):
        changed = False
        for g in groups:
            if any(c not in bounds for c in g.cells):
                continue
            parts_low = sum(bounds[c][0] for c in g.parts)
            parts_high = min(sum(bounds[c][1] for c in g.parts), UNBOUNDED)
            total = bounds[g.total]
            new_total = [max(total[0], parts_low), min(total[1], parts_high)]
            if new_total != total:
                bounds[g.total], changed = new_total, True
            for c in g.parts:
                others_low = sum(bounds[o][0] for o in g.parts if o != c)
                others_high = min(sum(bounds[o][1] for o in g.parts if o != c), UNBOUNDED)
                new = [max(bounds[c][0], bounds[g.total][0] - others_high),
                       min(bounds[c][1], bounds[g.total][1] - others_low)]
                if new != bounds[c]:
                    bounds[c], changed = new, True
        if not changed:
            break
    return {cell: tuple(b) for cell, b in bounds.items()}


def percentage_candidates(n_domains, d_domains, pct_cells, bound_cells, groups):
    """For each row, the numerators and denominators (ns, ds) its shown percentage and interval
    allow, rows of one group (area) with the same denominator domain taken to share the
    denominator; None where the row's percentage is not shown or a domain is too wide."""
    def numbers(cells):
        return (np.array([c.value if c.number else math.nan for c in cells], dtype=float),
                np.array([c.step for c in cells], dtype=float))

    tried, row, ns, ds = _candidates(np.asarray(n_domains, dtype=np.int64).reshape(-1, 2),
                                     np.asarray(d_domains, dtype=np.int64).reshape(-1, 2),
                                     numbers(pct_cells), [numbers(cells) for cells in bound_cells],
                                     groups)
    found: list = [None] * len(n_domains)
    for i in tried:
        found[i] = (set(), set())
    for i, n, d in zip(row.tolist(), ns.astype(int).tolist(), ds.astype(int).tolist()):
        found[i][0].add(n)
        found[i][1].add(d)
    return found


def percentage_pairs(n_domains: np.ndarray, d_domains: np.ndarray, pct, bounds, groups):
    """percentage_candidates on arrays: pct and each of bounds a (values, steps) pair of arrays
    (NaN: not printed), domains (low, high) rows; gives (the rows tried, and the row, numerator
    and denominator of each pair they allow, by row, then denominator, then numerator)."""
    return _candidates(np.asarray(n_domains, dtype=np.int64).reshape(-1, 2),
                       np.asarray(d_domains, dtype=np.int64).reshape(-1, 2), pct, bounds, groups)


def _allows(value: np.ndarray, step: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Shown.allows_all with each candidate's own shown value and step (NaN: nothing shown)."""
    with np.errstate(invalid="ignore"):
        exact = np.abs(x - value) <= 1e-12 + 1e-9 * np.abs(value)
        near = np.abs(x - value) <= step / 2 + 1e-9 * np.maximum(1.0, np.abs(x))
    return ~np.isnan(value) & np.where(step <= 1e-9, exact, near)


def _candidates(n_domains: np.ndarray, d_domains: np.ndarray, pct, bounds, groups):
    """percentage_candidates on arrays, every row's (numerator, denominator) pairs at once (a
    loop over rows took most of a second on a national all-areas table): (the rows tried, and
    the row, numerator and denominator of each pair they allow)."""
    pct_value, pct_step = pct
    none = np.zeros(0, dtype=np.int64)
    n0, n1 = n_domains[:, 0], n_domains[:, 1]
    d0, d1 = np.maximum(d_domains[:, 0], 1), d_domains[:, 1]
    eligible = ~np.isnan(pct_value) & (n1 - n0 <= 50) & (d_domains[:, 1] - d_domains[:, 0] <= 50) \
        & (d_domains[:, 1] != 0)
    if not eligible.any():
        return none, none, none.astype(float), none.astype(float)
    # every denominator d of each eligible row's domain (row, then d) ...
    where = np.flatnonzero(eligible)
    d_width = np.maximum(d1[where] - d0[where] + 1, 0)
    row_d = np.repeat(where, d_width)
    d = d0[row_d] + _counting(d_width)
    # ... and the numerators the printed percentage may allow over it, with a margin of one
    # either side (_allows decides): a few per d, where the whole numerator domain is up to 51
    # (a national all-areas table made millions of pairs to throw away)
    half = pct_step[row_d] / 2
    with np.errstate(invalid="ignore"):
        low = np.maximum(np.floor(d * (pct_value[row_d] - half) / 100) - 1, n0[row_d])
        high = np.minimum(np.minimum(np.ceil(d * (pct_value[row_d] + half) / 100) + 1, n1[row_d]), d)
    count = np.maximum(high - low + 1, 0).astype(np.int64)
    row = np.repeat(row_d, count)
    ns = (np.repeat(low, count) + _counting(count)).astype(float)
    ds = np.repeat(d, count).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = _allows(pct_value[row], pct_step[row], 100 * ns / ds)
    row, ns, ds = row[keep], ns[keep], ds[keep]
    if len(row) and bounds:
        intervals = wilson_percent(ns, ds)  # candidates: whole counts, ns <= ds
        keep = np.ones(len(row), dtype=bool)
        for (value, step), interval in zip(bounds, intervals):
            shown = ~np.isnan(value[row])
            keep &= ~shown | _allows(value[row], step[row], interval)
        row, ns, ds = row[keep], ns[keep], ds[keep]
    # rows of one group with the same denominator domain share the denominators all of them allow
    # (a row allowing none leaves nothing shared: each keeps its own)
    key = _group_keys(groups, d_domains)
    slots = (key.max() + 1) * 64  # (key, d - lowest d): d spans at most 51 values in a key
    members = np.bincount(key[where], minlength=slots // 64)
    code = key[row] * 64 + (ds - d0[row]).astype(np.int64)
    # the rows holding each code: pairs come by row, then d, so a row's pairs with one d are a run
    first = np.r_[True, (row[1:] != row[:-1]) | (ds[1:] != ds[:-1])] if len(row) else row.astype(bool)
    holders = np.bincount(code[first], minlength=slots)
    shared = (holders > 0) & (holders == np.repeat(members, 64))
    any_shared = shared.reshape(-1, 64).any(axis=1)
    chosen = np.where(any_shared[key[row]], shared[code], True)
    return where, row[chosen], ns[chosen], ds[chosen]


def _counting(widths: np.ndarray) -> np.ndarray:
    """0, 1, ..., w - 1 for each width w in turn, as one array."""
    return np.arange(widths.sum()) - np.repeat(np.cumsum(widths) - widths, widths)


def _group_keys(groups, d_domains: np.ndarray) -> np.ndarray:
    """One number per distinct (group, denominator domain) of the rows (np.unique over rows,
    axis=0, sorts them as bytes: several times slower)."""
    groups = groups if isinstance(groups, np.ndarray) else np.asarray(groups, dtype=object)
    group_codes = groups if groups.dtype.kind in "iu" else \
        pd.factorize(groups.astype(object), use_na_sentinel=False)[0]
    order = np.lexsort((d_domains[:, 1], d_domains[:, 0], group_codes))
    columns = (group_codes[order], d_domains[order, 0], d_domains[order, 1])
    new = np.zeros(len(order), dtype=bool)
    new[:1] = True
    for column in columns:
        new[1:] |= column[1:] != column[:-1]
    key = np.empty(len(order), dtype=np.int64)
    key[order] = np.cumsum(new) - 1
    return key


def percentage_pins(n_shown, d_shown, pct, intervals, step, policy: DisclosurePolicy, *,
                    groups=None, truth, secondary: bool = False) -> np.ndarray:
    """The rows where a percentage and interval printed at `step` let percentage x denominator
    leave one value for a count that is that count's true value though the count is hidden or
    rounded to something else (disclosure uses this to choose, the audit to attack)."""
    rows = len(n_shown)
    steps = np.broadcast_to(np.asarray(step, dtype=float), (rows,))
    _, row, ns, ds = _candidates(count_domains(n_shown, policy, secondary=secondary),
                                 count_domains(d_shown, policy, secondary=secondary),
                                 (np.asarray(pct, dtype=float), steps),
                                 [(np.asarray(b, dtype=float), steps) for b in intervals],
                                 groups if groups is not None else [None] * rows)
    pinned = np.zeros(rows, dtype=bool)
    if not len(row):
        return pinned
    # the pairs come row by row: each row's smallest and largest value of each count
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    rows_with_pairs = row[first]
    for values, shown, true in ((ns, n_shown, truth[0]), (ds, d_shown, truth[1])):
        low, high = np.minimum.reduceat(values, first), np.maximum.reduceat(values, first)
        true = np.asarray(true, dtype=float)[rows_with_pairs]
        shown = np.asarray(shown, dtype=float)[rows_with_pairs]
        # one value left for the count, and it is the true one though the table shows another
        pinned[rows_with_pairs] |= (low == high) & (low == true) & (shown != true)
    return pinned


def attack_table(shown: pd.DataFrame, truth: pd.DataFrame, spec: DisclosureSpec,
                 policy: DisclosurePolicy | None = None, *, channel: str = "table",
                 table: str = "table", null_is_hidden: bool = True) -> AuditResult:
    """Every attack on one shown table (text or numbers as the channel shows them)."""
    return TableAttack(shown, truth, spec, policy or DisclosurePolicy(), channel=channel,
                       table=table, null_is_hidden=null_is_hidden).run()


# ---- channels ------------------------------------------------------------------------------
def query_csv_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """What `pathway query NAME --format csv` prints, read back as text."""
    from pathway.export import frame_for_people

    text = frame_for_people(frame, name).to_csv(index=False)
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("#")]
    return pd.read_csv(io.StringIO("".join(lines)), dtype=str, keep_default_na=False)


def query_json_table(frame: pd.DataFrame) -> pd.DataFrame:
    """What `pathway query NAME --format json` prints, read back (null: hidden or missing)."""
    from pathway.export import records_for_json

    text = json.dumps(records_for_json(frame), default=str)
    rows = json.loads(text)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    return pd.DataFrame(rows, columns=list(frame.columns), dtype=object)


def area_modes(warehouse) -> list[tuple[str, str]]:
    """(label, area parameter): all areas, the first ICB, and three single areas."""
    areas = warehouse.query("select area_code, icb_code from areas order by area_code")
    modes = [("all areas", "all")]
    icbs = [c for c in areas["icb_code"].dropna().unique()]
    if icbs:
        modes.append((f"ICB {icbs[0]}", str(icbs[0])))
    for code in list(areas["area_code"])[:3]:
        modes.append((f"area {code}", str(code)))
    return modes


def audit_metric_channels(warehouse, *, metrics: Iterable[str] | None = None,
                          modes: list[tuple[str, str]] | None = None,
                          progress=None) -> AuditResult:
    """The CLI channels (`pathway query` CSV and JSON) of every metric in every area mode."""
    from pathway import catalogue
    from pathway.metrics import MetricError, run_metric

    policy = warehouse.settings.disclosure
    result = AuditResult()
    modes = modes or area_modes(warehouse)
    for name in metrics or catalogue.METRICS:
        metric = catalogue.METRICS[name]
        for label, area in modes:
            params = {"area": area} if metric.parameter("area") else {}
            if not params and area != "all":
                continue
            try:
                shown = run_metric(warehouse, name, params, suppress=True)
                truth = run_metric(warehouse, name, params, suppress=False)
            except MetricError as error:
                result.not_covered.append(f"{name} ({label}): {error}")
                continue
            if progress:
                progress(f"{name} ({label}): {len(shown)} rows")
            table = f"{name} ({label})"
            result.merge(attack_table(query_csv_table(shown, name), truth, metric.disclosure, policy,
                                      channel="pathway query CSV", table=table))
            result.merge(attack_table(query_json_table(shown), truth, metric.disclosure, policy,
                                      channel="pathway query JSON", table=table))
    return result


# ---- the dashboard: every page's figure-card tables (what its CSV and XLSX downloads hold) --
DASHBOARD_PAGES = ("overview", "coverage", "pathway_flow", "equity", "service_gaps", "outcomes",
                   "economic_case", "trends", "map", "data", "compare", "risk_pathway")


def walk_components(node):
    """Every Dash component under this one, itself first (children in lists, tuples or alone)."""
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from walk_components(child)


def card_tables(component) -> list[tuple[str, pd.DataFrame]]:
    """(card, rows) for every figure card in a page: the rows its downloads contain."""
    from pathway.web import ids

    found = []
    for node in walk_components(component):
        node_id = getattr(node, "id", None)
        if isinstance(node_id, dict) and node_id.get("type") == ids.CARD_DATA_TYPE:
            data = getattr(node, "data", None) or {}
            found.append((node_id.get("card", "?"), pd.DataFrame(data.get("rows", []),
                                                                  columns=data.get("columns"))))
    return found


def _by_fit(calls, shown: pd.DataFrame):
    """The metric answers a table may show, best fit first: all of the metric's counts among the
    table's columns, then the most columns in common."""
    from pathway import catalogue

    def fit(call):
        metric = catalogue.METRICS[call[0]]
        spec = metric.disclosure_for({"measure": dict(call[1]).get("metric")})
        columns = set(getattr(spec, "declared", set)()) | set(metric.output_columns)
        return (all(c in shown.columns for c in metric.counts), len(columns & set(shown.columns)))
    return sorted(calls, key=fit, reverse=True)


def _aligned(shown: pd.DataFrame, metric, truth: pd.DataFrame):
    """The shown rows that are one row of the metric's unsuppressed answer, and those rows."""
    keys = [k for k in metric.keys if k in shown.columns and k in truth.columns]
    if not keys:
        return None
    # a page may leave a key out (one dimension per card): the labels it keeps can stand in
    spec = truth.attrs.get("disclosure") or metric.disclosure
    labels = [c for c in getattr(spec, "labels", ()) if c in shown.columns and c in truth.columns
              and c not in keys]
    pairs = []
    for columns in (keys, keys + labels):
        index = {tuple(str(v) for v in row): i for i, row in
                 enumerate(truth[columns].itertuples(index=False))}
        if len(index) != len(truth):
            continue  # not one row of the answer per key
        pairs = [(i, index.get(tuple(str(v) for v in row)))
                 for i, row in enumerate(shown[columns].itertuples(index=False))]
        pairs = [(i, j) for i, j in pairs if j is not None]
        if pairs:
            break
    if not pairs and len(shown) == len(truth) and "area_code" in keys and \
            list(map(str, shown["area_code"])) == list(map(str, truth["area_code"])):
        pairs = [(i, i) for i in range(len(shown))]  # the same rows in order, labels in words
    if not pairs:
        return None
    return (shown.iloc[[i for i, _ in pairs]].reset_index(drop=True),
            truth.iloc[[j for _, j in pairs]].reset_index(drop=True))


def card_figures(component) -> dict[str, dict]:
    """card -> the figure its dcc.Graph sends to the browser."""
    from pathway.web import ids

    found = {}
    for node in walk_components(component):
        node_id = getattr(node, "id", None)
        if isinstance(node_id, dict) and node_id.get("type") == ids.CARD_GRAPH_TYPE:
            found[node_id.get("card", "?")] = getattr(node, "figure", None)
    return found


def _page_views(page_name: str, page, modes):
    """(label, component) for each view of a page the attack reads: its layout in every area mode,
    and on the map every measure and the colouring callback."""
    for label, area in modes:
        if page_name == "map":
            for measure in page.MAP_INDICATORS:
                yield f"{label}, {measure}", lambda a=area, m=measure: page.layout(area=a, measure=m)
            yield f"{label}, coloured by comparison", lambda a=area: page.change_map_colouring(
                "comparison", page.MAP_INDICATORS[0], f"?area={a}")
        else:
            yield label, lambda a=area: page.layout(area=a)
        if page_name == "economic_case":  # its scenario inputs, through the page's own callback
            from pathway.disclosure_economic import scenario_views
            yield from scenario_views(label, area)


def _align_card(shown: pd.DataFrame, calls, fetched: dict, truth_of, words_for=None):
    """(attack table, truth, spec, rows the card shows, metric) for a card, or None: first as one
    metric's rows matched by their keys, then mapped back from headings in words, long form or
    pooled rows (pathway.disclosure_reshaped)."""
    from pathway import catalogue
    from pathway.disclosure_reshaped import map_back

    ordered = _by_fit(calls, shown)
    for name, params in ordered:
        metric = catalogue.METRICS[name]
        answer = fetched.get((name, params))
        if answer is None:
            continue
        spec = answer.attrs.get("disclosure") or metric.disclosure_for({"measure": dict(params).get("metric")})
        truth = _truth_rows(answer, truth_of(name, params), metric)
        if truth is None:
            continue
        mapped = map_back(shown, answer, truth, spec, words_for)
        if mapped is not None:
            return (*mapped, name)
    for name, params in ordered:
        metric = catalogue.METRICS[name]
        match = _aligned(shown, metric, truth_of(name, params))
        if match is not None:
            spec = metric.disclosure_for({"measure": dict(params).get("metric")})
            return match[0], match[1], spec, list(range(len(match[0]))), name
    return None


def _page_words():
    """code -> the words dashboard pages print for it (a service's or a stage's name, a risk
    factor, an area), with the warehouse's names read once."""
    from pathway.web.components.page import area_names, service_labels, stage_labels
    from pathway.web.pages.equity import group_words
    from pathway.web.pages.risk_pathway import risk_factor_words

    services, areas, stages = service_labels(), area_names(), stage_labels()

    def words_for(code: str) -> set[str]:
        return {code, services.get(code, code), areas.get(code, code), stages.get(code, code),
                group_words(code), risk_factor_words(code)}
    return words_for


def _truth_rows(answer: pd.DataFrame, truth: pd.DataFrame, metric):
    """The unsuppressed rows in the order of the disclosed answer (matched on the metric's keys)."""
    keys = [k for k in metric.keys if k in answer.columns and k in truth.columns]
    if len(answer) != len(truth):
        return None
    if not keys:
        return truth.reset_index(drop=True)
    index = {tuple(str(v) for v in row): j for j, row in enumerate(truth[keys].itertuples(index=False))}
    order = [index.get(tuple(str(v) for v in row)) for row in answer[keys].itertuples(index=False)]
    if None in order or len(set(order)) != len(order):
        return truth.reset_index(drop=True)
    return truth.iloc[order].reset_index(drop=True)


def _whole_answer(points, calls, fetched: dict, truth_of, words_for, fallback):
    """A chart's points put on the rows of a whole metric answer the page asked for, as that
    answer prints them (for a chart that draws more rows than its card's table): the first
    answer all its points fit, else `fallback`."""
    from pathway import catalogue
    from pathway.disclosure import format_for_people
    from pathway.disclosure_figures import figure_table

    for name, params in calls:
        answer = fetched.get((name, params))
        if answer is None or answer.empty:
            continue
        metric = catalogue.METRICS[name]
        spec = answer.attrs.get("disclosure") or metric.disclosure
        truth = _truth_rows(answer, truth_of(name, params), metric)
        if truth is None:
            continue
        printed = format_for_people(answer, spec).reset_index(drop=True)
        printed.attrs = {"card_words": {i: {w for v in row if isinstance(v, str) for w in words_for(v)}
                                        for i, row in enumerate(printed.to_numpy(dtype=object))}}
        drawn, placed, unplaced = figure_table(points, printed, truth, spec)
        if placed and not unplaced:
            return drawn, truth, spec, placed, unplaced
    return fallback


def audit_dashboard(warehouse, modes: list[tuple[str, str]] | None = None, progress=None) -> AuditResult:
    """Every dashboard page's figure-card tables and downloads, chart data and map hover text, in
    every area mode: each table is matched to the metric answer the page asked for (recorded as
    it asks), by its key columns or mapped back from words, long form or pooled rows; each chart's
    points are put on the table's rows (pathway.disclosure_figures) and attacked as a table. The
    economic case's totals, returns and sensitivity, in its layout and through its scenario
    callback, are worked back to its counts by pathway.disclosure_economic."""
    import importlib
    import sys

    from pathway.disclosure_figures import figure_points, figure_table
    from pathway.metrics import run_metric
    from pathway.web import warehouse as web_data
    from pathway.web.server import create_app

    create_app(warehouse=warehouse)
    web_data.configure(warehouse=warehouse)
    words_for = _page_words()
    original = web_data.fetch_metric
    asked: list[tuple[str, dict]] = []
    fetched: dict[tuple, pd.DataFrame] = {}

    def recording(name, params=None, *args, **kwargs):
        asked.append((name, dict(params or {})))
        answer = original(name, params, *args, **kwargs)
        if getattr(answer, "ok", False) and getattr(answer, "frame", None) is not None:
            fetched[(name, tuple(sorted(dict(params or {}).items())))] = answer.frame
        return answer

    patched = [m for name, m in list(sys.modules.items())
               if name.startswith("pathway.web") and getattr(m, "fetch_metric", None) is original]
    for module in patched:
        module.fetch_metric = recording
    policy = warehouse.settings.disclosure
    result = AuditResult()
    truths: dict[tuple, pd.DataFrame] = {}

    def truth_of(name, params):
        if (name, params) not in truths:
            truths[(name, params)] = run_metric(warehouse, name, dict(params), suppress=False)
        return truths[(name, params)]

    economic_views = []  # the economic case's views, attacked together at the end
    try:
        for page_name in DASHBOARD_PAGES:
            page = importlib.import_module(f"pathway.web.pages.{page_name}")
            for label, view in _page_views(page_name, page, modes or area_modes(warehouse)):
                asked.clear()
                fetched.clear()
                try:
                    component = view()
                except Exception as error:  # a page that fails is a finding of its own
                    result.not_covered.append(f"dashboard {page_name} ({label}): {error}")
                    continue
                calls = list(dict.fromkeys((n, tuple(sorted(p.items()))) for n, p in asked))
                figures = card_figures(component)
                economic = None
                if page_name == "economic_case":  # its totals and returns (pathway.disclosure_economic)
                    from pathway.disclosure_economic import attack_economic_view
                    economic = attack_economic_view(component, calls, fetched, truth_of, policy, label,
                                                    getattr(view, "stored", None))
                    result.merge(economic.result)
                    economic_views.append(economic)
                for card, shown in card_tables(component):
                    if progress:
                        progress(f"dashboard {page_name} {card} ({label}): {len(shown)} rows")
                    if not len(shown):
                        continue
                    aligned = _align_card(shown, calls, fetched, truth_of, words_for)
                    if aligned is None and economic is not None and card in economic.tables:
                        continue
                    if aligned is None:
                        from pathway.disclosure_steps import attack_step_card
                        steps = attack_step_card(page_name, card, shown, calls, fetched, truth_of, words_for,
                                                 policy, label, figures.get(card))
                        if steps is not None:  # a funnel's steps, read back as the metric's rows
                            result.merge(steps)
                            continue
                        result.not_covered.append(f"dashboard {page_name} {card} ({label}): not "
                                                  "one metric's rows (pooled or reshaped)")
                        continue
                    table, truth, spec, card_rows, name = aligned
                    where = f"{page_name} {card}: {name} ({label})"
                    result.merge(attack_table(table, truth, spec, policy,
                                              channel="dashboard tables and downloads", table=where))
                    figure = figures.get(card)
                    if not figure or not figure.get("data"):
                        continue
                    channels = [("dashboard chart data", False)] + \
                        ([("map hover text", True)] if page_name == "map" else [])
                    for channel, text_only in channels:
                        points = figure_points(figure, text_only=text_only)
                        drawn, placed, unplaced = figure_table(points, table, truth, spec, card_rows)
                        drawn_truth, drawn_spec = truth, spec
                        if unplaced:  # a chart of more rows than its table (every area beside one)
                            drawn, drawn_truth, drawn_spec, placed, unplaced = _whole_answer(
                                points, calls, fetched, truth_of, words_for,
                                (drawn, truth, spec, placed, unplaced))
                        if unplaced and not (economic is not None and card in economic.charts):
                            result.not_covered.append(f"{channel} {page_name} {card} ({label}): {unplaced} "
                                                      "points not placed on a row of the table")
                        result.merge(attack_table(drawn, drawn_truth, drawn_spec, policy, channel=channel,
                                                  table=where))
    finally:
        for module in patched:
            module.fetch_metric = original
    if economic_views:
        from pathway.disclosure_economic import across_views
        result.merge(across_views(economic_views))
    return result


def audit_warehouse(warehouse, progress=None, *, dashboard: bool = True, report: bool = True,
                    across: bool = True) -> AuditResult:
    """Every channel this checker reaches, over every metric and area mode: each table on its
    own, every number the report prints (pathway.disclosure_report), and what tables show
    against each other (pathway.disclosure_cross)."""
    result = audit_metric_channels(warehouse, progress=progress)
    if dashboard:
        result.merge(audit_dashboard(warehouse, progress=progress))
    if report:
        from pathway.disclosure_report import audit_report_numbers

        result.merge(audit_report_numbers(warehouse, area_modes(warehouse), progress=progress))
    if across:
        from pathway.disclosure_cross import audit_across_tables

        result.merge(audit_across_tables(warehouse, progress=progress))
    return result
