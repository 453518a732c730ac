"""The compare page's area profile read back for the attack (contract 7.4): one table across
several metrics, a row per headline indicator.

Each row of the profile is one indicator (pathway.web.indicators: a metric, the rows of it it
reads, its count and percentage columns). It shows the chosen area's count and percentage, a
benchmark (all areas pooled, or England's published figure) and the spread of the areas'
percentages (lowest, quartiles, highest). For the attack each row becomes a table of its own:
every area's row of that metric as the metric prints it, the chosen area's count and percentage
as the profile prints them, and the benchmark and spread beside every area, as summaries across
areas (so a quartile or benchmark that is one hidden area's exact percentage is tried as such).
Rows are identified by the indicator's words and the area the view was opened for, not by
matching numbers, so a profile that prints other numbers than the metric's is still attacked.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from pathway.disclosure import Summary, format_for_people

SUMMARY_COLUMNS = {"benchmark": "benchmark", "lowest": "lowest", "25th percentile": "q1",
                   "75th percentile": "q3", "highest": "highest"}
CHANNEL = "dashboard tables and downloads"


def profile_tables(card: pd.DataFrame, fetched: dict, truth_of, area_words: str, indicators=None):
    """[(indicator label, attack table, truth, spec)] for every row of the profile card, or None
    when a row's indicator or answer is not found (the card is then not covered)."""
    from pathway import catalogue

    if indicators is None:
        from pathway.web.indicators import INDICATORS as indicators
    by_label = {i.label: i for i in indicators.values()}
    if "indicator" not in card.columns or not set(card["indicator"]) <= set(by_label):
        return None
    out = []
    for _, row in card.iterrows():
        indicator = by_label[row["indicator"]]
        found = [(params, frame) for (name, params), frame in fetched.items()
                 if name == indicator.metric and dict(params).get("area") == "all"]
        if not found:
            return None
        params, answer = found[0]
        metric = catalogue.METRICS[indicator.metric]
        spec = answer.attrs.get("disclosure") or metric.disclosure
        truth = truth_of(indicator.metric, params)
        keys = [k for k in metric.keys if k in answer.columns]
        if len(truth) != len(answer):
            return None
        # the unsuppressed rows in the answer's order, by the metric's keys
        index = {tuple(map(str, r)): j for j, r in enumerate(truth[keys].itertuples(index=False))}
        order = [index.get(tuple(map(str, r))) for r in answer[keys].itertuples(index=False)]
        if None in order:
            return None
        truth = truth.iloc[order].reset_index(drop=True)
        answer = answer.reset_index(drop=True)
        mask = pd.Series(True, index=answer.index)
        for column, wanted in indicator.rows.items():
            mask &= answer[column] == wanted
        printed = format_for_people(answer[mask], spec).reset_index(drop=True).astype(object)
        printed.attrs = {}
        truth = truth[mask.to_numpy()].reset_index(drop=True)
        # the chosen area's count and percentage as the profile prints them
        chosen = [i for i, code in enumerate(printed["area_code"]) if str(code) in area_words.replace(",", " ").split()]
        for i in chosen:
            for card_column, metric_column in (("count", indicator.numerator), ("this area", indicator.value)):
                if card_column in card.columns:
                    printed.at[i, metric_column] = row[card_column]
        summaries = []
        for card_column, name in SUMMARY_COLUMNS.items():
            if card_column in card.columns:
                printed[f"profile {name}"] = [row[card_column]] * len(printed)
                summaries.append(f"profile {name}")
        spec = dataclasses.replace(spec, summaries=(*spec.summaries, Summary(tuple(summaries))))
        out.append((indicator.label, printed, truth, spec))
    return out


def attack_profile(card: pd.DataFrame, fetched: dict, truth_of, policy, label: str, indicators=None):
    """The attack on every row of the area profile (an AuditResult), or None when it cannot be read."""
    from pathway.disclosure_audit import AuditResult, attack_table

    tables = profile_tables(card, fetched, truth_of, label, indicators)
    if tables is None:
        return None
    result = AuditResult()
    for name, table, truth, spec in tables:
        result.merge(attack_table(table, truth, spec, policy, channel=CHANNEL,
                                  table=f"compare area-profile: {name} ({label})"))
    result.tables[CHANNEL] -= len(tables) - 1  # one card, one table
    return result
