"""Risk pathway: the seeds' risk-based referral (contract v1.1 risk_pathway). Where do families with a
risk recorded in pregnancy fall out of the pathway, which risk factors are least often followed up,
and which areas refer before birth."""

from __future__ import annotations

import dash
import pandas as pd

from pathway.web.components.charts import bars_with_interval, funnel_steps
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page, period_words
from pathway.web.components.summaries import one_area_or_pooled, percent_text
from pathway.web.components.tables import people_frame
from pathway.web.filters import metric_params, read_filters
from pathway.web.warehouse import fetch_metric

PATH = "/risk-pathway"
dash.register_page(__name__, path=PATH, name="Risk pathway", title="Risk pathway - Perinatal Pathway Analytics",
                   order=5.5, description="Families with a risk recorded in pregnancy: referred and seen "
                                          "before birth, and by the parent-infant team")

STEPS = (("at_risk", "Risk recorded in pregnancy"),
         ("referred_antenatal", "Referred to a targeted or specialist service before birth"),
         ("seen_antenatal", "Seen by a targeted or specialist service before birth"),
         ("parent_infant_seen", "Seen by the parent-infant team by the first birthday"))
SHARES = (("referred_antenatal", "referred_antenatal_pct", "Referred before birth"),
          ("seen_antenatal", "seen_antenatal_pct", "Seen before birth"),
          ("parent_infant_seen", "parent_infant_seen_pct", "Parent-infant team"))


def risk_factor_words(code: str) -> str:
    """rf_domestic_abuse -> Domestic abuse; any -> Any risk factor (names people read are words)."""
    if code == "any":
        return "Any risk factor"
    return str(code).removeprefix("rf_").replace("_", " ").capitalize()


def _any_row(frame: pd.DataFrame, area: str) -> pd.Series | None:
    rows = frame[frame["risk_factor"] == "any"]
    if area != "all" and (rows["area_code"] == area).any():
        return rows[rows["area_code"] == area].iloc[0]
    if rows.empty:
        return None
    # all areas: each step summed from the counts shown; a step resting on a hidden count is
    # hidden too (contract 7.4)
    values = rows[[column for column, _ in STEPS]].apply(pd.to_numeric, errors="coerce")
    return values.sum().where(values.notna().all())


def where_families_fall_out(frame: pd.DataFrame, filters: dict, where: str):
    title = "Where families at risk fall out of the pathway"
    row = _any_row(frame, filters["area"])
    if row is None:
        return figure_card("risk-steps", title, figure=None, table=None, summary="")
    values = [row[column] for column, _ in STEPS]
    first = values[0]
    words = "; ".join(f"{label.lower()}: {'*' if pd.isna(v) else f'{int(v):,}'}"
                      + (f" ({100 * v / first:.0f}%)" if first and not pd.isna(v) and not pd.isna(first) else "")
                      for (column, label), v in zip(STEPS, values))
    table = pd.DataFrame({"step": [label for _, label in STEPS],
                          "families": ["*" if pd.isna(v) else int(v) for v in values]})
    return figure_card(
        "risk-steps", title, figure=funnel_steps([label for _, label in STEPS], values, title_text="Families"),
        table=table, summary=f"Families with any risk factor recorded, {period_words(filters)}, in {where}: "
                             + words + ".",
        source="Risk factors are the yes/no risk flags of the cohort extract; the booking date stands in when no date the risk "
               "was recorded is given. Before birth: conception to the day before birth. The parent-infant "
               "partnership model takes referrals on the basis of risk, so its work can start before birth "
               "(PIP UK).")


def least_followed_up(frame: pd.DataFrame, filters: dict, where: str):
    title = "Which risk factors are least often followed up before birth"
    rows = one_area_or_pooled(frame, filters["area"], ["risk_factor"], "referred_antenatal", "at_risk")
    if rows is None or rows.empty:
        return figure_card("risk-factors", title, figure=None, table=None, summary="")
    rows = rows.rename(columns={"pct": "referred_antenatal_pct"}) if "pct" in rows.columns else rows
    low, high = ("referred_antenatal_ci_low", "referred_antenatal_ci_high") \
        if "referred_antenatal_ci_low" in rows.columns else ("ci_low", "ci_high")
    rows = rows.assign(factor=rows["risk_factor"].map(risk_factor_words)) \
        .sort_values("referred_antenatal_pct", na_position="first", kind="stable")
    named = rows[rows["risk_factor"] != "any"]
    least = named.dropna(subset=["referred_antenatal_pct"]).head(3)
    summary = (f"Families referred before birth, by risk factor, {period_words(filters)}, in {where}: "
               + "; ".join(f"{r.factor} {percent_text(r.referred_antenatal_pct)}" for r in rows.itertuples())
               + (". Least often: " + ", ".join(least["factor"]) + "." if not least.empty else "."))
    shown = rows.drop(columns=[c for c in ("factor", "rows_hidden", "factor_order") if c in rows.columns])
    return figure_card(
        "risk-factors", title,
        figure=bars_with_interval(rows, x="factor", value="referred_antenatal_pct", low=low, high=high,
                                  y_title="% referred before birth", horizontal=True),
        table=people_frame(shown, "risk_pathway" if "referred_antenatal_ci_low" in rows.columns else None),
        summary=summary, source="95% intervals by the Wilson method. A family with several risk factors "
                                "counts under each, so the rows overlap.")


def areas_compared(filters: dict, where: str):
    title = "Families at risk referred before birth, by area"
    result = fetch_metric("risk_pathway", metric_params({**filters, "area": "all"}))
    if not result.ok or result.empty:
        return figure_card("risk-areas", title, figure=None, table=None, summary="", result=result)
    names = area_names()
    rows = result.frame[result.frame["risk_factor"] == "any"].copy()
    rows["area_name"] = rows["area_code"].map(lambda c: names.get(c, c))
    rows = rows.sort_values("referred_antenatal_pct", na_position="first", kind="stable")
    summary = ("Families with any risk factor referred to a targeted or specialist service before birth, "
               f"{period_words(filters)}: " + "; ".join(
                   f"{r.area_name} {percent_text(r.referred_antenatal_pct)} of "
                   f"{'*' if pd.isna(r.at_risk) else f'{int(r.at_risk):,}'}"
                   for r in rows.itertuples()) + ".")
    shown = rows[["area_code", "area_name", "at_risk", "referred_antenatal", "referred_antenatal_pct",
                  "referred_antenatal_ci_low", "referred_antenatal_ci_high", "seen_antenatal",
                  "seen_antenatal_pct", "parent_infant_seen", "parent_infant_seen_pct", "median_days_to_seen"]]
    return figure_card(
        "risk-areas", title,
        figure=bars_with_interval(rows, x="area_name", value="referred_antenatal_pct",
                                  low="referred_antenatal_ci_low", high="referred_antenatal_ci_high",
                                  y_title="% referred before birth", horizontal=True),
        table=people_frame(shown, "risk_pathway"), summary=summary,
        source="Median days to seen: from the risk being recorded to the first attended targeted or "
               "specialist contact.")


def risk_pathway_body(filters: dict) -> list:
    where = area_label(filters, area_names())
    result = fetch_metric("risk_pathway", metric_params(filters))
    if not result.ok or result.empty:
        return [figure_card("risk-steps", "Where families at risk fall out of the pathway", figure=None,
                            table=None, summary="", result=result)]
    return [where_families_fall_out(result.frame, filters, where),
            least_followed_up(result.frame, filters, where), areas_compared(filters, where)]


def layout(**query):
    filters, problems = read_filters(query)
    return page("Risk pathway", "Families with a risk recorded in pregnancy: are they referred and seen "
                "before the baby is born, and does the parent-infant team see them by the first birthday?",
                filters, problems, risk_pathway_body(filters), path=PATH, show=("area", "period"))
