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


def overview_funnel(card: pd.DataFrame, answer: pd.DataFrame | None) -> list[list[pd.DataFrame]] | None:
    """The overview funnel as the universal tier's reached count per stage, and its first row (the
    births: the largest cohort among those stages) as the cohort of one stage: a list of
    alternatives, each a list of cards that must all map (the stages whose shown cohort is nearest
    the births first)."""
    values = _step_values(card)
    if values is None or BIRTHS_STEP not in values:
        return None
    stages = {w[len(REACHED_PREFIX):]: v for w, v in values.items() if w.startswith(REACHED_PREFIX)}
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


STEP_TABLES = {("risk_pathway", "risk-steps"): ("risk_pathway", lambda card, answer: risk_steps(card)),
               ("overview", "overview-funnel"): ("stage_reach", overview_funnel)}


def step_cards(page_name: str, card_id: str, card: pd.DataFrame, fetched: dict) -> list[list[pd.DataFrame]] | None:
    """Alternatives of cards in the metric's headings for a step table, or None when the card is
    not one this module knows (by its page and card)."""
    known = STEP_TABLES.get((page_name, card_id))
    if known is None:
        return None
    metric, read = known
    answer = next((frame for (name, _), frame in fetched.items() if name == metric), None)
    return read(card, answer)


def attack_step_card(page_name: str, card_id: str, card: pd.DataFrame, calls, fetched: dict, truth_of,
                     words_for, policy, label: str):
    """The attack on a step table, read back as the metric's rows (an AuditResult), or None when
    it cannot be read back soundly (every card of one alternative must map onto the metric)."""
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
            result.merge(attack_table(table, truth, spec, policy, channel="dashboard tables and downloads",
                                      table=where))
        result.tables["dashboard tables and downloads"] -= len(aligned) - 1  # one card, one table
        return result
    return None
