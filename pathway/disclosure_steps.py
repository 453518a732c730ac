"""Step tables (a funnel: one row per step, in words) read back as a metric's rows for the attack
(contract 7.4).

A funnel card prints one number per step: 'Risk recorded in pregnancy 45', 'Referred before
birth 30'. Each step is one count column of one metric row (or of the rows the page pooled for
all areas), and a first row may be derived ('Births in the period': the largest cohort of the
steps that follow). This module turns such a card into cards in the metric's own headings, using
the words the page itself prints for each step, so pathway.disclosure_reshaped.map_back can put
them on the metric's cells (or on pooled totals of them) and the attack can try them:

- risk pathway steps: one row of the 'any risk factor' counts (at_risk, referred_antenatal, ...);
- overview funnel: a row per stage of the universal tier's reached count, and the first row, the
  births, as the cohort of the stage it was taken from (tried in turn, nearest first).

No guessing beyond the page's words: a step whose words are not the page's is not read, and the
card stays 'not covered'.
"""

from __future__ import annotations

import pandas as pd

from pathway.disclosure_audit import parse_cell

BIRTHS_STEP = "Births in the period"
REACHED_PREFIX = "Reached, "


def _step_values(card: pd.DataFrame) -> dict[str, object] | None:
    """step words -> the cell printed for it, for a two-column table (words, one number)."""
    if card.shape[1] != 2:
        return None
    words, number = card.columns
    return {str(w): v for w, v in zip(card[words], card[number])}


def risk_steps(card: pd.DataFrame, steps=None) -> list[list[pd.DataFrame]] | None:
    """The risk pathway's 'where families fall out' table as one row of the 'any' risk factor;
    `steps`: (column, words) per step, by default the page's own (importable once the app is)."""
    if steps is None:
        from pathway.web.pages.risk_pathway import STEPS as steps

    values = _step_values(card)
    words = {label: column for column, label in steps}
    if values is None or set(values) != set(words):
        return None
    row = {"risk_factor": "any", **{words[w]: v for w, v in values.items()}}
    return [[pd.DataFrame([row])]]


def overview_funnel(card: pd.DataFrame, answer: pd.DataFrame | None,
                    stage_words: dict[str, str] | None = None) -> list[list[pd.DataFrame]] | None:
    """The overview funnel as the universal tier's reached count per stage, and its first row (the
    births: the largest cohort among those stages) as the cohort of one stage: a list of
    alternatives, each a list of cards that must all map (the stages whose shown cohort is nearest
    the births first). `stage_words`: stage code -> the words the page prints for it (by default
    the page's own, ref_stages' labels, which anyone reading the page can look up)."""
    if stage_words is None:
        from pathway.web.components.page import stage_labels as page_stage_labels
        stage_words = page_stage_labels()
    code_of = {words: code for code, words in stage_words.items()}
    values = _step_values(card)
    if values is None or BIRTHS_STEP not in values:
        return None
    stages = {code_of.get(w[len(REACHED_PREFIX):], w[len(REACHED_PREFIX):]): v
              for w, v in values.items() if w.startswith(REACHED_PREFIX)}
    if len(stages) != len(values) - 1 or not stages:
        return None
    reached = pd.DataFrame({"stage": list(stages), "tier": "universal", "reached": list(stages.values())})
    births = parse_cell(values[BIRTHS_STEP])

    def distance(stage):
        if answer is None or not births.number or "cohort" not in answer:
            return 0.0
        rows = answer[(answer["stage"] == stage) & (answer["tier"] == "universal")]
        total = pd.to_numeric(rows["cohort"], errors="coerce").sum()
        return abs(total - births.value)
    order = sorted(stages, key=distance)
    return [[reached, pd.DataFrame({"stage": [stage], "tier": ["universal"], "cohort": [values[BIRTHS_STEP]]})]
            for stage in order]


def outcome_measures(card: pd.DataFrame, measures=None) -> list[list[pd.DataFrame]] | None:
    """The outcomes card for all areas (a row per service, instrument and measure, 'people' and
    'out of' pooled over areas) as one card per measure in the metric's headings: each is then
    the pooled total of the areas' rows for that measure. `measures`: (words, pct, numerator,
    denominator, interval low, interval high), by default the page's own."""
    if measures is None:
        from pathway.web.pages.outcomes import MEASURES as measures

    if "measure" not in card.columns or not {"people", "out_of"} <= set(card.columns):
        return None
    known = {m[0]: m for m in measures}
    if not set(card["measure"]) <= set(known):
        return None
    cards = []
    for words, rows in card.groupby("measure", sort=False):
        _, pct, numerator, denominator, low, high = known[words]
        cards.append(rows.drop(columns="measure").rename(columns={
            "people": numerator, "out_of": denominator, "pct": pct, "ci_low": low, "ci_high": high})
            .reset_index(drop=True))
    return [cards]


STEP_TABLES = {("risk_pathway", "risk-steps"): ("risk_pathway", lambda card, answer: risk_steps(card)),
               ("overview", "overview-funnel"): ("stage_reach", overview_funnel),
               ("outcomes", "outcomes"): ("outcomes", lambda card, answer: outcome_measures(card))}


def step_cards(page_name: str, card_id: str, card: pd.DataFrame, fetched: dict) -> list[list[pd.DataFrame]] | None:
    """Alternatives of cards in the metric's headings for a step table, or None when the card is
    not one this module knows (by its page and card)."""
    known = STEP_TABLES.get((page_name, card_id))
    if known is None:
        return None
    metric, read = known
    answer = next((frame for (name, _), frame in fetched.items() if name == metric), None)
    return read(card, answer)


def chart_steps(figure: dict | None, card: pd.DataFrame) -> pd.DataFrame | None:
    """A funnel chart's bars as a step table (the step's words, the number sent for it at the
    precision it is sent), in the card's own headings; None when its bars are not the card's steps.
    The share of the first step printed on each bar is worked out from two numbers shown here."""
    traces = [t for t in (figure or {}).get("data", []) if t.get("type") == "bar"]
    if len(traces) != 1 or card.shape[1] != 2:
        return None
    steps, values = list(traces[0].get("y") or []), list(traces[0].get("x") or [])
    if len(steps) != len(values) or [str(s) for s in steps] != [str(s) for s in card.iloc[:, 0]]:
        return None
    sent = ["*" if v is None else repr(float(v)) if not float(v).is_integer() else int(v) for v in values]
    return pd.DataFrame({card.columns[0]: steps, card.columns[1]: sent})


def attack_step_card(page_name: str, card_id: str, card: pd.DataFrame, calls, fetched: dict, truth_of,
                     words_for, policy, label: str, figure: dict | None = None):
    """The attack on a step table and its funnel chart, read back as the metric's rows (an
    AuditResult), or None when the table cannot be read back soundly (every card of one
    alternative must map onto the metric); a chart whose bars cannot be is listed as not covered."""
    from pathway.disclosure_audit import AuditResult

    if (page_name, card_id) == ("compare", "area-profile"):  # a row per indicator, several metrics
        from pathway.disclosure_profile import attack_profile
        return attack_profile(card, fetched, truth_of, policy, label)
    result = _attack_steps(page_name, card_id, card, calls, fetched, truth_of, words_for, policy, label,
                           "dashboard tables and downloads")
    if result is None or not figure or not figure.get("data"):
        return result
    if (page_name, card_id) == ("outcomes", "outcomes"):  # a bar series per measure, not a funnel
        result.merge(_chart_by_series(figure, list(card["measure"].unique()), result.aligned, policy,
                                      f"{page_name} {card_id} ({label})"))
        return result
    drawn = chart_steps(figure, card)
    charted = None if drawn is None else _attack_steps(page_name, card_id, drawn, calls, fetched, truth_of,
                                                       words_for, policy, label, "dashboard chart data")
    if charted is None:
        charted = AuditResult(not_covered=[f"dashboard chart data {page_name} {card_id} ({label}): the funnel's "
                                           "bars not read back as its steps"])
    result.merge(charted)
    return result


def _attack_steps(page_name, card_id, card, calls, fetched, truth_of, words_for, policy, label, channel):
    from pathway.disclosure_audit import AuditResult, _align_card, attack_table

    alternatives = step_cards(page_name, card_id, card, fetched)
    metric = STEP_TABLES.get((page_name, card_id), (None,))[0]
    calls = [call for call in calls if call[0] == metric]
    for cards in alternatives or []:
        aligned = [_align_card(wide, calls, fetched, truth_of, words_for) for wide in cards]
        if any(a is None or not a[3] for a in aligned):
            continue
        result = AuditResult()
        for k, (table, truth, spec, _, name) in enumerate(aligned):
            where = f"{page_name} {card_id}: {name}, steps read as its rows ({label})" + \
                (f", part {k + 1}" if len(aligned) > 1 else "")
            result.merge(attack_table(table, truth, spec, policy, channel=channel, table=where))
        result.tables[channel] -= len(aligned) - 1  # one card, one table
        result.aligned = aligned
        return result
    return None


def _chart_by_series(figure: dict, series: list[str], aligned: list, policy, where: str):
    """A chart with a series per card of `aligned` (named as `series`), each series' points put on
    its card's rows and attacked as dashboard chart data."""
    from pathway.disclosure_audit import AuditResult, attack_table
    from pathway.disclosure_figures import figure_points, figure_table, words

    channel = "dashboard chart data"
    result = AuditResult()
    points = figure_points(figure)
    for name, (table, truth, spec, card_rows, _) in zip(series, aligned):
        mine = [p for p in points if words(p.name) == words(name)]
        drawn, _, unplaced = figure_table(mine, table, truth, spec, card_rows)
        if unplaced:
            result.not_covered.append(f"{channel} {where}: {unplaced} points of {name} not placed on a row")
        result.merge(attack_table(drawn, truth, spec, policy, channel=channel, table=f"{where}, {name}"))
    others = [p for p in points if words(p.name) not in {words(n) for n in series}]
    if others:
        result.not_covered.append(f"{channel} {where}: {len(others)} points of no series of its table")
    result.tables[channel] -= max(len(aligned) - 1, 0)
    return result
