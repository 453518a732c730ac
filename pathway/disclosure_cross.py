"""The attack across tables and metrics: one count as every `pathway query` answer shows it.

pathway.disclosure_audit attacks each table on its own. A user can also ask for an ICB and then
for each of its areas, or read one count in two metrics (live births in `births`, the cohort of
`stage_reach`, the live births of `economic_case`), each of which may hide or round it its own
way. This stage puts every shown count of every answer (all areas, each ICB, single areas)
together and

- takes cells that show the same count as one unknown: the same row of a metric asked for in two
  area modes, rows of one answer that repeat a count (the cohort on every stage), and two metrics'
  columns that are the same count (live births in births and the cohort of stage_reach);
- narrows each by what its own table's percentage allows (pathway.disclosure_pct);
- adds the sums an ICB's row makes of its areas' rows;

and propagates the bounds of every unknown through those equations. Which columns are the same
count, and which ICB rows add up, is taken from the definitions as an attacker would know them:
here, read off the unsuppressed answers (a column pair is the same count when it agrees in every
area). The true counts judge success only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from pathway.disclosure_audit import (UNBOUNDED, AuditResult, Recovery, Shown, parse_cell,
                                      query_csv_table, sum_bounds)
from pathway.disclosure_pct import Printed, attack_percentages, shown_count_range

CHANNEL = "across tables and metrics (pathway query)"
# ICB modes asked for at most; more are left out and the output says how many
MOST_ICBS = 12


@dataclass
class _Cell:
    table: str          # "metric (mode)"
    row: int
    column: str
    shown: Shown
    text: str
    true: int | None
    node: tuple         # (metric, params, column, key values): the same count in any mode
    domain: tuple[int, int]


@dataclass(frozen=True)
class _Sum:
    """total = sum of parts, over unknowns (sum_bounds reads these three)."""

    total: tuple
    parts: tuple

    @property
    def cells(self) -> tuple:
        return (*self.parts, self.total)


class _Unknowns:
    """Union-find over nodes: the cells known to show one count."""

    def __init__(self):
        self.parent: dict = {}

    def find(self, node):
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a, b) -> bool:
        a, b = self.find(a), self.find(b)
        if a == b:
            return False
        self.parent[b] = a
        return True


def cross_modes(warehouse, most_icbs: int = MOST_ICBS) -> tuple[list[tuple[str, str]], int]:
    """(label, area) for all areas, each ICB (up to most_icbs) and three single areas; and how
    many ICBs were left out."""
    areas = warehouse.query("select area_code, icb_code from areas order by area_code")
    icbs = [str(c) for c in areas["icb_code"].dropna().unique()]
    modes = [("all areas", "all")] + [(f"ICB {c}", c) for c in icbs[:most_icbs]]
    modes += [(f"area {c}", str(c)) for c in list(areas["area_code"])[:3]]
    return modes, max(0, len(icbs) - most_icbs)


def answers_for(warehouse, modes, metrics=None, progress=None):
    """Every metric's `pathway query` answer in every mode: (name, label, shown text, truth)."""
    from pathway import catalogue
    from pathway.metrics import MetricError, run_metric

    for name in metrics or catalogue.METRICS:
        metric = catalogue.METRICS[name]
        if not metric.parameter("area"):
            continue
        for label, area in modes:
            try:
                shown = run_metric(warehouse, name, {"area": area}, suppress=True)
                truth = run_metric(warehouse, name, {"area": area}, suppress=False)
            except MetricError:
                continue  # audit_metric_channels reports these
            if progress:
                progress(f"across tables: {name} ({label}): {len(shown)} rows")
            yield name, label, query_csv_table(shown, name), truth


def attack_across(answers, policy, icb_of: dict[str, str], same=()) -> AuditResult:
    """The attack over answers [(metric name, mode label, shown text, truth)]; icb_of maps each
    area code to its ICB code. `same` (catalogue.SameCount groups) links the columns of different
    metrics declared to show one count wherever their true counts agree, however few rows there
    are, in place of judging from the counts alone (three different counts at least)."""
    from pathway import catalogue

    result = AuditResult()
    cells: list[_Cell] = []
    constraints: list[tuple] = []  # (numerator node, denominator node, pairs a percentage leaves)
    series: dict[tuple, list[int]] = {}  # (metric, column) -> cell positions
    keys_of: dict[str, tuple] = {}
    for name, label, shown, truth in answers:
        metric = catalogue.METRICS[name]
        spec = truth.attrs.get("disclosure") or metric.disclosure
        table = f"{name} ({label})"
        result.tables[CHANNEL] += 1
        shown, truth = shown.reset_index(drop=True), truth.reset_index(drop=True)
        shown.attrs, truth.attrs = {}, {}  # pandas deep-copies attrs on every column read
        keys = tuple(k for k in metric.keys if k in truth.columns)
        keys_of[name] = keys
        # an ICB's count may be hidden beside its areas' (pathway.disclosure_hierarchy)
        secondary = bool(spec.additive) or label.startswith("ICB")
        parsed = {c: [parse_cell(v) for v in shown[c]] for c in spec.counts if c in shown.columns}
        key_values = [tuple(str(v) for v in row) for row in zip(*(truth[k].tolist() for k in keys))] \
            if keys else [()] * len(truth)
        for i, n_column, d_column, pairs in _percentage_pairs(spec, shown, parsed, secondary, policy):
            constraints.append(((name, n_column, key_values[i]), (name, d_column, key_values[i]), pairs))
        result.attacks_tried[(CHANNEL, "percentage x denominator")] += sum(
            1 for p in spec.proportions if p.pct in shown for v in shown[p.pct] if parse_cell(v).number)
        for column, column_cells in parsed.items():
            # as lists: a pandas read of one value costs microseconds, and this is every cell
            values = pd.to_numeric(truth[column], errors="coerce").tolist()
            texts = shown[column].tolist()
            for i, cell in enumerate(column_cells):
                true = None if pd.isna(values[i]) else int(values[i])
                if not cell.hidden and not cell.number:
                    continue  # blank: nothing shown
                low, high = shown_count_range(None if cell.hidden else cell.value, policy, secondary=secondary)
                domain = (low, UNBOUNDED if high is None else high)
                node = (name, column, key_values[i])
                cells.append(_Cell(table, i, column, cell, str(texts[i]), true, node, domain))
                series.setdefault((name, column), []).append(len(cells) - 1)

    unknowns = _Unknowns()
    for cell in cells:
        unknowns.find(cell.node)
    tried_same = 0
    frames = {s: _series_frame(s, positions, cells, keys_of[s[0]]) for s, positions in series.items()}
    # rows of one series that repeat a count (the cohort on every stage and tier of an area)
    for s, frame in frames.items():
        for by in _constant_within(frame, keys_of[s[0]]):
            for _, group in frame.groupby(list(by), sort=False):
                for a, b in itertools.pairwise(group["node"]):
                    tried_same += 1
                    unknowns.union(a, b)
            break
    # two series that are the same count (live births in births and in economic_case)
    keyed: dict[tuple, dict | None] = {}  # (series, shared keys) -> _by_shared_keys, made once

    def by_keys(series_name, shared):
        if (series_name, tuple(shared)) not in keyed:
            keyed[(series_name, tuple(shared))] = _by_shared_keys(frames[series_name], shared)
        return keyed[(series_name, tuple(shared))]

    def join(s, t, shared, fewest):
        nonlocal tried_same
        if "area_code" not in shared:
            return
        # every node of one count in s with every one in t: as many attacks tried, one component
        for mine, theirs in _same_count_groups(by_keys(s, shared), by_keys(t, shared), fewest) or ():
            tried_same += len(mine) * len(theirs)
            for node in (*mine[1:], *theirs):
                unknowns.union(mine[0], node)

    names = sorted(frames)
    for s, t in itertools.combinations(names, 2):
        if same and s[0] != t[0]:
            continue  # declared in `same` (a test checks the declaration against the counts)
        join(s, t, [k for k in keys_of[s[0]] if k in keys_of[t[0]]], 3)
    for group in same:
        for (m, c), (n, d) in itertools.combinations(group.columns, 2):
            if (m, c) not in frames or (n, d) not in frames:
                continue
            join((m, c), (n, d), [k for k in group.keys if k in keys_of[m] and k in keys_of[n]], 1)
    result.attacks_tried[(CHANNEL, "the same count in two places")] += tried_same

    # an ICB's row is the sum of its areas' rows
    sums = []
    for s, frame in frames.items():
        found = _icb_sums(frame, keys_of[s[0]], icb_of)
        sums += found
    result.attacks_tried[(CHANNEL, "an ICB against its areas")] += len(sums)

    # each unknown's domain: every cell showing it narrows it; then each percentage's pairs,
    # kept to what both its counts still allow, narrow them again, until nothing changes
    domains: dict = {}
    for cell in cells:
        root = unknowns.find(cell.node)
        low, high = domains.get(root, (0, UNBOUNDED))
        domains[root] = (max(low, cell.domain[0]), min(high, cell.domain[1]))
    allowed: dict = {}  # root -> the values percentages leave it (None: any in its domain)
    constraints = [(unknowns.find(n), unknowns.find(d), pairs) for n, d, pairs in constraints
                   if unknowns.find(n) in domains and unknowns.find(d) in domains]

    def fits(root, value) -> bool:
        low, high = domains[root]
        return low <= value <= high and (root not in allowed or value in allowed[root])

    for _ in range(20):
        changed = False
        for k, (n_root, d_root, pairs) in enumerate(constraints):
            kept = {(n, d) for n, d in pairs if fits(n_root, n) and fits(d_root, d)}
            constraints[k] = (n_root, d_root, kept)
            for root, values in ((n_root, {n for n, _ in kept}), (d_root, {d for _, d in kept})):
                if not values:
                    continue  # the constraint rests on a wrong guess; it narrows nothing
                new = values if root not in allowed else allowed[root] & values
                if new and new != allowed.get(root):
                    allowed[root], changed = new, True
                    domains[root] = (max(domains[root][0], min(new)), min(domains[root][1], max(new)))
        if not changed:
            break
    groups = [_Sum(unknowns.find(total), tuple(unknowns.find(p) for p in parts)) for total, parts in sums]
    groups = [g for g in groups if g.total not in g.parts and all(c in domains for c in g.cells)]
    bounds = dict(domains)
    bounds.update(sum_bounds(groups, domains))
    for root, values in allowed.items():
        low, high = bounds[root]
        inside = {v for v in values if low <= v <= high}
        if len(inside) == 1:
            bounds[root] = (min(inside), min(inside))
    secret = [c for c in cells if c.true is not None and
              (c.shown.hidden or (c.shown.number and int(round(c.shown.value)) != c.true))]
    result.cells_attacked[CHANNEL] += len(secret)
    for cell in secret:
        low, high = bounds[unknowns.find(cell.node)]
        if low == high == cell.true:
            result.recovered.append(Recovery(CHANNEL, cell.table, cell.row, cell.column, cell.text,
                                             cell.true, _how(cell, unknowns, cells, groups)))
    return result


def _how(cell, unknowns, cells, groups) -> str:
    root = unknowns.find(cell.node)
    if any(root in g.cells for g in groups):
        return "an ICB against its areas"
    if sum(1 for c in cells if unknowns.find(c.node) == root and c.node != cell.node):
        return "the same count in two places"
    return "percentage x denominator"


def _percentage_pairs(spec, shown, parsed, secondary, policy) -> list[tuple[int, str, str, set]]:
    """(row, numerator column, denominator column, the (n, d) pairs the row's percentage and
    interval leave) for each shown percentage of a table (pathway.disclosure_pct)."""
    out = []
    for p in spec.proportions:
        if any(c not in parsed for c in (p.numerator, p.denominator)) or p.pct not in shown:
            continue
        pct = [parse_cell(v) for v in shown[p.pct]]
        bounds = [[parse_cell(v) for v in shown[c]] for c in p.intervals if c in shown]
        rows = []
        for i in range(len(shown)):
            n, d = parsed[p.numerator][i], parsed[p.denominator][i]
            rows.append({"numerator": _range(n, policy, secondary), "denominator": _range(d, policy, secondary),
                         "pct": Printed(pct[i].value, pct[i].step) if pct[i].number else None,
                         "intervals": tuple(Printed(b[i].value, b[i].step) if b[i].number else None
                                            for b in bounds),
                         "shown": (int(round(n.value)), int(round(d.value))) if n.number and d.number else None})
        # (rows sharing a denominator are joined below, as one unknown, when they are one count)
        for i, found in enumerate(attack_percentages(rows)):
            if found is not None and not found.says_nothing and found.pairs:
                out.append((i, p.numerator, p.denominator, found.pairs))
    return out


def _narrowed_by_percentages(spec, shown, parsed, secondary, policy) -> dict:
    """(row, count column) -> (lowest, highest) the table's own percentages leave."""
    out: dict = {}
    for i, n_column, d_column, pairs in _percentage_pairs(spec, shown, parsed, secondary, policy):
        for column, values in ((n_column, {n for n, _ in pairs}), (d_column, {d for _, d in pairs})):
            old = out.get((i, column), (0, UNBOUNDED))
            out[(i, column)] = (max(old[0], min(values)), min(old[1], max(values)))
    return out


def _range(cell: Shown, policy, secondary) -> tuple[int, int | None]:
    if not cell.hidden and not cell.number:
        return (0, None)
    return shown_count_range(None if cell.hidden else cell.value, policy, secondary=secondary)


def _series_frame(s, positions, cells, keys) -> pd.DataFrame:
    """One row per distinct node of a (metric, column) series: its key values and true count."""
    seen = {}
    for k in positions:
        cell = cells[k]
        seen.setdefault(cell.node, cell.true)
    rows = [dict(zip(keys, node[2]), node=node, true=true) for node, true in seen.items()]
    return pd.DataFrame(rows, columns=[*keys, "node", "true"])


def _constant_within(frame: pd.DataFrame, keys: tuple) -> list[tuple]:
    """The smallest sets of key columns, always with area_code, within which the true count never
    changes (stage_reach's cohort within area_code), where that is fewer than all the keys."""
    if "area_code" not in keys or frame["true"].isna().any():
        return []
    others = [k for k in keys if k != "area_code"]
    trues = frame["true"].tolist()
    columns = {k: frame[k].tolist() for k in keys}
    for size in range(0, len(others)):
        for extra in itertools.combinations(others, size):
            by = ("area_code", *extra)
            # each group's true counts, in dicts (pandas' groupby took most of the ICB guard on
            # small tables); rows with a blank key belong to no group, as in a groupby
            seen: dict[tuple, set] = {}
            for row, true in zip(zip(*(columns[k] for k in by)), trues):
                if not any(pd.isna(v) for v in row):
                    seen.setdefault(row, set()).add(true)
            if seen and all(len(t) == 1 for t in seen.values()) and len(frame) > len(seen):
                return [by]
    return []


def _same_count(a: pd.DataFrame, b: pd.DataFrame, shared: list[str], fewest: int = 3):
    """Node pairs of two series that show one count: both constant within the shared keys, and
    equal in every shared row, over at least `fewest` different non-zero counts."""
    if "area_code" not in shared:
        return None
    groups = _same_count_groups(_by_shared_keys(a, shared), _by_shared_keys(b, shared), fewest)
    return None if groups is None else [(x, y) for mine, theirs in groups for x in mine for y in theirs]


def _by_shared_keys(frame: pd.DataFrame, shared: list[str]) -> dict[tuple, tuple[int, list]] | None:
    """A series' shared key values -> (the one true count, its nodes); None where a true count is
    unknown or differs within one key. Dicts, not a merge: the ICB guard asks this of many small
    series."""
    if frame["true"].isna().any():
        return None
    found: dict[tuple, tuple[int, list]] = {}
    for *key, node, true in zip(*(frame[k].tolist() for k in shared), frame["node"].tolist(),
                                frame["true"].tolist()):
        key = tuple(key)
        if key not in found:
            found[key] = (true, [])
        elif found[key][0] != true:
            return None
        found[key][1].append(node)
    return found


def _same_count_groups(a: dict | None, b: dict | None, fewest: int) -> list[tuple[list, list]] | None:
    """(a's nodes, b's nodes) of each shared key, when two series keyed by _by_shared_keys show
    one count: equal in every shared key, over at least `fewest` different non-zero counts."""
    if a is None or b is None:
        return None
    joined = [key for key in a if key in b]
    if not joined or any(a[key][0] != b[key][0] for key in joined):
        return None
    if len({a[key][0] for key in joined if a[key][0] > 0}) < fewest:
        return None
    return [(a[key][1], b[key][1]) for key in joined]


def _icb_sums(frame: pd.DataFrame, keys: tuple, icb_of: dict[str, str]) -> list[tuple]:
    """(ICB node, its areas' nodes) for every ICB row whose count is the sum of its areas' (all
    its areas shown), when that holds in every such row of the series."""
    if "area_code" not in keys or frame["true"].isna().any():
        return []
    others = [k for k in keys if k != "area_code"]
    icbs = set(icb_of.values())
    members: dict[str, list[str]] = {}
    for area, icb in icb_of.items():
        members.setdefault(icb, []).append(area)
    # plain tuples, not to_dict("records"): the ICB guard asks this for many small series
    rows = list(zip(frame["area_code"], zip(*(frame[k] for k in others)) if others else
                    [()] * len(frame), frame["node"], frame["true"]))
    index = {(area, *rest): (node, true) for area, rest, node, true in rows}
    found = []
    for area, rest, node, true in rows:
        if area not in icbs:
            continue
        parts = [index.get((member, *rest)) for member in members[area]]
        if any(p is None for p in parts):
            continue
        if sum(p[1] for p in parts) != true:
            return []  # not additive over areas (a median, people counted in two areas)
        found.append((node, tuple(p[0] for p in parts)))
    return found


def audit_across_tables(warehouse, progress=None, *, most_icbs: int = MOST_ICBS,
                        metrics=None) -> AuditResult:
    """The cross-table attack over every metric's `pathway query` answers (all areas, each ICB up
    to most_icbs, three single areas)."""
    modes, left_out = cross_modes(warehouse, most_icbs)
    areas = warehouse.query("select area_code, icb_code from areas")
    icb_of = {str(a): str(i) for a, i in zip(areas["area_code"], areas["icb_code"]) if i is not None}
    result = attack_across(list(answers_for(warehouse, modes, metrics, progress)),
                           warehouse.settings.disclosure, icb_of)
    if left_out:
        result.not_covered.append(f"across tables: {left_out} ICBs beyond the first {most_icbs} "
                                  "were not asked for (bounded to keep the run short)")
    return result
