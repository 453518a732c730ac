"""The economic case page's own figures, attacked (contract 7.4): its totals over conditions and
areas (the scenario and cost charts, the headline tiles), returns by area and under other
assumptions (the sensitivity table and chart), and the same after the scenario inputs' callback.

None of these is one row of economic_case, so the table attack cannot place them. Each is a sum
over the view's areas of a quantity pathway.economics works out from an area's three counts (live
births, women treated by the specialist and by the targeted tier) and reference inputs anyone may
read, or a ratio of two such sums (a return: avoided cost / extra spend). The attacker knows that
method (the page prints it) and the policy. For each area it takes every value its counts may
have, given what is shown (a count shown 210: 208 to 212; hidden: 1 to 7), works each figure out
by the page's own arithmetic, and keeps the values the figures allow at their printed precision:

- a figure of one area (its returns, a row of the scenario or cost table, or any figure of a
  one-area view): every combination of the area's counts is tried, all such figures together;
- a total over several areas: a value of one area's count is ruled out when no values of the other
  areas' counts can bring the total within its printed precision (bounds on the sum; for a ratio
  r, on the sum of avoided - r x spend), until nothing changes: totals against their parts.

All figures are tried together; where no counts explain them all (a page leaky in one part: its
totals from the exact counts, its tables from the shown ones), each kind of figure on its own.

The page says its totals leave out rows whose counts are hidden. Where that reading cannot explain
what is shown (no combination of the counts gives the figures), the attack tries the page as a
leaky one would be: with those rows counted, their hidden counts among the values tried.

A count is recovered when one value is left for it, the true one, while the page shows it hidden
or rounded to another. The true counts only judge.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pathway import economics
from pathway.disclosure_audit import AuditResult, Recovery, Shown, count_domain, parse_cell
from pathway.disclosure_figures import printed_numbers, words
from pathway.settings import DisclosurePolicy

COUNTS = ("live_births", "specialist_treated", "targeted_treated")
AS_SHOWN = "as shown"
ATTACK = "economic figure from its counts"
# what the page prints, in its own words, for each figure (pathway/web/pages/economic_case.py)
SCENARIO_BARS = {"extra spend": "extra_spend", "avoided: public sector": "avoided_public_cost",
                 "avoided: society": "avoided_cost"}
RETURN_TRACES = {"public sector": "avoided_public_cost", "society": "avoided_cost"}
COST_TRACES = {"mother": "mother", "child": "child", "not split by the source": "unsplit"}
TORNADO_TRACES = {"low value": "low", "high value": "high"}
SENSITIVITY_COLUMNS = {"Return at low": "low", "Return at high": "high"}
# the scenario and cost tables' figures: heading -> economic_case column, or (column, per) for a return
ROW_COLUMNS = {"Extra treated": "extra_treated", "Extra spend": "extra_spend",
               "Avoided: public sector": "avoided_public_cost", "Avoided: society": "avoided_cost",
               "Expected cases": "expected_cases", "Cost of illness": "cost_of_illness", "Mother": "mother_cost",
               "Child": "child_cost", "Public sector": "public_sector_cost",
               "NHS and social care": "nhs_social_care_cost"}
ROW_RETURNS = {"Return: public sector": "avoided_public_cost", "Return: society": "avoided_cost"}
# the headline tiles: label -> (quantity, per)
TILES = {"return for the public sector": ("avoided_public_cost", "extra_spend"),
         "net benefit to the public sector": ("net_public", None),
         "break-even effect": ("extra_spend", "worth_public"),
         "return to society": ("avoided_cost", "extra_spend"),
         "net benefit to society": ("net_society", None),
         "extra spend": ("extra_spend", None)}


@dataclass(frozen=True)
class Figure:
    """One number the page shows: the sum over `area` (None: every area of the view) of
    `quantity`, or a ratio of that sum to the sum of `per`, under the assumptions `changes` (a key
    of the scenarios); a swing is |figure at `changes` - figure at `versus`|, of one area only."""

    where: str
    shown: Shown
    quantity: str
    per: str | None = None
    changes: str = AS_SHOWN
    area: str | None = None
    versus: str | None = None


@dataclass
class EconomicAttack:
    """What the attack on one view of the page tried and found; the cards it read."""

    result: AuditResult = field(default_factory=AuditResult)
    tables: set = field(default_factory=set)
    charts: set = field(default_factory=set)
    # area -> (its combinations of counts, those everything the view shows allows), and the
    # counts as shown and true: for the attack across views (across_views)
    kept: dict = field(default_factory=dict)
    shown: pd.DataFrame | None = None
    true: pd.DataFrame | None = None


# ---- reading the page -------------------------------------------------------------------------
def _return(value) -> Shown:
    """A return as sent: the page prints returns to the penny (£1.03), so a number sent with fewer
    digits (1.0) is read to the penny too; one with more is read as it is."""
    cell = parse_cell(value)
    return Shown(False, cell.value, min(cell.step, 0.01)) if cell.number else cell


def _decoder(names: dict[str, str]) -> dict[str, str]:
    """words as a page prints them (a label on short lines) -> the code."""
    return {words(text): code for code, text in names.items()} | {words(code): code for code in names}


def _decoded(card: str, decoder: dict[str, str], unread: list[str], labels, *columns):
    """(label, its code, value, ...) for each point of a trace whose label the decoder knows (words
    as printed -> code); every other label is noted in unread."""
    for label, *values in zip(labels or [], *(column or [] for column in columns)):
        code = decoder.get(words(label))
        if code is None:
            unread.append(f"{card} {label!r}")
            continue
        yield (label, code, *values)


def read_figures(tables: dict[str, pd.DataFrame], figures: dict[str, dict], area_names: dict[str, str],
                 condition_labels: dict[str, str], assumptions: dict[str, str]) -> tuple[list, list, list[str]]:
    """(figures from the tables, figures from the charts, what could not be read) for one view:
    `assumptions` maps the sensitivity's words to the scenario keys ('Prevalence' -> 'Prevalence')."""
    areas, conditions, moved = _decoder(area_names), _decoder(condition_labels), _decoder(assumptions)
    from_tables, from_charts, unread = [], [], []
    sensitivity = tables.get("economic-sensitivity")
    if sensitivity is not None and len(sensitivity):
        for row in sensitivity.to_dict("records"):
            name = moved.get(words(row.get("Assumption", "")))
            if name is None:
                unread.append(f"sensitivity row {row.get('Assumption')!r}")
                continue
            for column, end in SENSITIVITY_COLUMNS.items():
                cell = _return(row.get(column))
                if cell.number:
                    from_tables.append(Figure(f"sensitivity: {name}, {column.lower()}", cell, "avoided_public_cost",
                                              "extra_spend", f"{name}: {end}"))
            swing = _return(row.get("Swing"))
            if swing.number:
                from_tables.append(Figure(f"sensitivity: {name}, swing", swing, "avoided_public_cost", "extra_spend",
                                          f"{name}: high", versus=f"{name}: low"))
    for card in ("economic-scenario", "economic-cost"):
        rows = tables.get(card)
        for row in rows.to_dict("records") if rows is not None else []:
            area, condition = row.get("Area code"), conditions.get(words(row.get("Condition", "")))
            if condition is None:
                unread.append(f"{card} row {row.get('Condition')!r}")
                continue
            for heading, text in row.items():
                if heading in ROW_COLUMNS or heading in ROW_RETURNS:
                    printed = printed_numbers(str(text))
                    if not printed or "*" in str(text):
                        continue  # '*', 'not costed', 'not split', '–': nothing to work back from
                    quantity = f"row:{ROW_COLUMNS.get(heading, ROW_RETURNS.get(heading))}:{condition}"
                    per = f"row:extra_spend:{condition}" if heading in ROW_RETURNS else None
                    shown = Shown(False, printed[0].value, min(printed[0].step, 0.01)) if per else printed[0]
                    from_tables.append(Figure(f"{card} table: {area}, {condition}, {heading}", shown, quantity, per,
                                              area=area))
    for card, figure in figures.items():
        for trace in (figure or {}).get("data", []):
            name = words(trace.get("name") or "")
            if card == "economic-scenario" and name in RETURN_TRACES:
                for label, area, value in _decoded(card, areas, unread, trace.get("y"), trace.get("x")):
                    from_charts.append(Figure(f"return by area: {area}, {name}", _return(value),
                                              RETURN_TRACES[name], "extra_spend", area=area))
            elif card == "economic-scenario":
                texts = trace.get("text") or [None] * len(trace.get("x") or [])
                for label, quantity, value, text in _decoded(card, SCENARIO_BARS, unread, trace.get("x"),
                                                             trace.get("y"), texts):
                    for cell in [parse_cell(value), *printed_numbers(text or "")[:1]]:
                        if cell.number:
                            from_charts.append(Figure(f"scenario total: {label}", cell, quantity))
            elif card == "economic-cost" and name in COST_TRACES:
                for label, condition, value in _decoded(card, conditions, unread, trace.get("y"), trace.get("x")):
                    from_charts.append(Figure(f"cost of illness: {condition}, {name}", parse_cell(value),
                                              f"{COST_TRACES[name]}:{condition}"))
            elif card == "economic-sensitivity" and name in TORNADO_TRACES:
                base = _return(trace.get("base"))
                if base.number:
                    from_charts.append(Figure("sensitivity: the return as shown", base, "avoided_public_cost",
                                              "extra_spend"))
                for label, text in zip(trace.get("y") or [], trace.get("text") or []):
                    assumption = moved.get(words(label))
                    printed = printed_numbers(text)
                    if assumption is None or not printed:
                        unread.append(f"{card} {label!r}")
                        continue
                    from_charts.append(Figure(f"sensitivity chart: {assumption}, {name}", printed[0],
                                              "avoided_public_cost", "extra_spend",
                                              f"{assumption}: {TORNADO_TRACES[name]}"))
            elif card in ("economic-scenario", "economic-cost", "economic-sensitivity"):
                unread.append(f"{card} trace {trace.get('name')!r}")
    # a blank ('*' or no value: an area whose count is hidden) says nothing to work back from
    return from_tables, [f for f in from_charts if f.shown.number], unread


def read_tiles(tiles: list[tuple[str, str]]) -> tuple[list[Figure], list[str]]:
    """The headline tiles (label, value as printed): totals of the view, by the page's own labels."""
    figures, unread = [], []
    for label, value in tiles:
        quantity = TILES.get(words(label))
        printed = printed_numbers(str(value).replace("\u2212", "-"))
        if quantity is None:
            unread.append(f"headline {label!r}")
        elif printed:
            cell = printed[0]
            if quantity[1] == "extra_spend":  # a return, to the penny
                cell = Shown(False, cell.value, min(cell.step, 0.01))
            figures.append(Figure(f"headline: {label}", cell, *quantity))
    return figures, unread


def page_tiles(component) -> list[tuple[str, str]]:
    """(label, value) of every headline tile in a page."""
    from pathway.disclosure_audit import walk_components

    found = []
    for node in walk_components(component):
        if getattr(node, "className", None) == "pathway-headline":
            texts = {getattr(child, "className", None): getattr(child, "children", None) for child in node.children}
            found.append((str(texts.get("pathway-headline__label")), str(texts.get("pathway-headline__value"))))
    return found


# ---- the counts each area may have ------------------------------------------------------------
def area_counts(answer: pd.DataFrame) -> pd.DataFrame:
    """One row per area: its three counts as economic_case shows them (the same on every condition)."""
    frame = answer.reset_index(drop=True)
    counts = frame[["area_code", *COUNTS]].copy()
    for column in COUNTS:
        counts[column] = pd.to_numeric(counts[column], errors="coerce").astype(float)
    return counts.groupby("area_code", sort=False).first()


def candidates(shown: pd.Series, policy: DisclosurePolicy, *, hidden_too: bool) -> np.ndarray:
    """Every combination of an area's counts that prints as shown (rows: combinations, columns:
    COUNTS); a hidden count stays blank unless `hidden_too` (then 1 to 7)."""
    ranges = []
    for column in COUNTS:
        value = shown[column]
        if pd.isna(value):
            ranges.append(range(1, policy.suppress_below) if hidden_too else [math.nan])
        else:
            low, high = count_domain(float(value), policy, secondary=False)
            ranges.append(range(low, high + 1))
    return np.array(list(itertools.product(*ranges)), dtype=float).reshape(-1, len(COUNTS))


# ---- working the figures out ----------------------------------------------------------------
def quantities(answer: pd.DataFrame, combos: dict[str, np.ndarray], scenarios: dict[str, economics.Changes]
               ) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """scenario -> quantity -> area -> its value for each combination of the area's counts, by
    pathway.economics on the answer's rows with those counts (each combination an area of its own,
    so one evaluate per scenario works every combination out). Totals leave out rows whose figures
    rest on a blank count, as economics.totals does."""
    frame = answer.reset_index(drop=True)
    pieces, slices, start = [], {}, 0
    for area, values in combos.items():
        rows = np.flatnonzero((frame["area_code"] == area).to_numpy())
        k = len(values)
        stacked = frame.iloc[np.tile(rows, k)].reset_index(drop=True)
        which = np.repeat(np.arange(k), len(rows))
        for j, column in enumerate(COUNTS):
            stacked[column] = values[which, j]
        stacked["area_code"] = [f"{area}#{w}" for w in which]
        stacked["_group"] = start + which
        pieces.append(stacked)
        slices[area] = slice(start, start + k)
        start += k
    stacked = pd.concat(pieces, ignore_index=True)
    groups = stacked["_group"].to_numpy()
    costed = stacked["costed"].astype(bool).to_numpy()
    conditions = stacked["condition"].astype(str).to_numpy()
    out = {}
    for key, changes in scenarios.items():
        evaluated = economics.evaluate(stacked, changes)

        def column(name):
            return pd.to_numeric(evaluated[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        left_out = np.isnan(column("expected_cases")) | np.isnan(column("extra_spend"))

        def by_group(values, rows=None):
            keep = ~np.isnan(values) if rows is None else rows & ~np.isnan(values)
            return np.bincount(groups, weights=np.where(keep, values, 0.0), minlength=start)
        found = {name: by_group(np.where(left_out, np.nan, column(name)))
                 for name in ("extra_spend", "avoided_public_cost", "avoided_cost")}
        found["net_public"] = found["avoided_public_cost"] - found["extra_spend"]
        found["net_society"] = found["avoided_cost"] - found["extra_spend"]
        # what an extra woman treated avoids, as economics.break_even_effect adds it up (costed rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_case = column("public_sector_cost") / np.where(column("expected_cases") == 0, np.nan,
                                                               column("expected_cases"))
        found["worth_public"] = by_group(np.where(left_out | ~costed, np.nan, column("extra_treated") * per_case))
        # the cost chart adds up every costed row it can (psychosis's parts: not split)
        mother, child, whole = (np.nan_to_num(column(c)) for c in ("mother_cost", "child_cost", "cost_of_illness"))
        for condition in dict.fromkeys(conditions[costed]):
            rows = costed & (conditions == condition)
            found[f"mother:{condition}"] = by_group(mother, rows)
            found[f"child:{condition}"] = by_group(child, rows)
            found[f"unsplit:{condition}"] = by_group(whole - mother - child, rows)
        if key == AS_SHOWN:  # the tables' rows: one area and condition each, as the page shows them
            for name in set(ROW_COLUMNS.values()):
                values = column(name)
                for condition in dict.fromkeys(conditions):
                    found[f"row:{name}:{condition}"] = by_group(values, conditions == condition)
        out[key] = {name: {area: values[s] for area, s in slices.items()} for name, values in found.items()}
    return out


def _bounds(shown: Shown) -> tuple[float, float]:
    slack = shown.step / 2 + 1e-9 * max(1.0, abs(shown.value))
    return shown.value - slack, shown.value + slack


def solve(figures: list[Figure], combos: dict[str, np.ndarray], worked: dict) -> tuple[dict[str, np.ndarray], int]:
    """Which combinations of each area's counts every figure allows (see the module doc), and how
    many (figure, area) pairs were tried."""
    keep = {area: np.ones(len(values), dtype=bool) for area, values in combos.items()}
    tried = 0
    areas = list(combos)

    def values(figure: Figure, area: str, changes: str | None = None) -> np.ndarray:
        at = worked[changes or figure.changes]
        top = at[figure.quantity][area]
        if figure.per is None:
            return top
        below = at[figure.per][area]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(below > 0, top / np.where(below > 0, below, 1.0), np.nan)

    def of_one_area(figure: Figure) -> str | None:
        return figure.area if figure.area is not None else (areas[0] if len(areas) == 1 else None)

    for figure in figures:
        area = of_one_area(figure)
        if area is None or area not in combos:
            continue
        tried += 1
        found = values(figure, area)
        if figure.versus is not None:
            found = np.abs(found - values(figure, area, figure.versus))
        keep[area] &= figure.shown.allows_all(found) & ~np.isnan(found)
    totals = [f for f in figures if of_one_area(f) is None and f.versus is None]
    tried += len(totals) * len(areas)
    for _ in range(20):
        changed = False
        for figure in totals:
            low, high = _bounds(figure.shown)
            if any(not keep[a].any() for a in areas):
                return keep, tried
            at = worked[figure.changes]
            if figure.per is None:
                # some combination's sum reaches low, and some stays under high
                upper = lower = [at[figure.quantity][a] for a in areas]
                need_up, need_down = low, high
            else:
                # a ratio r of sums within [low, high]: some combination has sum(top - low x below)
                # >= 0, and some has sum(top - high x below) <= 0
                upper = [at[figure.quantity][a] - low * at[figure.per][a] for a in areas]
                lower = [at[figure.quantity][a] - high * at[figure.per][a] for a in areas]
                need_up, need_down = 0.0, 0.0
            highest = [u[keep[a]].max() for u, a in zip(upper, areas)]
            lowest = [d[keep[a]].min() for d, a in zip(lower, areas)]
            for i, area in enumerate(areas):
                others_high = sum(highest) - highest[i]
                others_low = sum(lowest) - lowest[i]
                allowed = (upper[i] + others_high >= need_up - 1e-9) & (lower[i] + others_low <= need_down + 1e-9)
                new = keep[area] & allowed
                if not np.array_equal(new, keep[area]):
                    keep[area], changed = new, True
        if not changed:
            break
    return keep, tried


# ---- the attack on one view -----------------------------------------------------------------
def attack_figures(figures: list[Figure], answer: pd.DataFrame, truth: pd.DataFrame,
                   scenarios: dict[str, economics.Changes], policy: DisclosurePolicy, *,
                   channel: str, table: str, worked_out: dict | None = None) -> AuditResult:
    """Every figure of one view and channel against the counts of the view's areas (the module doc).
    `answer`: economic_case as the page received it (disclosed); `truth`: the same rows unsuppressed;
    `scenarios`: the assumptions each figure was worked out under (AS_SHOWN: the view's own);
    `worked_out`: kept between calls on the same view (every scenario's quantities, worked out once)."""
    result = AuditResult()
    result.tables[channel] += 1
    shown = area_counts(answer)
    true = area_counts(truth)
    secret = {(area, column) for area in shown.index for column in COUNTS
              if pd.notna(true.at[area, column]) and (pd.isna(shown.at[area, column])
                                                      or shown.at[area, column] != true.at[area, column])}
    result.cells_attacked[channel] += len(secret)
    figures = [f for f in figures if f.changes in scenarios and (f.versus is None or f.versus in scenarios)]
    if not figures or not secret:
        return result
    worked_out = {} if worked_out is None else worked_out
    any_hidden = shown[list(COUNTS)].isna().any().any()

    def model(hidden_too: bool):
        if hidden_too not in worked_out:
            combos = {area: candidates(shown.loc[area], policy, hidden_too=hidden_too) for area in shown.index}
            worked_out[hidden_too] = (combos, quantities(answer, combos, scenarios))
        return worked_out[hidden_too]

    def attempt(group: list[Figure]) -> tuple | None:
        """(combinations, those the group allows, the model) under the page's reading, else with
        hidden rows counted; None when neither explains the group."""
        for hidden_too in (False, True) if any_hidden else (False,):
            combos, worked = model(hidden_too)
            keep, tried = solve(group, combos, worked)
            result.attacks_tried[(channel, ATTACK if not hidden_too else f"{ATTACK}, hidden rows counted")] += tried
            if all(k.any() for k in keep.values()):
                return combos, keep, hidden_too
        return None

    # everything together; where no counts explain it all (a page leaky in one part: its totals
    # from the exact counts, its tables from the shown ones), each kind of figure on its own
    found = attempt(figures)
    if found is not None and not found[2]:
        worked_out["kept"] = {area: (found[0][area], found[1][area]) for area in found[0]}
    kinds: dict[str, list[Figure]] = {}
    for f in figures:
        kinds.setdefault(f.where.split(":")[0], []).append(f)
    attempts = [found] if found is not None else [attempt(group) for group in kinds.values()]
    for attempt_found in [a for a in attempts if a is not None]:
        combos, keep, hidden_too = attempt_found
        for area, values in combos.items():
            for j, column in enumerate(COUNTS):
                left = set(values[keep[area], j].tolist())
                if (area, column) in secret and len(left) == 1 and next(iter(left)) == true.at[area, column]:
                    result.recovered.append(Recovery(channel, table, list(shown.index).index(area), column,
                                                     "*" if pd.isna(shown.at[area, column]) else
                                                     f"{shown.at[area, column]:g}", int(true.at[area, column]),
                                                     ATTACK if not hidden_too else f"{ATTACK}, hidden rows counted",
                                                     f"{area}: " + _evidence(figures, area)))
    return result


ACROSS_VIEWS = "dashboard across views (economic case)"


def across_views(attacks: list[EconomicAttack]) -> AuditResult:
    """One area's counts as every view of the page constrains them (its own view, every area's,
    its ICB's, each scenario setting): where the views show the area's counts alike, the
    combinations each leaves are intersected, and a count left with one value, the true one, is
    recovered."""
    result = AuditResult()
    together: dict[tuple, list] = {}
    for attack in attacks:
        for area, (values, keep) in attack.kept.items():
            shown = tuple(None if pd.isna(v) else float(v) for v in attack.shown.loc[area, list(COUNTS)])
            together.setdefault((area, shown), []).append((values, keep, attack.true.loc[area]))
    for (area, shown), views in together.items():
        values, _, true = views[0]
        keep = np.logical_and.reduce([k for _, k, _ in views])
        result.tables[ACROSS_VIEWS] += 1
        result.attacks_tried[(ACROSS_VIEWS, "the same area in every view")] += len(views)
        for j, column in enumerate(COUNTS):
            if pd.isna(true[column]) or shown[j] == true[column]:
                continue
            result.cells_attacked[ACROSS_VIEWS] += 1
            left = set(values[keep, j].tolist())
            if len(left) == 1 and next(iter(left)) == true[column]:
                result.recovered.append(Recovery(ACROSS_VIEWS, f"economic_case, {area}", 0, column,
                                                 "*" if shown[j] is None else f"{shown[j]:g}", int(true[column]),
                                                 "the same area in every view", f"{len(views)} views"))
    return result


def _evidence(figures: list[Figure], area: str) -> str:
    """The kinds of figure the attack held an area's counts against (its own, and totals)."""
    kinds = dict.fromkeys(f.where.split(":")[0] for f in figures if f.area in (None, area))
    return ", ".join(kinds)


def scenarios_for(variations: list[economics.Variation],
                  changes: economics.Changes | None) -> dict[str, economics.Changes]:
    """The assumptions each figure is worked out under: the view's own, and each sensitivity
    variation's low and high end combined with them (as economics.tornado combines them)."""
    base = changes or economics.Changes()
    out = {AS_SHOWN: base}
    for v in variations:
        out[f"{v.assumption}: low"] = economics._combine(base, v.low)
        out[f"{v.assumption}: high"] = economics._combine(base, v.high)
    return out


def attack_economic_view(component, calls, fetched: dict, truth_of, policy: DisclosurePolicy, label: str,
                         stored: dict | None = None) -> EconomicAttack:
    """The economic page's totals, returns by area and sensitivity in one view (its layout, or the
    scenario callback's output), attacked table by table and chart by chart; the cards read are
    named so the dashboard audit does not list them as not covered."""
    from pathway.disclosure_audit import card_figures, card_tables
    from pathway.web.components.page import area_names
    from pathway.web.pages import economic_case as page

    found = EconomicAttack()
    answers = [(params, fetched[(name, params)]) for name, params in calls
               if name == "economic_case" and (name, params) in fetched]
    if not answers:
        return found
    params, answer = answers[-1]
    if answer.empty:
        return found
    truth = truth_of("economic_case", params)
    changes = page.session_changes(stored)
    evaluated = economics.evaluate(answer, changes)
    variations = page.sensitivity_variations(evaluated)
    scenarios = scenarios_for(variations, changes)
    tables = dict(card_tables(component))
    figures = card_figures(component)
    from_tables, from_charts, unread = read_figures(tables, figures, area_names(), page._condition_labels(),
                                                    {v.assumption: v.assumption for v in variations})
    from_tiles, unread_tiles = read_tiles(page_tiles(component))
    where, worked_out = f"economic_case ({label})", {}
    # the table alone; the charts beside it; the headline totals beside both, as the page shows them
    for channel, figures_shown in (("dashboard tables and downloads", from_tables),
                                   ("dashboard chart data", from_tables + from_charts),
                                   ("dashboard headline figures", from_tables + from_charts + from_tiles)):
        found.result.merge(attack_figures(figures_shown, answer, truth, scenarios, policy, channel=channel,
                                          table=where, worked_out=worked_out))
    found.result.not_covered.extend(f"dashboard economic_case ({label}): {u} not read"
                                    for u in unread + unread_tiles)
    found.kept, found.shown, found.true = worked_out.get("kept", {}), area_counts(answer), area_counts(truth)
    found.tables = {"economic-sensitivity"} & set(tables)
    found.charts = {"economic-scenario", "economic-cost", "economic-sensitivity"} & set(figures)
    return found


# ---- the scenario inputs, driven through the page's own callback ------------------------------
@dataclass(frozen=True)
class ScenarioView:
    """The page's scenario callback at one setting of its inputs (None: the default)."""

    area: str
    target: float | None = None
    targeted: float | None = None
    effect: float | None = None
    need: str | None = None
    price_year: str | None = None
    stored: dict | None = None

    def __call__(self):
        from dash import html

        from pathway.web.pages import economic_case as page

        defaults = page.default_scenario()

        def pick(value, key):
            return defaults[key] if value is None else value
        return html.Div(page.change_scenario(pick(self.target, "target_access_pct"), pick(self.effect, "effect"),
                                             pick(self.price_year, "price_year"), pick(self.need, "need"),
                                             pick(self.targeted, "targeted_target_pct"), self.stored,
                                             f"?area={self.area}"))


def scenario_views(label: str, area: str) -> list[tuple[str, ScenarioView]]:
    """The scenario inputs at their defaults and extremes (the inputs' own limits), and the
    session's assumptions at theirs: each a view of the page to attack."""
    from pathway.web.pages import economic_case as page

    years = page.reference_table("deflators")
    first_year = str(years["price_year"].min()) if not years.empty else None
    settings = [("default inputs", {}), ("no target", {"target": 0.0, "targeted": 0.0}),
                ("every birth treated", {"target": 100.0, "targeted": 100.0}),
                ("effect 0", {"effect": 0.0}), ("effect 1", {"effect": 1.0}),
                ("low need", {"need": "low"}), ("high need", {"need": "high"}),
                ("earliest price year", {"price_year": first_year}),
                ("shares at 1 and episodes at £1", {"stored": {
                    "public_share": 1.0, "nhs_social_care_share": 1.0, "specialist_episode_cost": 1.0,
                    "targeted_episode_cost": 1.0}}),
                ("depression at 1,000 per 1,000", {"stored": {"per_1000:perinatal_depression": 1000.0}})]
    return [(f"{label}, scenario callback: {words_}", ScenarioView(area, **kwargs)) for words_, kwargs in settings]

