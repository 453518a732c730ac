"""Dashboard tables that are not one metric's rows, mapped back to them for the attack (contract 7.4).

A card may show a metric's rows under other headings ('Live births' for live_births), in long
form (one row per measure: 'people' and 'out of' standing for a different pair of columns in each
measure), or pooled over areas (a row per stage and tier that adds up every area's row). The
attacker can only use what is shown; this module is the judge's map from the shown cells back to
the metric's cells, so `TableAttack` attacks them as what they are:

- a label column is matched by its values (every value shown is one of the metric column's);
- a number column by agreement: in each segment of a long table (rows sharing a measure), the
  metric column whose shown cells the card's cells print, row by row;
- a pooled row is a row whose counts are the sums of the shown counts of the metric rows with the
  same labels: it joins the table as their total (parts against total, percentage x pooled
  denominator), and its true value is the sum of those rows' true counts.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from pathway.disclosure import RowsAddUp, format_for_people
from pathway.disclosure_audit import parse_cell

POOLED = "pooled"
PART = "one row"
CARD_ROWS = object()  # key of the card rows a metric row was read from


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA else str(value)


def label_pairs(card: pd.DataFrame, frame: pd.DataFrame, spec, words_for=None) -> list[tuple[str, str, dict]]:
    """(card column, metric column, words -> code): card columns of words whose every value is
    one of a metric label or key column's values, or the words a page prints for them
    (`words_for(code)`: the names a page may print for a code)."""
    pairs = []
    candidates = [c for c in frame.columns if c not in spec.counts and _words_column(frame[c])]
    for column in card.columns:
        values = {_text(v) for v in card[column]} - {""}
        if not values or any(parse_cell(v).number or v == "*" for v in values):
            continue
        for metric_column in sorted(candidates, key=lambda c: c != column):
            codes = {_text(v) for v in frame[metric_column]} - {""}
            if any(c in {m for _, m, _ in pairs} for c in [metric_column]):
                continue
            if values <= codes:
                pairs.append((column, metric_column, {c: c for c in codes}))
                break
            if words_for is None:
                continue
            decode: dict[str, str] = {}
            for code in codes:
                for text in words_for(code):
                    decode[text] = code if decode.get(text, code) == code else None
            if values <= {t for t, c in decode.items() if c is not None}:
                pairs.append((column, metric_column, decode))
                break
    return pairs


def _words_column(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _agrees(card_cells, metric_values: np.ndarray) -> int:
    """How many numbers the card's cells print of the metric's values (0 when any cell does not:
    '*' or a blank where the metric has none, each number within its printed precision)."""
    seen = 0
    for cell, number in zip(card_cells, metric_values):
        if not cell.number:
            if not np.isnan(number):
                return 0
            continue
        if np.isnan(number) or not (cell.allows(float(number)) or abs(cell.value - float(number)) < 1e-9):
            return 0
        seen += 1
    return seen


def map_back(card: pd.DataFrame, shown: pd.DataFrame, truth: pd.DataFrame, spec, words_for=None):
    """The card's cells as the metric's cells: (attack table, truth table, spec, rows of the attack
    table the card itself shows) or None when the card is not this metric's rows reshaped or pooled.
    `shown` is the metric's answer as the page received it (disclosed), `truth` the same rows
    unsuppressed."""
    # without attrs: pandas copies them (the disclosure spec) into every slice, which was most of the time
    shown, truth, card = (frame.reset_index(drop=True).copy() for frame in (shown, truth, card))
    shown.attrs, truth.attrs, card.attrs = {}, {}, {}
    if card.empty or shown.empty or len(shown) != len(truth):
        return None
    labels = label_pairs(card, shown, spec, words_for)
    keys = [m for _, m, _ in labels]
    group_of = {}
    for j, row in enumerate(shown[keys].astype(str).itertuples(index=False)) if keys else enumerate([()] * len(shown)):
        group_of.setdefault(tuple(row), []).append(j)
    card_groups = [tuple(decode[_text(card.at[i, c])] for c, _, decode in labels) for i in range(len(card))]
    if any(g not in group_of for g in card_groups):
        return None
    numeric = [c for c in card.columns if c not in {c for c, _, _ in labels}
               and any(parse_cell(v).number for v in card[c])]
    cells = {c: [parse_cell(v) for v in card[c]] for c in numeric}
    # a column of words that is not a label of the metric, taking several values among rows with
    # the same labels ('measure': a row per measure of one metric row), splits a long table into
    # segments; one that follows the labels (an area's name beside its code) does not
    by_group = card.assign(_group=[str(g) for g in card_groups]).groupby("_group", sort=False)
    reshape = [c for c in card.columns if c not in numeric and c not in {c for c, _, _ in labels}
               and (by_group[c].nunique() > 1).any()]
    segments = card.groupby(reshape, sort=False).indices if reshape else {(): np.arange(len(card))}
    metric_numbers = [c for c in shown.columns if c not in keys and
                      pd.to_numeric(shown[c], errors="coerce").notna().any() or c in spec.counts]
    direct = all(len(group_of[g]) == 1 for g in card_groups)
    rows: dict[int, dict] = {}
    pooled_rows: list[tuple[int, dict]] = []
    if direct:
        rows, _ = _direct(card, shown, spec, segments, cells, numeric, metric_numbers,
                          [group_of[g][0] for g in card_groups])
    else:
        # the page may have kept one value of a label it does not show (the map's one contact)
        for column in [c for c in shown.columns if c not in keys and _words_column(shown[c])]:
            for value in shown[column].dropna().unique():
                index = {}
                for g in set(card_groups):
                    members = [j for j in group_of[g] if shown.at[j, column] == value]
                    index[g] = members[0] if len(members) == 1 else None
                if None in index.values():
                    continue
                rows, matched = _direct(card, shown, spec, segments, cells, numeric, metric_numbers,
                                        [index[g] for g in card_groups])
                if rows and matched == set(numeric) and _every_card_row(rows, len(card)):
                    break
                rows = {}
            if rows:
                break
    if rows and _every_card_row(rows, len(card)):
        return _table(card, shown, truth, spec, keys, rows, [], group_of, card_groups)
    if direct:
        return None
    # pooled: a row per group of the metric's rows, each count near the sum of the group's shown
    # counts (a page pools the rows whose counts are all shown, and says how many it left out)
    counts = [c for c in numeric if c in spec.counts]
    if not counts:
        return None
    for i, g in enumerate(card_groups):
        members = group_of[g]
        values = shown[counts].iloc[members].apply(pd.to_numeric, errors="coerce")
        kept = values.notna().all(axis=1).to_numpy()
        row, from_shown = {}, True
        for column in counts:
            cell = cells[column][i]
            total = values.loc[kept, column].sum()
            slack = 0.5 + cell.step / 2
            if cell.number and abs(cell.value - total) > slack:
                from_shown = False
                left_out = values[column].isna().sum()
                if abs(cell.value - values[column].sum()) > 3 * len(members) + 8 * left_out:
                    return None  # not a total of these rows
            row[column] = card.at[i, column]
        for p in spec.proportions:
            if p.numerator in counts and p.denominator in counts:
                for name, metric_column in (("pct", p.pct), ("ci_low", p.intervals[0] if p.intervals else None),
                                            ("ci_high", p.intervals[1] if len(p.intervals) > 1 else None)):
                    if metric_column and name in card.columns:
                        row[metric_column] = card.at[i, name]
        pooled_rows.append((i, row, [m for m, k in zip(members, kept) if k], from_shown))
    return _table(card, shown, truth, spec, keys, rows, pooled_rows, group_of, card_groups)


def _every_card_row(rows: dict, n: int) -> bool:
    """Whether every row of the card was read into a metric row (a card of every area read against
    one area's answer reads one row: it is not that answer)."""
    return set().union(*(v.get(CARD_ROWS, set()) for v in rows.values())) == set(range(n))


def _direct(card, shown, spec, segments, cells, numeric, metric_numbers, index_of) -> tuple[dict, set]:
    """Metric row -> {metric column: card cell}, each card number column matched, segment by
    segment, to the metric column whose shown cells it prints; and the card columns matched."""
    rows: dict[int, dict] = {}
    matched: set[str] = set()
    values = {}

    def values_of(column):
        if column not in values:
            values[column] = pd.to_numeric(shown[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return values[column]
    for members in segments.values():
        members = list(members)
        index = [index_of[i] for i in members]
        for column in numeric:
            for metric_column in sorted(metric_numbers, key=lambda m: (m != column, m not in spec.counts)):
                # one number agreeing by chance is no evidence: two, or the same heading
                agreed = _agrees([cells[column][i] for i in members], values_of(metric_column)[index])
                if agreed >= 2 or (agreed and metric_column == column):
                    for i, j in zip(members, index):
                        rows.setdefault(j, {})[metric_column] = card.at[i, column]
                        rows[j].setdefault(CARD_ROWS, set()).add(i)
                    matched.add(column)
                    break
    return rows, matched


def _table(card, shown, truth, spec, keys, rows, pooled_rows, group_of, card_groups):
    printed = format_for_people(shown, spec)
    label_columns = [c for c in shown.columns if c in keys or (c in spec.labels and _words_column(shown[c]))]
    out_rows, truth_rows, card_rows = [], [], []
    if rows:
        # a card that shows none of the metric's counts (the map) is read beside them, as the
        # metric's own rows print them: the attacker has those from any other view
        shown_counts = {c for v in rows.values() for c in v if c in spec.counts}
        context_counts = [] if shown_counts else [c for c in spec.counts if c in printed.columns]
        card_words = {}
        for j, values in sorted(rows.items()):
            context = {c: printed.at[j, c] for c in context_counts}
            sources = values.pop(CARD_ROWS, set())
            out_rows.append({**{c: _text(shown.at[j, c]) for c in label_columns}, **context, **values})
            truth_rows.append(truth.iloc[j].to_dict())
            card_rows.append(len(out_rows) - 1)
            # the words the card prints on the rows read into this one (a chart labels its points so)
            card_words[len(out_rows) - 1] = {_text(v) for i in sources for v in card.iloc[i].tolist()}
        columns = list(dict.fromkeys([*label_columns, *context_counts,
                                      *[c for v in rows.values() for c in v if c is not CARD_ROWS]]))
        table = pd.DataFrame(out_rows, columns=columns).astype(object).fillna("")
        table.attrs["card_words"] = card_words
        return table, pd.DataFrame(truth_rows).reset_index(drop=True), spec, card_rows
    # pooled: every part row as printed where the metric is shown, then the card's pooled rows.
    # A pooled row that is the sum of the shown counts of the rows it kept tells nothing those
    # rows do not (its true value: the sum of their true counts). One that is not is taken for
    # what a leaky page would show: the true total of every row of its group, rounded or not,
    # and attacked as their total (parts against total).
    mapped = list(dict.fromkeys(c for _, row, _, _ in pooled_rows for c in row))
    parts = sorted({j for g in set(card_groups) for j in group_of[g]})
    for j in parts:
        out_rows.append({**{c: _text(shown.at[j, c]) for c in label_columns}, "_pooled": PART,
                         **{c: printed.at[j, c] for c in mapped}})
        truth_rows.append(truth.iloc[j].to_dict())
    adds_up, card_words = [], {}
    for i, row, kept, from_shown in pooled_rows:
        members = group_of[card_groups[i]]
        labels = {c: (_text(shown.at[members[0], c]) if c in keys else POOLED) for c in label_columns}
        total_of = kept if from_shown else members
        out_rows.append({**labels, "_pooled": POOLED if not from_shown else f"{POOLED} from shown counts", **row})
        card_words[len(out_rows)] = {_text(v) for v in card.iloc[i].tolist()}
        sums = truth[list(spec.counts)].iloc[total_of].apply(pd.to_numeric, errors="coerce").sum()
        truth_rows.append({**labels, **{c: int(sums[c]) for c in spec.counts}})
        card_rows.append(len(out_rows) - 1)
        adds_up.append(not from_shown)
    table = pd.DataFrame(out_rows).astype(object).fillna("")
    table.attrs["card_words"] = {row - 1: texts for row, texts in card_words.items()}
    truth_table = pd.DataFrame(truth_rows).reset_index(drop=True)
    counts = tuple(c for c in mapped if c in spec.counts)
    pooled_spec = dataclasses.replace(
        spec, labels=(*spec.labels, "_pooled"),
        additive=(*[a for a in spec.additive if _fits(a, table)],
                  *([RowsAddUp(columns=counts, along="_pooled", total=POOLED, within=tuple(keys))]
                    if any(adds_up) else [])))
    return table, truth_table, pooled_spec, card_rows


def _fits(rule, table) -> bool:
    """A rule of the metric's spec that still holds in the attack table (every column present;
    not an 'all areas' row, which a pooled table does not have)."""
    if isinstance(rule, RowsAddUp):
        return rule.along != "area_code" and all(c in table.columns for c in (rule.along, *rule.within, *rule.columns))
    return all(c in table.columns for c in (rule.total, *rule.parts))
