"""Map: an area metric as a choropleth drawn from the configured boundary GeoJSON (settings
boundaries_path / PATHWAY_BOUNDARIES, matched on area codes), or else as a tile map laid out from
the areas list. Hover gives value, interval and comparison; clicking an area sets the area filter.

Polygons are drawn as filled Plotly shapes, so the map needs no tile server or web fonts.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update
from plotly.colors import sample_colorscale

from pathway.statistics import compare_to_benchmark
from pathway.web import ids
from pathway.web.components.charts import FONT, axis, chart, styled
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import page, period_words
from pathway.web.components.summaries import percent_text, pooled
from pathway.web.components.tables import people_frame
from pathway.web.filters import merge_query, metric_params, read_filters
from pathway.web.warehouse import areas, fetch_metric, web_warehouse

PATH = "/map"
dash.register_page(__name__, path=PATH, name="Map", title="Map - Perinatal Pathway Analytics", order=7,
                   description="Area metrics on a map; click an area to choose it")

# (label, metric, value column, numerator, denominator, row filter)
MAP_MEASURES = {
    "specialist_access": ("Specialist perinatal mental health access (% of live births)", "specialist_access",
                          "access_pct", "accessed", "live_births", {}),
    "new_birth_visit": ("New birth visit within 14 days (% of births)", "mandated_contacts", "pct", "numerator",
                        "denominator", {"contact_code": "new_birth_visit"}),
    "postnatal_mood_screening": ("Postnatal mood screening (% of births)", "mood_screening", "pct", "screened",
                                 "cohort", {"stage": "postnatal"}),
    "booked_by_13_weeks": ("Booked by 12 weeks 6 days (% of pregnancies with a booking date and EDD)", "births", "booked_by_13_weeks_pct",
                           "booked_by_13_weeks", "booking_known", {}),
}
SCALE = [[0.0, "#e8f1fa"], [0.5, "#41b6e6"], [1.0, "#003087"]]
# Coordinates rounded to about 10 metres: enough for a county map, and a much smaller page.
COORDINATE_DECIMALS = 4


def map_values(filters: dict, measure: str) -> tuple[pd.DataFrame | None, object]:
    """One row per area: value, ci_low, ci_high, comparison (with all areas pooled)."""
    label, metric, value, numerator, denominator, row_filter = MAP_MEASURES[measure]
    result = fetch_metric(metric, metric_params({**filters, "area": "all"}))
    if not result.ok or result.empty:
        return None, result
    frame = result.frame
    for column, wanted in row_filter.items():
        frame = frame[frame[column] == wanted]
    benchmark = pooled(frame, [], numerator, denominator)
    bench = float(benchmark["pct"].iloc[0]) if len(benchmark) else float("nan")
    out = pd.DataFrame({"area_code": frame["area_code"], "value": pd.to_numeric(frame[value], errors="coerce"),
                        "ci_low": pd.to_numeric(frame["ci_low"], errors="coerce"),
                        "ci_high": pd.to_numeric(frame["ci_high"], errors="coerce")})
    out["comparison"] = compare_to_benchmark(out["value"], out["ci_low"], out["ci_high"], bench)
    out["benchmark"] = bench
    return out.reset_index(drop=True), result


def _code_property(features: list[dict], codes: set[str]) -> str | None:
    counts: dict[str, int] = {}
    for feature in features:
        for key, value in (feature.get("properties") or {}).items():
            if isinstance(value, str) and value in codes:
                counts[key] = counts.get(key, 0) + 1
    return max(counts, key=counts.get) if counts else None


def _rounded(coordinates):
    if isinstance(coordinates[0], (int, float)):
        return [round(coordinates[0], COORDINATE_DECIMALS), round(coordinates[1], COORDINATE_DECIMALS)]
    return [_rounded(c) for c in coordinates]


@lru_cache(maxsize=4)
def _boundaries(path: str, modified: float, codes: tuple[str, ...]) -> dict[str, list]:
    """Area code -> list of rings (each a list of [lon, lat]) for the areas in `codes`."""
    with open(path, encoding="utf-8") as handle:
        features = json.load(handle).get("features", [])
    wanted = set(codes)
    key = _code_property(features, wanted)
    if key is None:
        return {}
    rings: dict[str, list] = {}
    for feature in features:
        code = (feature.get("properties") or {}).get(key)
        geometry = feature.get("geometry") or {}
        if code not in wanted or not geometry:
            continue
        polygons = geometry["coordinates"] if geometry.get("type") == "MultiPolygon" else [geometry.get("coordinates", [])]
        # The outer ring of each polygon is enough to colour an area; holes are rare and tiny here.
        rings[code] = [_rounded(polygon[0]) for polygon in polygons if polygon]
    return rings


def boundaries_for(codes: list[str], path: Path | None) -> dict[str, list]:
    if not path or not Path(path).is_file():
        return {}
    return _boundaries(str(path), Path(path).stat().st_mtime, tuple(sorted(codes)))


def _colour(value: float, low: float, high: float) -> str:
    if pd.isna(value):
        return "#d8dde0"
    share = 0.5 if high <= low else (value - low) / (high - low)
    return sample_colorscale(SCALE, [min(max(share, 0.0), 1.0)])[0]


def _hover(row, name: str) -> str:
    if pd.isna(row.value):
        return f"{name}: * (suppressed or no data)"
    return (f"{name}: {row.value:.1f}% (95% CI {row.ci_low:.1f} to {row.ci_high:.1f}); "
            f"{row.comparison} compared with all areas ({row.benchmark:.1f}%)")


def choropleth(values: pd.DataFrame, names: dict, rings: dict[str, list], selected: str) -> dict:
    traces = []
    low, high = values["value"].min(), values["value"].max()
    for row in values.itertuples():
        for ring in rings.get(row.area_code, []):
            lon, lat = zip(*ring)
            chosen = row.area_code == selected
            traces.append({
                "type": "scatter", "x": list(lon), "y": list(lat), "mode": "lines", "fill": "toself",
                "fillcolor": _colour(row.value, low, high),
                "line": {"color": "#212b32" if chosen else "#ffffff", "width": 3 if chosen else 0.7},
                "customdata": [row.area_code] * len(lon), "hoveron": "fills", "showlegend": False,
                "text": _hover(row, names.get(row.area_code, row.area_code)), "hoverinfo": "text"})
    mid_lat = sum(y for r in rings.values() for ring in r for _, y in ring[:1]) / max(1, sum(len(r) for r in rings.values()))
    figure = chart(traces)
    axis(figure, "xaxis", visible=False)
    axis(figure, "yaxis", visible=False, scaleanchor="x", scaleratio=1 / max(0.2, math.cos(math.radians(mid_lat))))
    return styled(figure, height=560)


def tile_map(values: pd.DataFrame, names: dict, area_list: pd.DataFrame, selected: str) -> dict:
    """Squares in rows of up to eight, grouped by ICB then name, each labelled with its value."""
    ordered = area_list.sort_values(["icb_name", "area_name"], na_position="last")
    frame = ordered.merge(values, on="area_code", how="left").reset_index(drop=True)
    width = min(8, max(1, math.ceil(math.sqrt(len(frame)))))
    frame["col"], frame["row"] = frame.index % width, frame.index // width
    low, high = frame["value"].min(), frame["value"].max()
    labels = [f"{(name or code)[:12]}<br>{'*' if pd.isna(v) else f'{v:.0f}%'}"
              for code, name, v in zip(frame["area_code"], frame["area_name"], frame["value"])]
    figure = chart([{
        "type": "scatter", "x": frame["col"].tolist(), "y": frame["row"].tolist(), "mode": "markers+text",
        "text": labels, "textfont": {"family": FONT, "size": 11, "color": "#212b32"},
        "marker": {"symbol": "square", "size": 78, "color": [_colour(v, low, high) for v in frame["value"]],
                   "line": {"width": [4 if c == selected else 1 for c in frame["area_code"]], "color": "#212b32"}},
        "customdata": frame["area_code"].tolist(),
        "hovertext": [_hover(r, names.get(r.area_code, r.area_code)) for r in frame.itertuples()],
        "hoverinfo": "text", "showlegend": False}])
    axis(figure, "xaxis", visible=False, range=[-0.6, width - 0.4])
    axis(figure, "yaxis", visible=False, autorange="reversed")
    return styled(figure, height=max(260, 95 * (int(frame["row"].max()) + 1 if len(frame) else 1) + 40))


def map_card(filters: dict, measure: str):
    label = MAP_MEASURES[measure][0]
    values, result = map_values(filters, measure)
    if values is None or values.empty:
        return figure_card("map", label, figure=None, table=None, summary="", result=result)
    area_list = areas()
    names = dict(zip(area_list["area_code"], area_list["area_name"]))
    boundaries_path = web_warehouse().settings.boundaries_path
    rings = boundaries_for(list(values["area_code"]), boundaries_path)
    selected = filters.get("area", "all")
    if rings:
        figure, kind = choropleth(values, names, rings, selected), f"Boundaries from {Path(boundaries_path).name}."
    else:
        figure = tile_map(values, names, area_list, selected)
        kind = ("No boundary file is configured (set PATHWAY_BOUNDARIES to a GeoJSON with area codes), so areas "
                "are drawn as tiles." if not boundaries_path else
                f"No area code in {Path(boundaries_path).name} matches the areas list, so areas are drawn as tiles.")
    table = values.assign(area_name=values["area_code"].map(lambda c: names.get(c, c)))
    summary = f"{label} for {period_words(filters)}, by area: " + "; ".join(
        f"{names.get(r.area_code, r.area_code)} {percent_text(r.value)} ({r.comparison})"
        for r in values.itertuples()) + ". Select an area on the map, or in the filter above, to choose it."
    graph_note = html.P(kind, className="pathway-source")
    return figure_card("map", label, figure=figure, extra=graph_note,
                       table=people_frame(table[["area_code", "area_name", "value", "ci_low", "ci_high", "comparison"]]),
                       summary=summary, source="Colour runs from light (lowest) to dark blue (highest); every value "
                                               "is also in the hover text and the table.")


def area_from_click(click_data: dict | None) -> str | None:
    try:
        code = click_data["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return None
    return code if isinstance(code, str) else None


@callback(Output(ids.URL, "search", allow_duplicate=True),
          Input({"type": ids.CARD_GRAPH_TYPE, "card": "map"}, "clickData"), State(ids.URL, "search"),
          prevent_initial_call=True)
def choose_area_on_map(click_data, search):
    code = area_from_click(click_data)
    return merge_query(search, {"area": code}) if code else no_update


@callback(Output("map-card", "children"), Input(ids.MAP_METRIC, "value"), State(ids.URL, "search"),
          prevent_initial_call=True)
def change_map_measure(measure, search):
    from pathway.web.filters import filters_from_query
    return map_card(filters_from_query(search), measure if measure in MAP_MEASURES else "specialist_access")


def layout(**query):
    import dash_bootstrap_components as dbc

    filters, problems = read_filters(query)
    options = [{"label": spec[0], "value": key} for key, spec in MAP_MEASURES.items()]
    body = [html.Div([dbc.Label("Measure", html_for=ids.MAP_METRIC, className="pathway-filter__label"),
                      dbc.Select(id=ids.MAP_METRIC, options=options, value="specialist_access")],
                     className="mb-3", style={"maxWidth": "32rem"}),
            dcc.Loading(html.Div(map_card(filters, "specialist_access"), id="map-card"))]
    return page("Map", "Each area's figure on a map. Hover for the value, its interval and how it compares; "
                "click an area to choose it.", filters, problems, body, path=PATH, show=("area", "period"))
