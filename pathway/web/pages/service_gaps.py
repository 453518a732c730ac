"""Service gaps: the area × stage × tier matrix as a heatmap with flags and unmet people, and a
sortable table, so a commissioner sees at a glance where the pathway breaks."""

from __future__ import annotations

import dash
import pandas as pd
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from pathway.web import ids

from pathway.web.components.charts import FONT, axis, chart, numbers, styled
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import (area_label, area_names, page, period_words, stage_labels,
                                         stage_order, stage_words, tier_order)
from pathway.web.components.tables import html_table, people_frame
from pathway.web.filters import filters_from_query, metric_params, narrow, read_filters
from pathway.web.indicators import metric_definition
from pathway.web.warehouse import areas, fetch_metric

PATH = "/service-gaps"
dash.register_page(__name__, path=PATH, name="Service gaps", title="Service gaps - Perinatal Pathway Analytics",
                   order=5, description="Where the pathway breaks: area by stage by tier")

# The service_gaps flags that mean a gap (ok, and no_cohort where there are no births to judge, do not).
GAP_FLAGS = ("no_service", "below_benchmark")
# Flags are shown as words and symbols as well as colour (WCAG 1.4.1).
FLAG_MARK = {"no_service": "✕ no service", "below_benchmark": "▼ below", "ok": "✓ ok", "no_cohort": "no births"}
# The flag column of the tables, in words.
FLAG_WORDS = {"no_service": "✕ no service", "below_benchmark": "▼ below the benchmark",
              "ok": "✓ at or above the benchmark", "no_cohort": "no births to judge"}
# A sequential blue scale, light to NHS dark blue; text colour is chosen per cell for contrast.
HEAT_SCALE = [[0.0, "#f0f4f5"], [0.5, "#41b6e6"], [1.0, "#003087"]]


def gap_rows(filters: dict) -> tuple[pd.DataFrame | None, object]:
    """service_gaps rows for the filter (all areas of an ICB when an ICB is chosen), in pathway order."""
    area = filters["area"]
    result = fetch_metric("service_gaps", metric_params({**filters, "area": "all"}))
    if not result.ok or result.empty:
        return None, result
    frame = result.frame
    if area != "all":
        members = set(areas().query("icb_code == @area")["area_code"]) | {area}
        frame = frame[frame["area_code"].isin(members)]
    frame = narrow(frame, filters, ("stage", "tier"))
    stages = {s: i for i, s in enumerate(stage_order())}
    tiers = {t: i for i, t in enumerate(tier_order())}
    frame = frame.assign(_s=frame["stage"].map(stages), _t=frame["tier"].map(tiers)) \
        .sort_values(["area_code", "_s", "_t"], kind="stable").drop(columns=["_s", "_t"])
    return frame, result


def heatmap(frame: pd.DataFrame, names: dict) -> dict:
    """Areas down, stage · tier across; each cell its reach and its flag in words (not colour alone)."""
    row_labels = [names.get(c, c) for c in frame["area_code"]]
    stages = stage_labels()  # once, not per cell: each read asks the data version twice
    column_labels = [f"{stages.get(stage, stage)} · {tier}" for stage, tier in zip(frame["stage"], frame["tier"])]
    rows, columns = list(dict.fromkeys(row_labels)), list(dict.fromkeys(column_labels))
    cells: dict[tuple[str, str], tuple] = {}
    for row, column, pct, flag in zip(row_labels, column_labels, numbers(frame["pct"]), frame["flag"]):
        # One row per area, stage and tier; should a name repeat, the first reach shown wins.
        if cells.get((row, column), (None,))[0] is None:
            cells[(row, column)] = (pct, ("*" if pct is None else f"{pct:.0f}%") + "<br>" + FLAG_MARK.get(flag, str(flag)))
    empty = (None, None)
    figure = chart([{
        "type": "heatmap", "x": columns, "y": rows,
        "z": [[cells.get((r, c), empty)[0] for c in columns] for r in rows],
        "text": [[cells.get((r, c), empty)[1] for c in columns] for r in rows], "texttemplate": "%{text}",
        "textfont": {"family": FONT, "size": 11}, "colorscale": HEAT_SCALE, "zmin": 0, "zmax": 100,
        "colorbar": {"title": {"text": "% reached"}}, "xgap": 2, "ygap": 2,
        "hovertemplate": "%{y}<br>%{x}: %{z}% reached<extra></extra>"}])
    axis(figure, "xaxis", side="top", tickangle=-30)
    axis(figure, "yaxis", autorange="reversed")
    # The stage and tier labels stand rotated above the cells: room for them comes on top of the rows.
    return styled(figure, height=max(400, 190 + 48 * len(rows)))


# How the gaps table can be sorted: (label, column, smallest first). Suppressed cells sort last.
SORTS = {"unmet": ("Most people unmet", "unmet", False), "gap": ("Largest gap", "gap_pp", False),
         "reach": ("Lowest reach", "pct", True), "area": ("Area, stage and tier", None, True)}
SHOW = {"gaps": "Gaps against the benchmark (no service or below it)",
        "shared": "Gaps every area shares (no one reached anywhere)", "all": "Every cell"}
TABLE_COLUMNS = ["area_code", "area_name", "stage", "tier", "pct", "benchmark_pct", "gap_pp", "unmet", "flag"]


def is_shared_gap(frame: pd.DataFrame) -> pd.Series:
    """Cells with no service where no area reaches anyone (a benchmark of 0): a gap every area shares,
    which a median benchmark alone would call 'ok'."""
    benchmark = pd.to_numeric(frame["benchmark_pct"], errors="coerce").fillna(0)
    return (frame["flag"] == "no_service") & (benchmark == 0)


def sorted_gap_rows(frame: pd.DataFrame, names: dict, sort: str, show: str) -> pd.DataFrame:
    """The rows as people see them, in the chosen order (a native table, so no grid script to load)."""
    shared = is_shared_gap(frame)
    if show == "gaps":
        frame = frame[frame["flag"].isin(GAP_FLAGS) & ~shared]
    elif show == "shared":
        frame = frame[shared]
    _, column, ascending = SORTS.get(sort, SORTS["unmet"])
    if column:
        frame = frame.assign(_key=pd.to_numeric(frame[column], errors="coerce")) \
            .sort_values("_key", ascending=ascending, na_position="last", kind="stable").drop(columns="_key")
    return flag_words(people_frame(frame.assign(area_name=frame["area_code"].map(lambda c: names.get(c, c)),
                                                stage=frame["stage"].map(stage_labels()).fillna(frame["stage"]))
                                   [TABLE_COLUMNS], None))


def flag_words(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(flag=frame["flag"].map(lambda f: FLAG_WORDS.get(f, f))) if "flag" in frame.columns else frame


def gaps_table(filters: dict, sort: str = "unmet", show: str = "gaps") -> html.Div:
    frame, result = gap_rows(filters)
    if frame is None or frame.empty:
        return html.P(result.message or "No data for this filter.")
    rows = sorted_gap_rows(frame, area_names(), sort, show)
    if rows.empty:
        return html.P("No gaps: every cell is at or above its benchmark.", role="status")
    return html_table(rows, caption=f"Service gaps, sorted by {SORTS.get(sort, SORTS['unmet'])[0].lower()}")


def gaps_table_controls(sort: str = "unmet", show: str = "gaps") -> dbc.Row:
    def select(component_id, text, choices, value):
        return dbc.Col([dbc.Label(text, html_for=component_id, className="pathway-filter__label"),
                        dbc.Select(id=component_id, value=value,
                                   options=[{"label": v if isinstance(v, str) else v[0], "value": k}
                                            for k, v in choices.items()])], xs=12, sm=6, lg=4)
    return dbc.Row([select(ids.GAPS_SORT, "Sort by", SORTS, sort), select(ids.GAPS_SHOW, "Show", SHOW, show)],
                   className="g-2 mb-2")


@callback(Output(ids.GAPS_TABLE, "children"), Input(ids.GAPS_SORT, "value"), Input(ids.GAPS_SHOW, "value"),
          State(ids.URL, "search"), prevent_initial_call=True)
def sort_gaps_table(sort, show, search):
    return gaps_table(filters_from_query(search), sort, show)


def service_gaps_body(filters: dict) -> list:
    names = area_names()
    where = area_label(filters, names)
    frame, result = gap_rows(filters)
    title = "Reach by area, stage and tier, against the benchmark"
    if frame is None or frame.empty:
        return [figure_card("service-gaps", title, figure=None, table=None, summary="",
                            result=result if frame is None else None)]
    table = flag_words(people_frame(frame.assign(area_name=frame["area_code"].map(lambda c: names.get(c, c)))
                                    [["area_code", "area_name", "stage", "tier", "pct", "benchmark_pct", "gap_pp",
                                      "unmet", "flag", "benchmark_source"]], None))
    shared = is_shared_gap(frame)
    flagged = frame[frame["flag"].isin(GAP_FLAGS) & ~shared]
    summary = (f"{len(flagged)} of {len(frame)} area, stage and tier cells for {period_words(filters)} in {where} "
               f"are below their benchmark or have no service where other areas have one. ")
    if shared.any():
        cells = frame[shared].drop_duplicates(["stage", "tier"])
        summary += ("No area reaches anyone with " + "; ".join(
            f"{r.tier} services in the {stage_words(r.stage).lower()} stage"
            for r in cells.itertuples()) + ": a gap every area shares. ")
    worst = flagged.assign(_u=pd.to_numeric(flagged["unmet"], errors="coerce")).sort_values("_u", ascending=False).head(3)
    if not worst.empty:
        summary += "Most people unmet: " + "; ".join(
            f"{names.get(r.area_code, r.area_code)} {r.tier} {stage_words(r.stage).lower()} "
            f"({FLAG_WORDS.get(r.flag, r.flag)[2:]})"
            for r in worst.itertuples()) + "."
    return [figure_card("service-gaps", title, figure=heatmap(frame, names), table=table, summary=summary,
                        extra=html.Div([html.H3("Sort the gaps", className="h5 mt-3"), gaps_table_controls(),
                                        html.Div(gaps_table(filters), id=ids.GAPS_TABLE, **{"aria-live": "polite"})]),
                        source="Benchmark: the median of all areas, or the reach standard in the reference data "
                               "where one is set and higher. Flags: ✕ no service (nobody reached, even where no "
                               "area reaches anyone), ▼ below the benchmark (the 95% interval wholly below it), "
                               "✓ at or above it. Unmet: people below the benchmark. Coverage compares reach with "
                               "the same benchmark.",
                        definition=metric_definition("service_gaps", period_words(filters),
                                                     numerator="live births reached by an attended service of the "
                                                               "tier in the stage",
                                                     denominator="live births in the period with a year of follow-up"))]


def layout(**query):
    filters, problems = read_filters(query)
    return page("Service gaps", "Each cell is the share of births reached by a tier of service in a stage of the "
                "pathway, flagged against the benchmark, with the number of people it leaves unmet.",
                filters, problems, service_gaps_body(filters), path=PATH, show=("area", "period", "stage", "tier"))
