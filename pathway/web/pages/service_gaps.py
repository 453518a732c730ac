"""Service gaps: the area × stage × tier matrix as a heatmap with flags and unmet people, and a
sortable table, so a commissioner sees at a glance where the pathway breaks."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import html

from pathway.web.components.charts import FONT, styled
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import area_label, area_names, page, period_words, stage_order, tier_order
from pathway.web.components.tables import label, people_frame
from pathway.web.filters import metric_params, narrow, read_filters
from pathway.web.warehouse import areas, fetch_metric

PATH = "/service-gaps"
dash.register_page(__name__, path=PATH, name="Service gaps", title="Service gaps - Perinatal Pathway Analytics",
                   order=5, description="Where the pathway breaks: area by stage by tier")

# Flags are shown as words and symbols as well as colour (WCAG 1.4.1).
FLAG_MARK = {"no_service": "✕ no service", "below_benchmark": "▼ below", "ok": "✓ ok"}
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


def heatmap(frame: pd.DataFrame, names: dict) -> go.Figure:
    frame = frame.assign(column=frame["stage"].str.capitalize() + " · " + frame["tier"],
                         area=frame["area_code"].map(lambda c: names.get(c, c)))
    columns = list(dict.fromkeys(frame["column"]))
    rows = list(dict.fromkeys(frame["area"]))
    pct = frame.pivot_table(index="area", columns="column", values="pct", aggfunc="first") \
        .reindex(index=rows, columns=columns)
    marks = frame.assign(text=[
        ("*" if pd.isna(p) else f"{p:.0f}%") + "<br>" + FLAG_MARK.get(f, str(f))
        for p, f in zip(pd.to_numeric(frame["pct"], errors="coerce"), frame["flag"])]) \
        .pivot_table(index="area", columns="column", values="text", aggfunc="first") \
        .reindex(index=rows, columns=columns)
    figure = go.Figure(go.Heatmap(
        z=pct.to_numpy(dtype=float), x=columns, y=rows, text=marks.to_numpy(), texttemplate="%{text}",
        textfont={"family": FONT, "size": 11}, colorscale=HEAT_SCALE, zmin=0, zmax=100,
        colorbar={"title": {"text": "% reached"}}, xgap=2, ygap=2,
        hovertemplate="%{y}<br>%{x}: %{z:.1f}% reached<extra></extra>"))
    figure.update_xaxes(side="top", tickangle=-30)
    figure.update_yaxes(autorange="reversed")
    return styled(figure, height=max(320, 60 + 48 * len(rows)))


def gaps_grid(table: pd.DataFrame) -> dag.AgGrid:
    """A sortable, filterable grid of the same rows (keyboard navigable)."""
    return dag.AgGrid(
        id="service-gaps-grid",
        rowData=table.to_dict("records"),
        columnDefs=[{"field": c, "headerName": label(c), "sortable": True, "filter": True} for c in table.columns],
        defaultColDef={"resizable": True, "minWidth": 110},
        dashGridOptions={"domLayout": "autoHeight", "pagination": True, "paginationPageSize": 20},
        columnSize="responsiveSizeToFit", style={"width": "100%"},
    )


def service_gaps_body(filters: dict) -> list:
    names = area_names()
    where = area_label(filters, names)
    frame, result = gap_rows(filters)
    title = "Reach by area, stage and tier, against the benchmark"
    if frame is None or frame.empty:
        return [figure_card("service-gaps", title, figure=None, table=None, summary="",
                            result=result if frame is None else None)]
    table = people_frame(frame.assign(area_name=frame["area_code"].map(lambda c: names.get(c, c)))
                         [["area_code", "area_name", "stage", "tier", "pct", "benchmark_pct", "gap_pp",
                           "unmet", "flag"]], None)
    flagged = frame[frame["flag"] != "ok"]
    summary = (f"{len(flagged)} of {len(frame)} area, stage and tier cells for {period_words(filters)} in {where} "
               f"are below their benchmark or have no service. ")
    worst = flagged.assign(_u=pd.to_numeric(flagged["unmet"], errors="coerce")).sort_values("_u", ascending=False).head(3)
    if not worst.empty:
        summary += "Most people unmet: " + "; ".join(
            f"{names.get(r.area_code, r.area_code)} {r.tier} {r.stage} ({str(r.flag).replace('_', ' ')})"
            for r in worst.itertuples()) + "."
    return [figure_card("service-gaps", title, figure=heatmap(frame, names), table=table, summary=summary,
                        extra=html.Div([html.H3("Sort and filter the gaps", className="h5 mt-3"), gaps_grid(table)]),
                        source="Benchmark: the median of all areas (or a standard in reference data). Flags: "
                               "✕ no service, ▼ below benchmark, ✓ ok. Unmet: people below the benchmark.")]


def layout(**query):
    filters, problems = read_filters(query)
    return page("Service gaps", "Each cell is the share of births reached by a tier of service in a stage of the "
                "pathway, flagged against the benchmark, with the number of people it leaves unmet.",
                filters, problems, service_gaps_body(filters), path=PATH, show=("area", "period", "stage", "tier"))
