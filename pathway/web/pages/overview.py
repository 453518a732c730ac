"""Overview: the area's births, reach along the pathway from preconception to age one, a
stage-by-stage funnel of reach, and the three largest service gaps, each linking on."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from pathway.web import ids
from pathway.web.components.charts import bars_with_interval, funnel_steps
from pathway.web.components.figure_card import figure_card
from pathway.web.components.messages import empty_state, error_state
from pathway.web.components.page import (area_label, area_names, page, period_words, stage_labels,
                                         stage_order, stage_words)
from pathway.web.components.summaries import left_out_words, one_area_or_pooled, percent_text
from pathway.web.components.tables import people_frame
from pathway.web.filters import metric_params, query_string, read_filters
from pathway.web.warehouse import fetch_metric

PATH = "/"
dash.register_page(__name__, path=PATH, name="Overview", title="Overview - Perinatal Pathway Analytics",
                   order=0, description="Births, reach along the pathway and the largest gaps")


def _number(value) -> str:
    return "*" if value is None or pd.isna(value) else f"{value:,.0f}"


def headline_figures(filters: dict) -> list[dict]:
    """The headline tiles: label, value in words, and what it covers."""
    params = metric_params(filters)
    tiles = []
    births = fetch_metric("births", params)
    if births.ok and not births.empty:
        frame = one_area_or_pooled(births.frame, filters["area"], [], "booked_by_13_weeks", "booking_known")
        total_births = pd.to_numeric(births.frame["live_births"], errors="coerce")
        hidden = int(total_births.isna().sum())
        value = _number(total_births.sum()) if filters["area"] == "all" or len(births.frame) > 1 else \
            _number(total_births.iloc[0])
        left_out = left_out_words(births.frame, ["live_births"], noun="areas") if len(births.frame) > 1 else ""
        tiles.append({"label": "Live births", "value": value,
                      "note": left_out if hidden and left_out else period_words(filters)})
        tiles.append({"label": "Booked by 12 weeks 6 days", "value": percent_text(frame["pct"].iloc[0]
                      if "pct" in frame.columns else frame["booked_by_13_weeks_pct"].iloc[0]),
                      "note": "of pregnancies"})
    access = fetch_metric("specialist_access", params)
    if access.ok and not access.empty:
        frame = one_area_or_pooled(access.frame, filters["area"], [], "accessed", "live_births")
        pct = frame["pct"].iloc[0] if "pct" in frame.columns else frame["access_pct"].iloc[0]
        tiles.append({"label": "Specialist perinatal mental health access", "value": percent_text(pct),
                      "note": "of live births, assessed or treated"})
    mood = fetch_metric("mood_screening", params)
    if mood.ok and not mood.empty:
        frame = one_area_or_pooled(mood.frame, filters["area"], ["stage"], "screened", "cohort")
        for row in frame.itertuples():
            tiles.append({"label": f"Mood screened, {stage_words(row.stage).lower()}",
                          "value": percent_text(row.pct),
                          "note": "Whooley, GAD-2, EPDS or PHQ-9"})
    return tiles


def reach_by_stage(filters: dict) -> tuple[pd.DataFrame | None, object]:
    """Stage × tier reach for the area (pooled over areas for 'all'), in pathway order."""
    result = fetch_metric("stage_reach", metric_params(filters))
    if not result.ok or result.empty:
        return None, result
    frame = one_area_or_pooled(result.frame, filters["area"], ["stage", "tier"], "reached", "cohort")
    order = {stage: i for i, stage in enumerate(stage_order())}
    frame = frame.assign(_order=frame["stage"].map(order)).sort_values(["_order"], kind="stable")
    return frame.drop(columns="_order"), result


# The service_gaps metric's flags that mean a gap (ok and no_cohort do not).
GAP_FLAGS = ("no_service", "below_benchmark")
FLAG_WORDS = {"no_service": "no service", "below_benchmark": "below the benchmark", "ok": "at or above the benchmark"}


def largest_gaps(filters: dict, count: int = 3) -> tuple[pd.DataFrame | None, object]:
    """The service_gaps metric's flagged cells (no_service or below_benchmark) with the most unmet people.

    The gap, the benchmark and the unmet people are the metric's own columns: nothing is worked out here."""
    result = fetch_metric("service_gaps", metric_params(filters))
    if not result.ok or result.empty:
        return None, result
    frame = result.frame[result.frame["flag"].isin(GAP_FLAGS)].copy()
    # A gap every area shares (no one reached anywhere, so a benchmark of 0) is listed apart.
    frame = frame[pd.to_numeric(frame["benchmark_pct"], errors="coerce").fillna(0) > 0]
    frame["_unmet"] = pd.to_numeric(frame["unmet"], errors="coerce").fillna(-1)
    frame["_gap"] = pd.to_numeric(frame["gap_pp"], errors="coerce").fillna(-1)
    return frame.sort_values(["_unmet", "_gap"], ascending=False, kind="stable").head(count) \
        .drop(columns=["_unmet", "_gap"]), result


def shared_gaps(filters: dict) -> list[str]:
    """Stage and tier cells no area reaches at all ('no services for targeted preconception care anywhere')."""
    result = fetch_metric("service_gaps", metric_params({**filters, "area": "all"}))
    if not result.ok or result.empty:
        return []
    frame = result.frame
    benchmark = pd.to_numeric(frame["benchmark_pct"], errors="coerce").fillna(0)
    shared = frame[(frame["flag"] == "no_service") & (benchmark == 0)]
    cells = shared.drop_duplicates(["stage", "tier"])
    return [f"{row.tier} services in the {stage_words(row.stage).lower()} stage" for row in cells.itertuples()]


def gap_links(gaps: pd.DataFrame, filters: dict, names: dict) -> html.Ol:
    items = []
    for row in gaps.itertuples():
        link_filters = {**filters, "area": row.area_code, "stage": row.stage, "tier": row.tier}
        unmet_count = pd.to_numeric(row.unmet, errors="coerce")
        unmet = (f"about {_number(unmet_count)} people unmet" if pd.notna(unmet_count) else
                 "people unmet: * (hidden by disclosure control)")
        words = (f"{names.get(row.area_code, row.area_code)}: {row.tier} services in the "
                 f"{stage_words(row.stage).lower()} "
                 f"stage reach {percent_text(pd.to_numeric(row.pct, errors='coerce'))} against a benchmark of "
                 f"{percent_text(pd.to_numeric(row.benchmark_pct, errors='coerce'))} "
                 f"({FLAG_WORDS.get(row.flag, row.flag)}; {unmet})")
        items.append(html.Li(dcc.Link(words, href="/service-gaps" + query_string(link_filters))))
    return html.Ol(items, id=ids.OVERVIEW_GAPS)


def overview_body(filters: dict) -> list:
    names = area_names()
    where = area_label(filters, names)
    tiles = headline_figures(filters)
    body = [html.Section([
        html.H2(f"Headlines for {where}", className="h4"),
        dbc.Row([dbc.Col(html.Div([html.P(t["value"], className="pathway-headline__value"),
                                   html.P(t["label"], className="pathway-headline__label"),
                                   html.P(t["note"], className="pathway-source")],
                                  className="pathway-headline"), xs=12, sm=6, lg=3, className="mb-3")
                 for t in tiles], className="g-3") if tiles else empty_state(),
    ], className="mb-4", **{"aria-label": "Headline figures"})]

    reach, result = reach_by_stage(filters)
    table = people_frame(reach.drop(columns=[c for c in ("rows_hidden",) if c in reach.columns]), None) \
        if reach is not None else None
    summary = ""
    if reach is not None and not reach.empty:
        parts = [f"{stage_words(r.stage)}, {r.tier} {percent_text(r.pct)}" for r in reach.itertuples()]
        summary = (f"Share of {period_words(filters)} in {where} reached by an attended service of each "
                   f"tier in each stage of the pathway: " + "; ".join(parts) + ".")
    body.append(figure_card(
        "overview-reach", "Reach along the pathway, by stage and tier",
        figure=bars_with_interval(reach, x="stage", series="tier", x_labels=stage_labels(),
                                  y_title="% of births reached")
        if reach is not None and not reach.empty else None,
        table=table, summary=summary, result=result if reach is None else None,
        source="Reach: at least one attended screening, assessment, contact or intervention in the stage "
               "(the same reach as the Coverage view). Error bars are 95% Wilson intervals."))

    if reach is not None and not reach.empty:
        universal = reach[reach["tier"] == "universal"]
        if not universal.empty:
            cohort = pd.to_numeric(universal["cohort"], errors="coerce").max()
            labels = ["Births in the period"] + [f"Reached, {stage_words(s)}" for s in universal["stage"]]
            values = [cohort] + list(pd.to_numeric(universal["reached"], errors="coerce"))
            steps = pd.DataFrame({"step": labels, "people": values})
            body.append(figure_card(
                "overview-funnel", "Reach by universal services, stage by stage",
                figure=funnel_steps(labels, values, title_text="People"),
                table=people_frame(steps), summary="People reached by universal services at each stage: "
                + "; ".join(f"{l} {_number(v)}" for l, v in zip(labels, values)) + "."))

    gaps, gaps_result = largest_gaps(filters)
    if gaps is None:
        gaps_block = error_state(gaps_result.message) if gaps_result.message else empty_state()
    elif gaps.empty:
        gaps_block = empty_state("No gaps: every stage and tier is at or above its benchmark.")
    else:
        gaps_block = gap_links(gaps, filters, names)
    common = shared_gaps(filters)
    shared_block = html.P("No area reaches anyone with " + "; ".join(common) + ": a gap every area shares, "
                          "which a comparison with the other areas cannot show.", id="overview-shared-gaps") \
        if common else None
    body.append(dbc.Card(dbc.CardBody([html.H2("The three largest gaps", className="h4"),
                                       html.P("Where most people miss out, against the median of all "
                                              "areas (or a reach standard where one is set). Each links to "
                                              "the service gaps view."),
                                       gaps_block, shared_block]), className="pathway-card mb-4"))
    return body


def layout(**query):
    filters, problems = read_filters(query)
    return page("Overview", "Births, reach along the perinatal pathway from preconception to the "
                "infant's first birthday, and where the pathway breaks.",
                filters, problems, overview_body(filters), path=PATH, show=("area", "period"))
