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
4. hides each percentage, interval or other statistic that rests on a hidden count;
5. (contract 7.4) shows nothing from which a hidden or rounded count can be worked back:
   percentages and intervals at a precision their rounded denominator supports (one decimal
   place from a denominator of 4,000, else whole percent), computed from the unrounded counts
   unless that lets percentage x denominator pin a count, and then from the shown counts;
   figures derived from counts (expected cases, costs, need met) from the shown counts, money
   to 3 significant figures; statistics over people (medians, means, rate ratios) rounded.

Every output column is declared once, in the metric catalogue: a count, a percentage of which
counts, a figure derived from which counts, a summary across areas, or a label
(`DisclosureSpec.undeclared` names a numeric column that is none of these).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from pathway.settings import DisclosurePolicy
from pathway.statistics import frame_with, is_numpy_numbers, numbers_of

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
    decimals: int = 1


@dataclass(frozen=True)
class FromCounts:
    """Figures proportional to counts: expected cases = live births x a rate, a cost = cases x a
    unit cost, need met = accessed / expected need. Shown as if worked out from the shown counts
    (value x shown / true for each count in `per`, x true / shown for each in `over`), so they give
    back nothing the counts do not show; hidden with any of those counts; `unit` sets the shown
    precision (money and three_figures: 3 significant figures; people: 1 decimal place; percent
    and whole: no decimal places; ratio: 2 decimal places)."""

    columns: tuple[str, ...]
    per: tuple[str, ...]
    over: tuple[str, ...] = ()
    unit: str = "people"

    @property
    def counts(self) -> tuple[str, ...]:
        return (*self.per, *self.over)


@dataclass(frozen=True)
class Recomputed:
    """Figures the metric works out again from the shown counts after disclosure (a step in
    pathway.metrics, e.g. the economic scenario's extra people treated); hidden with any of
    `counts`, shown at the precision of `unit`."""

    columns: tuple[str, ...]
    counts: tuple[str, ...]
    unit: str = "people"
    # a rate per 100 of this count is shown as a percentage of it is: to one decimal place only
    # from a shown count of 4,000 (contract 7.4), else whole (unit is then not used)
    precision_over: str | None = None


@dataclass(frozen=True)
class Summary:
    """A summary across areas or months (a benchmark median, an XmR mean and limits), worked out
    from disclosed values or from a whole series (contract 7.3); only rounded here, to `unit`."""

    columns: tuple[str, ...]
    unit: str = "percent"


@dataclass(frozen=True)
class ColumnsAddUp:
    """In every row, the count in `total` is the sum of the counts in `parts`.

    Only declare it when the total and all its parts are shown: stage_reach's cohort is not one
    (cohort - reached is not a column, so nothing can be worked back from the row).
    """

    total: str
    parts: tuple[str, ...]
    # parts that secondary suppression hides only when the total cannot be hidden instead (a
    # percentage's denominator: hiding it hides the percentage a reader came for)
    hide_after_total: tuple[str, ...] = ()


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
    # (column, other column): a part whose two are equal is hidden to protect another only when
    # no other part can be (equity's reference group, which every rate ratio divides by)
    hide_last_where_equal: tuple[str, str] | None = None


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
    from_counts: tuple[FromCounts | Recomputed, ...] = ()
    summaries: tuple[Summary, ...] = ()
    # columns that are not figures about people: codes, names, order keys, reference values
    # (a rate per 1,000, a unit cost), parameters, flags
    labels: tuple[str, ...] = ()

    def __deepcopy__(self, memo) -> "DisclosureSpec":
        # Immutable, so a copy is itself: pandas deep-copies a frame's attrs (where the spec
        # travels with a metric's answer) on every operation, which cost more than the figures.
        return self

    def declared(self) -> set[str]:
        """Every column this spec says what it is."""
        names = set(self.counts) | set(self.labels)
        for p in self.proportions:
            names |= {p.pct, *p.intervals}
        for rule in (*self.derived, *self.from_counts, *self.summaries):
            names |= set(rule.columns)
        return names

    def undeclared(self, frame: pd.DataFrame) -> list[str]:
        """Numeric columns of `frame` the spec does not declare (each must be, contract 7.4)."""
        return [c for c in frame.columns if c not in self.declared()
                and (pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
                     or pd.to_numeric(frame[c], errors="coerce").notna().any())]

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
        for d in (*self.derived, *self.from_counts):
            yield f"figures {', '.join(d.columns)}", d.counts
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
                     policy: DisclosurePolicy | None = None,
                     recompute: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
    """A copy of `frame` safe to show people: count columns become nullable Int64 with hidden
    counts as <NA> (null in JSON), shown counts rounded; dependent percentages and statistics NaN;
    every other figure at a precision that gives no count back (contract 7.4). `recompute`, if
    given, works the spec's Recomputed figures out again from the shown counts."""
    policy = policy or DisclosurePolicy()
    _check_columns(frame, spec)
    # rows by position (read only here: a frame already numbered 0, 1, ... is used as it is)
    plain = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
    table = frame if plain else frame.reset_index(drop=True)
    values = {column: _counts_of(table, column, frame.index) for column in spec.counts}
    hidden = _hidden(table, spec, policy, values)

    out = _Columns(frame)
    hidden_rows: dict[str, list[int]] = {}
    for i, c in hidden:
        hidden_rows.setdefault(c, []).append(i)
    shown: dict[str, np.ndarray] = {}
    for column in spec.counts:
        rounded = _round_half_up(values[column], policy.round_to)
        rounded[hidden_rows.get(column, [])] = np.nan
        shown[column] = rounded
        missing = np.isnan(rounded)
        out[column] = pd.arrays.IntegerArray(np.where(missing, 0, rounded).astype("int64"), missing)
    for rule in (*spec.proportions, *spec.derived, *spec.from_counts):
        gone = np.zeros(len(table), dtype=bool)
        for column in rule.counts:
            gone[hidden_rows.get(column, [])] = True
        for column in rule.columns:
            if gone.any() or not is_numpy_numbers(out[column]):
                out[column] = np.where(gone, np.nan, numbers_of(out[column]))

    _disclose_percentages(out, table, spec, policy, values, shown)
    for rule in spec.from_counts:
        if isinstance(rule, FromCounts):
            factor = np.ones(len(table))
            with np.errstate(divide="ignore", invalid="ignore"):
                for c in rule.per:
                    factor *= np.where(values[c] > 0, shown[c] / values[c], 1.0)
                for c in rule.over:
                    factor *= np.where(shown[c] > 0, values[c] / shown[c], 1.0)
            for column in rule.columns:
                out[column] = numbers_of(out[column]) * factor
    if recompute is not None:
        out = _Columns(recompute(out.frame()))
    for rule in spec.from_counts:
        over = getattr(rule, "precision_over", None)
        for column in rule.columns:
            if over:
                step = percent_step(shown[over])
                out[column] = np.round(_round_half_up(numbers_of(out[column]) / step, 1) * step, 6)
            else:
                out[column] = _to_unit(out[column], rule.unit)
    for rule in spec.derived:
        for column in rule.columns:
            if out[column].dtype.kind == "f":  # floats already: numpy's round, as pandas' is
                out[column] = np.round(np.asarray(out[column]), rule.decimals)
            else:
                out[column] = pd.to_numeric(out[column], errors="coerce").round(rule.decimals)
    for rule in spec.summaries:
        for column in rule.columns:
            out[column] = _to_unit(out[column], rule.unit)
    shown_frame = out.frame()
    shown_frame.attrs["disclosure"] = spec
    return shown_frame


class _Columns:
    """A frame's columns as apply_disclosure rewrites them, made into one new frame at the end:
    on one area's answer, setting columns one at a time was most of the disclosure step
    (statistics.frame_with). Reads give the frame's own Series, or the array last set; every value
    set is by row position."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._set: dict[str, Any] = {}
        self._read: dict[str, pd.Series] = {}

    def __getitem__(self, column: str):
        if column in self._set:
            return self._set[column]
        if column not in self._read:  # pandas makes a new Series at every read (~15 us)
            self._read[column] = self._frame[column]
        return self._read[column]

    def __setitem__(self, column: str, values) -> None:
        if column not in self._frame.columns:
            raise KeyError(column)
        self._set[column] = values.array if isinstance(values, pd.Series) else values

    def frame(self) -> pd.DataFrame:
        """A new frame: the original's index, columns and attrs, with the columns set."""
        return frame_with(self._frame, self._set) if self._set else self._frame.copy()


# ---- precision (contract 7.4) ---------------------------------------------------------

# NHS Digital shows a percentage to one decimal place only from a denominator of about 4,000.
ONE_DECIMAL_FROM = 4000
# From this shown denominator up, percentages are always worked out from the shown counts.
FROM_SHOWN_COUNTS_FROM = 1000


def percent_step(shown_denominator) -> np.ndarray:
    """The precision of a percentage or interval over this shown denominator: 0.1 or 1."""
    d = np.asarray(shown_denominator, dtype=float)
    return np.where(d >= ONE_DECIMAL_FROM, 0.1, 1.0)


def at_unit(values, unit: str) -> pd.Series:
    """Figures at the precision contract 7.4 shows them: 'money' and 'three_figures' to 3
    significant figures, 'percent' and 'whole' to whole units, 'ratio' to 2 decimal places,
    else 1 (a page drawing a figure sends no more than its table prints)."""
    return _to_unit(values, unit)


def _to_unit(values, unit: str) -> pd.Series:
    if isinstance(values, (np.ndarray, pd.Series)) and is_numpy_numbers(values):
        v = np.asarray(values, dtype=float)  # numbers already: no pandas round trip
    else:
        v = pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()
    if unit in ("money", "three_figures"):
        with np.errstate(divide="ignore", invalid="ignore"):
            magnitude = np.where((v != 0) & np.isfinite(v), np.floor(np.log10(np.abs(v))), 0)
            step = 10.0 ** (magnitude - 2)
            figures = _round_half_up(np.abs(v) / step, 1)
            # 3 significant figures as people write them, 1,230,000 not 1229999.9999: the whole
            # number of figures over (or times) an exact power of ten is the nearest double to
            # the decimal, as float(f"{x:.3g}") gives it
            scaled = np.where(magnitude <= 2, figures / 10.0 ** np.maximum(2 - magnitude, 0),
                              figures * 10.0 ** np.maximum(magnitude - 2, 0))
        rounded = np.where(np.isfinite(v), np.sign(v) * scaled, v)
    elif unit == "percent":
        rounded = _round_half_up(v, 1)
    elif unit == "ratio":
        rounded = _round_half_up(v, 0.01)
    elif unit == "whole":
        rounded = _round_half_up(v, 1)
    else:  # people, days, scores
        rounded = _round_half_up(v, 0.1)
    return pd.Series(np.round(rounded, 6), index=values.index if isinstance(values, pd.Series) else None)


def _disclose_percentages(out: pd.DataFrame, table: pd.DataFrame, spec: DisclosureSpec,
                          policy: DisclosurePolicy, values: dict, shown: dict) -> None:
    """Each percentage and interval at the precision its shown denominator supports, from the
    shown counts over a denominator of 1,000 or more, else from the unrounded counts; where
    percentage x denominator would then pin a true count (the attack of
    pathway.disclosure_audit), the rows sharing that denominator are worked out from the shown
    counts instead, which gives nothing back. Percentages of one row over the same denominator
    (seen, assessed and treated in time, all of referrals) are checked together too: each may
    leave two denominators and together only one."""
    from pathway.disclosure_audit import percentage_pins
    from pathway.statistics import wilson_interval

    areas = table["area_code"].to_numpy() if "area_code" in table else None
    area_codes = None if areas is None else pd.factorize(areas, use_na_sentinel=False)[0]
    chosen: dict[str, tuple[dict, dict, np.ndarray]] = {}
    for p in spec.proportions:
        n_true, d_true = values[p.numerator], values[p.denominator]
        n_shown, d_shown = shown[p.numerator], shown[p.denominator]
        step = percent_step(d_shown)
        # Over 1,000 or more, a percentage and its interval pin the counts about as finely as
        # rounding to 5 does, and other metrics' percentages over the same count narrow it
        # further until it is one value (the attack across answers did so on the national
        # demo): there they are always worked out from the shown counts, which moves them by
        # at most half a point (0.125 of a point from 4,000, where one decimal is shown).
        from_shown = d_shown >= FROM_SHOWN_COUNTS_FROM
        raw = {c: numbers_of(out[c]) for c in p.columns}
        with np.errstate(divide="ignore", invalid="ignore"):
            pct_shown_counts = np.where(d_shown > 0, 100 * n_shown / d_shown, np.nan)
        low_shown, high_shown = wilson_interval(np.nan_to_num(np.minimum(n_shown, d_shown)),
                                                np.nan_to_num(d_shown))
        alternative = dict(zip(p.columns, (pct_shown_counts, low_shown, high_shown)))
        for _ in range(len(table) + 1):
            result = {}
            for c in p.columns:
                value = np.where(from_shown, alternative.get(c, raw[c]), raw[c])
                value = np.where(np.isnan(raw[c]), np.nan, value)
                result[c] = _round_half_up(value / step, 1) * step
            pinned = percentage_pins(n_shown, d_shown, result[p.pct],
                                     [result[c] for c in p.intervals], step, policy,
                                     groups=area_codes, truth=(n_true, d_true),
                                     secondary=bool(spec.additive))
            pinned &= ~from_shown
            if not pinned.any():
                break
            # the whole group sharing the pinned denominator goes, or the others still pin it
            from_shown |= _sharing(pinned, d_shown, area_codes)
        chosen[p.pct] = (result, {c: _round_half_up(np.where(np.isnan(raw[c]), np.nan, alternative.get(c, raw[c]))
                                                    / step, 1) * step for c in p.columns}, from_shown)
    for p in spec.proportions:
        result, _, _ = chosen[p.pct]
        for c in p.columns:
            out[c] = np.round(result[c], 6)
    of_counts = {name: from_counts for name, (_, from_counts, _) in chosen.items()}
    for rows, together in _pinned_together(spec, policy, values, shown, out, of_counts):
        for p in together:
            _, from_counts, _ = chosen[p.pct]
            for c in p.columns:
                column = numbers_of(out[c]).copy()
                column[rows] = np.round(from_counts[c][rows], 6)
                out[c] = column


def _pinned_together(spec: DisclosureSpec, policy: DisclosurePolicy, values: dict, shown: dict,
                     out: pd.DataFrame, of_counts: dict) -> list[tuple[np.ndarray, list[Proportion]]]:
    """(rows, proportions) where two or more percentages of a row over one denominator, as they
    are now printed, leave together one value for a true count they each leave open. A
    percentage printed as the shown counts' own (of_counts: pct column -> the figures from the
    shown counts) is left out, as an attacker must leave it: it may say nothing of the true ones.

    Worked out for every row at once (row by row it took seconds on a national all-areas table)."""
    from pathway.disclosure_audit import count_domains, percentage_pairs

    secondary = bool(spec.additive)
    found = []
    by_denominator: dict[str, list[Proportion]] = {}
    for p in spec.proportions:
        by_denominator.setdefault(p.denominator, []).append(p)
    for denominator, together in by_denominator.items():
        if len(together) < 2:
            continue
        d_shown, d_true = shown[denominator], values[denominator]
        n_rows = len(d_shown)
        step = percent_step(d_shown)
        d_domains = count_domains(d_shown, policy, secondary=secondary)
        # Per percentage: the rows an attacker reads it in (printed, and not as the shown
        # counts' own), and the distinct (row, denominator) pairs it allows there.
        figures, n_domains, read, row_d = [], [], [], []
        for p in together:
            printed = {c: numbers_of(out[c]) for c in p.columns}
            domains = count_domains(shown[p.numerator], policy, secondary=secondary)
            # (each row its own group: rows are joined here by proportion, not by area)
            tried, row, _, ds = percentage_pairs(domains, d_domains, (printed[p.pct], step),
                                                 [(printed[c], step) for c in p.intervals], np.arange(n_rows))
            own = np.logical_and.reduce([np.isclose(printed[c], of_counts[p.pct][c], equal_nan=True)
                                         for c in p.columns])
            readable = np.zeros(n_rows, dtype=bool)
            readable[tried] = True
            readable &= ~own
            keep = readable[row]
            row, ds = row[keep], ds[keep]
            # the pairs come by row, then denominator: the first of each run is a distinct pair
            distinct = np.r_[True, (row[1:] != row[:-1]) | (ds[1:] != ds[:-1])] if len(row) else keep[:0]
            figures.append(printed)
            n_domains.append(domains)
            read.append(readable)
            row_d.append((row[distinct], ds[distinct]))
        readers = np.sum(read, axis=0)
        # the denominators every percentage read in a row allows: those all of them hold
        rows_all = np.concatenate([r for r, _ in row_d])
        ds_all = np.concatenate([d for _, d in row_d])
        order = np.lexsort((ds_all, rows_all))
        rows_all, ds_all = rows_all[order], ds_all[order]
        starts = np.flatnonzero(np.r_[True, (rows_all[1:] != rows_all[:-1]) | (ds_all[1:] != ds_all[:-1])]) \
            if len(rows_all) else np.zeros(0, dtype=int)
        holders = np.diff(np.r_[starts, len(rows_all)])
        common = holders == readers[rows_all[starts]]
        common_rows, common_ds = rows_all[starts][common], ds_all[starts][common]
        n_common = np.bincount(common_rows, minlength=n_rows)
        one_d = np.full(n_rows, np.nan)
        one_d[common_rows] = common_ds  # read only where a row has exactly one
        together_read = readers >= 2
        rows = together_read & (n_common == 1) & (one_d == d_true) & (d_shown != d_true)
        # fewer denominators may leave one numerator: each percentage over those alone
        wider = np.zeros(n_rows, dtype=bool)
        for readable, (r, _) in zip(read, row_d):
            wider |= readable & (np.bincount(r, minlength=n_rows) > n_common)
        again = together_read & ~rows & (n_common > 0) & wider
        if again.any():
            asked = again[common_rows]
            at, d_at = common_rows[asked], common_ds[asked].astype(np.int64)
            for p, printed, domains, readable in zip(together, figures, n_domains, read):
                mine = readable[at]
                at_p, d_p = at[mine], d_at[mine]
                _, entry, ns, _ = percentage_pairs(
                    domains[at_p], np.column_stack([d_p, d_p]), (printed[p.pct][at_p], step[at_p]),
                    [(printed[c][at_p], step[at_p]) for c in p.intervals], np.arange(len(at_p)))
                if not len(entry):
                    continue
                by_row = at_p[entry]
                low = np.full(n_rows, np.inf)
                high = np.full(n_rows, -np.inf)
                np.minimum.at(low, by_row, ns)
                np.maximum.at(high, by_row, ns)
                n_true, n_shown = values[p.numerator], shown[p.numerator]
                rows |= again & (low == high) & (low == n_true) & (n_shown != n_true)
        if rows.any():
            found.append((rows, together))
    return found


def _sharing(pinned: np.ndarray, d_shown: np.ndarray, area_codes: np.ndarray | None) -> np.ndarray:
    """The rows with the shown denominator (and area) of any pinned row; a hidden (NaN)
    denominator equals none."""
    shown = ~np.isnan(d_shown)
    if area_codes is None:
        return shown & np.isin(d_shown, d_shown[pinned & shown])
    found = set(zip(area_codes[pinned & shown].tolist(), d_shown[pinned & shown].tolist()))
    if len(found) > 64:
        pairs = pd.MultiIndex.from_arrays([area_codes, d_shown])
        return shown & pairs.isin(pairs[pinned & shown])
    # a few pinned (area, denominator) pairs: each compared with every row (a MultiIndex took
    # half a millisecond a call)
    sharing = np.zeros(len(d_shown), dtype=bool)
    for area, denominator in found:
        sharing |= (area_codes == area) & (d_shown == denominator)
    return shown & sharing


def at_most_one_place(number: float) -> str:
    """A disclosed percentage at the precision it was disclosed to: 12 (whole percent) is '12',
    not '12.0', which would claim a precision the figure does not have (contract 7.4)."""
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


def format_for_people(frame: pd.DataFrame, spec: DisclosureSpec, decimals: int = 1) -> pd.DataFrame:
    """The output of apply_disclosure as people read it (tables, CSV, XLSX): '*' for a hidden count
    and for a percentage or statistic hidden with it, each figure printed at the precision
    apply_disclosure gave it (a percentage to one decimal place only over a shown denominator of
    4,000 or more, else `decimals` at most), a blank where a figure cannot be calculated."""
    out = frame.copy()
    for column in spec.counts:
        out[column] = [SUPPRESSED_MARK if pd.isna(v) else int(v) for v in frame[column]]
    rules = [*spec.proportions, *spec.derived, *spec.from_counts]
    for rule in rules:
        gone = np.zeros(len(frame), dtype=bool)
        for column in rule.counts:
            gone |= frame[column].isna().to_numpy()
        for column in rule.columns:
            numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            # a percentage, or a rate per 100 shown as one: the precision its shown count allows
            over = rule.denominator if isinstance(rule, Proportion) else getattr(rule, "precision_over", None)
            if over:
                places = np.where(percent_step(numbers_of(frame[over])) < 1, min(decimals, 1), 0)
            elif isinstance(rule, Derived):
                places = np.full(len(frame), rule.decimals)
            else:
                places = _unit_places(numbers, rule.unit)
            # Text, not floats: 83.3 must not print as 83.30000000000001.
            out[column] = [SUPPRESSED_MARK if g else ("" if np.isnan(v) else _shown(v, int(k)))
                           for g, v, k in zip(gone, numbers, places)]
    for rule in spec.summaries:
        for column in rule.columns:
            numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            out[column] = ["" if np.isnan(v) else _shown(v, int(k))
                           for v, k in zip(numbers, _unit_places(numbers, rule.unit))]
    return out


def _unit_places(numbers: np.ndarray, unit: str) -> np.ndarray:
    if unit in ("money", "three_figures"):
        with np.errstate(divide="ignore", invalid="ignore"):
            magnitude = np.where((numbers != 0) & np.isfinite(numbers),
                                 np.floor(np.log10(np.abs(numbers))), 2)
        return np.clip(2 - magnitude, 0, None)
    return np.full(len(numbers), {"percent": 0, "whole": 0, "ratio": 2}.get(unit, 1))


def _shown(value: float, decimals: int) -> str:
    if decimals <= 0:
        return str(int(_round_half_up(np.array([value]), 1)[0]))
    return f"{value:.{decimals}f}"


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
        pinned = _pinned_cells(groups, values, hidden) or \
            _pinned_by_rounding(groups, values, hidden, policy)
        # One at a time: hiding a partner for one pinned cell often frees a whole chain of them.
        if not pinned or not _hide_partner(pinned[0], groups, values, hidden):
            return hidden


def _pinned_by_rounding(groups: list[AdditiveGroup], values, hidden: set[Cell],
                        policy: DisclosurePolicy) -> list[Cell]:
    """Cells a reader can work back exactly from rounded parts and totals (parts of 12, 12, 12
    and 12 shown as 10 each with a total of 48 shown as 50: the total can only be 48, and every
    part 12). Hidden cells count as anything from 1 up."""
    from pathway.disclosure_audit import count_domain, sum_bounds

    if not groups:
        return []
    cells = {c for g in groups for c in g.cells}
    shown = {c: (np.nan if c in hidden else _round_half_up(np.array([values[c[1]][c[0]]]),
                                                          policy.round_to)[0]) for c in cells}
    domains = {c: count_domain(v, policy, secondary=True) for c, v in shown.items()
               if not (c not in hidden and np.isnan(values[c[1]][c[0]]))}
    return sorted(c for c, (low, high) in sum_bounds(groups, domains).items()
                  if low == high and low == values[c[1]][c[0]] and shown[c] != low)


# ---- additive groups ------------------------------------------------------------------

@dataclass(frozen=True)
class AdditiveGroup:
    """One equation the reader can use: the total cell equals the sum of the part cells."""

    total: Cell
    parts: tuple[Cell, ...]
    last_resort: frozenset[int] = frozenset()  # rows hidden as partners only when nothing else is
    after_total: frozenset[Cell] = frozenset()  # parts hidden as partners only when the total cannot be

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
                groups.append(AdditiveGroup((i, rule.total), tuple((i, p) for p in rule.parts),
                                            after_total=frozenset((i, p) for p in rule.hide_after_total)))
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
    last_resort = frozenset()
    if rule.hide_last_where_equal and set(rule.hide_last_where_equal) <= set(table.columns):
        a, b = rule.hide_last_where_equal
        last_resort = frozenset(int(i) for i in np.flatnonzero(
            (table[a].astype(str) == table[b].astype(str)).to_numpy()))
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
            groups.append(AdditiveGroup((found[0], column), tuple((i, column) for i in part_rows),
                                        last_resort & frozenset(part_rows)))
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
    """Hide the smallest shown non-zero part of the group (a last-resort part only when no other
    is left), else its total, else a part it hides only after the total. True if one was hidden."""
    def shown_non_zero(c: Cell) -> bool:
        return not _unknown(c, values, hidden) and values[c[1]][c[0]] > 0

    candidates = [c for c in group.parts if shown_non_zero(c) and c not in group.after_total]
    if candidates:
        hidden.add(min(candidates, key=lambda c: (c[0] in group.last_resort, values[c[1]][c[0]], c[0], c[1])))
        return True
    if shown_non_zero(group.total):
        hidden.add(group.total)
        return True
    later = [c for c in group.after_total if shown_non_zero(c)]
    if later:
        hidden.add(min(later, key=lambda c: (values[c[1]][c[0]], c[0], c[1])))
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
    # A hair of tolerance: 12.25 / 0.1 is 122.49999999999999 in floating point.
    return np.floor(values / base + 0.5 + 1e-9) * base


def _check_columns(frame: pd.DataFrame, spec: DisclosureSpec) -> None:
    missing = [c for c in spec.columns_used() if c not in frame.columns]
    if missing:
        raise DisclosureError(f"the table has no column(s) {', '.join(map(repr, missing))} named in "
                              f"its disclosure spec; it has {', '.join(map(str, frame.columns))}")


def _counts_of(table: pd.DataFrame, column: str, labels: pd.Index) -> np.ndarray:
    raw = table[column]
    numbers = numbers_of(raw)
    # text or another thing that is no number (numpy numbers are all numbers or NaN)
    bad = np.zeros(len(numbers), dtype=bool) if is_numpy_numbers(raw) else \
        raw.notna().to_numpy() & np.isnan(numbers)
    bad |= (numbers < 0) | (~np.isnan(numbers) & (numbers != np.round(numbers)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = raw.iloc[i]
        shown = repr(value) if isinstance(value, str) else str(value)
        raise DisclosureError(f"column {column!r}, row {labels[i]!r}: {shown} is not a "
                              "count (a whole number, 0 or more)")
    return numbers
