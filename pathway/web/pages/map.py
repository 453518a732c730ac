"""Map: an area indicator as a choropleth. The boundaries come from PATHWAY_BOUNDARIES (any GeoJSON
with area codes in its properties) when set, else from the generalised ONS boundaries of England shipped
with the package (ICBs, sub-ICB locations, local authorities: data/boundaries), matched on area codes;
the synthetic demo's X-codes get the demo's own made-up geography; any other codes are drawn as tiles.
Hover gives value, interval and comparison; clicking an area sets the area filter.

Polygons are filled Plotly scatter shapes on plain axes, which the cartesian bundle in assets/ draws:
no geo bundle, no tile server, no web fonts.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import dash
import pandas as pd
from dash import Input, Output, State, callback, html, no_update
from plotly.colors import sample_colorscale

from pathway.resources import boundaries_dir
from pathway.web import ids
from pathway.web.components.charts import FONT, NHS_BLACK, axis, chart, styled
from pathway.web.components.figure_card import figure_card, loading
from pathway.web.components.page import page, period_words
from pathway.web.components.summaries import percent_text
from pathway.web.components.tables import people_frame
from pathway.web.filters import merge_query, metric_params, read_filters
from pathway.web.indicators import COMPARISON_STYLE, INDICATORS, area_values, definition_panel, polarity_words, \
    significance_key
from pathway.web.pages._pickers import chosen_measure, keep_measure_in_url
from pathway.web.warehouse import areas, fetch_metric, web_warehouse

PATH = "/map"
dash.register_page(__name__, path=PATH, name="Map", title="Map - Perinatal Pathway Analytics", order=7,
                   description="Area metrics on a map; click an area to choose it")

MAP_INDICATORS = ("specialist_access", "new_birth_visit", "postnatal_mood_screening", "booked_by_13_weeks",
                  "six_eight_week_review", "twelve_month_review")
# Kept for callers that name the map's measures: key -> (label, ...) as before.
MAP_MEASURES = {key: (INDICATORS[key].label,) for key in MAP_INDICATORS}
SCALE = [[0.0, "#e8f1fa"], [0.5, "#41b6e6"], [1.0, "#003087"]]
COLOUR_BY = {"value": "Colour by value", "comparison": "Colour by comparison with all areas"}
# Coordinates rounded to about 10 metres: enough for a county map, and a much smaller page.
COORDINATE_DECIMALS = 4
ATTRIBUTION = ("Source: Office for National Statistics licensed under the Open Government Licence "
               "v.3.0. Contains OS data © Crown copyright and database right 2024.")


def map_values(filters: dict, measure: str) -> tuple[pd.DataFrame | None, object]:
    """One row per area: value, ci_low, ci_high, comparison (with all areas pooled) and benchmark."""
    indicator = INDICATORS[measure]
    result = fetch_metric(indicator.metric, metric_params({**filters, "area": "all"}))
    if not result.ok or result.empty:
        return None, result
    out, benchmark = area_values(result.frame, indicator)
    out["benchmark"] = benchmark if benchmark is not None else float("nan")
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


def shipped_boundaries(codes: list[str]) -> tuple[dict[str, list], str | None]:
    """The shipped ONS layer (ICB, sub-ICB, district, county) that matches most of the codes: (rings, file)."""
    try:
        folder = boundaries_dir()
    except FileNotFoundError:
        return {}, None
    best, best_name = {}, None
    for path in sorted(folder.glob("*.geojson")):
        rings = boundaries_for(codes, path)
        if len(rings) > len(best):
            best, best_name = rings, path.name
    return best, best_name


def area_boundaries(area_list: pd.DataFrame, codes: list[str], configured: Path | None) -> tuple[dict, str]:
    """(area code -> rings, a sentence saying where the shapes come from); no rings: tiles."""
    if configured:
        rings = boundaries_for(codes, configured)
        if rings:
            return rings, f"Boundaries from {Path(configured).name} (PATHWAY_BOUNDARIES)."
    rings, name = shipped_boundaries(codes)
    if rings:
        return rings, (f"Shapes: ONS {LAYER_WORDS.get(name, name)}, generalised for this map "
                       f"({len(rings)} of {len(codes)} areas matched). {ATTRIBUTION}")
    if codes and all(str(code).startswith("X") for code in codes):
        from pathway.demo.geography import demo_boundaries

        icbs = dict(zip(area_list["area_code"], area_list["icb_code"]))
        return demo_boundaries((code, icbs.get(code)) for code in codes), \
            "A made-up geography for the synthetic demo's made-up areas (not a real place)."
    if configured:
        return {}, (f"No area code in {Path(configured).name} matches the areas list, so areas are drawn as "
                    "tiles.")
    return {}, ("No area code matches the shipped ONS boundaries of England (ICBs, sub-ICB locations, local "
                "authorities) and no boundary file is configured (set PATHWAY_BOUNDARIES to a GeoJSON with "
                "area codes), so areas are drawn as tiles.")


LAYER_WORDS = {"icb.geojson": "Integrated Care Boards (April 2023)",
               "sub_icb.geojson": "sub-ICB locations (April 2023)",
               "local_authority_district.geojson": "local authority districts (May 2024)",
               "upper_tier_local_authority.geojson": "counties and unitary authorities (December 2023)"}


def _colours(values, low: float, high: float) -> list[str]:
    """Each value's fill on the scale from low to high (grey where there is none), sampled in one
    call: Plotly checks the colour scale on every call, which cost a second a map at 150 areas."""
    values = list(values)
    shares = [0.5 if high <= low else min(max((v - low) / (high - low), 0.0), 1.0)
              for v in values if not pd.isna(v)]
    sampled = iter(sample_colorscale(SCALE, shares) if shares else [])
    return ["#d8dde0" if pd.isna(v) else next(sampled) for v in values]


def _hover(row, name: str) -> str:
    if pd.isna(row.value):
        return f"{name}: * (hidden by disclosure control, or no births)"
    benchmark = "" if pd.isna(row.benchmark) else f" {percent_text(row.benchmark)}"
    return (f"{name}: {percent_text(row.value)} (95% CI {percent_text(row.ci_low)} to {percent_text(row.ci_high)})"
            f"<br>{COMPARISON_STYLE.get(row.comparison, {}).get('text', row.comparison).replace('the benchmark', 'all areas')}"
            f"{benchmark}")


def _legend_trace(low: float, high: float, benchmark: float | None, title: str) -> dict:
    """An invisible point that carries the colour scale's legend, with the benchmark marked on it."""
    ticks = [low, high] + ([benchmark] if benchmark is not None and low <= benchmark <= high else [])
    labels = [percent_text(low), percent_text(high)] + ([f"◀ all areas {percent_text(benchmark)}"] if len(ticks) == 3 else [])
    return {"type": "scatter", "x": [None], "y": [None], "mode": "markers", "hoverinfo": "skip", "showlegend": False,
            "marker": {"color": [low], "colorscale": SCALE, "cmin": low, "cmax": high if high > low else low + 1,
                       "showscale": True,
                       # Under the map, across: it fits a phone's width as well as a desktop's.
                       "colorbar": {"title": {"text": title, "side": "top"}, "tickvals": ticks, "ticktext": labels,
                                    "orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.02, "yanchor": "top",
                                    "thickness": 14, "len": 0.9, "outlinewidth": 0}}}


MAX_LABELLED_AREAS = 30


def _labels(values: pd.DataFrame, names: dict, rings: dict, low: float, high: float, by_comparison: bool) -> dict:
    """Each area's name and value at the middle of its largest part, in black or white for contrast."""
    x, y, text, colours = [], [], [], []
    fills = dict(zip(values["area_code"], _colours(values["value"], low, high)))
    for row in values.itertuples():
        parts = rings.get(row.area_code)
        if not parts:
            continue
        largest = max(parts, key=len)
        x.append(sum(p[0] for p in largest[:-1]) / max(1, len(largest) - 1))
        y.append(sum(p[1] for p in largest[:-1]) / max(1, len(largest) - 1))
        text.append(f"{names.get(row.area_code, row.area_code)}<br>{percent_text(row.value)}")
        fill = COMPARISON_STYLE.get(row.comparison, COMPARISON_STYLE["not compared"])["color"] if by_comparison \
            else fills[row.area_code]
        colours.append(_text_colour(fill))
    return {"type": "scatter", "x": x, "y": y, "mode": "text", "text": text, "hoverinfo": "skip",
            "showlegend": False, "cliponaxis": False,
            # a name wider than its area runs onto its neighbours or the page: the halo keeps it readable there
            "textfont": {"family": FONT, "size": 11, "color": colours, "shadow": "auto"}}


# The share of the map's width left empty either side when its areas are labelled.
LABEL_ROOM = 0.08


def choropleth(values: pd.DataFrame, names: dict, rings: dict[str, list], selected: str, *,
               colour_by: str = "value", title: str = "%", members: frozenset = frozenset()) -> dict:
    """One filled shape per area (its parts joined by gaps), coloured by value or by comparison; the chosen
    area, or the areas of the chosen ICB (`members`), outlined."""
    traces = []
    low, high = values["value"].min(), values["value"].max()
    low, high = (0.0, 1.0) if pd.isna(low) else (float(low), float(high))
    by_comparison = colour_by == "comparison"
    fills = dict(zip(values["area_code"], _colours(values["value"], low, high)))
    for row in values.itertuples():
        parts = rings.get(row.area_code, [])
        if not parts:
            continue
        lon, lat = [], []
        for ring in parts:
            lon += [point[0] for point in ring] + [None]
            lat += [point[1] for point in ring] + [None]
        chosen = row.area_code == selected or row.area_code in members
        style = COMPARISON_STYLE.get(row.comparison, COMPARISON_STYLE["not compared"])
        trace = {
            "type": "scatter", "x": lon[:-1], "y": lat[:-1], "mode": "lines", "fill": "toself",
            "fillcolor": style["color"] if by_comparison else fills[row.area_code],
            "line": {"color": NHS_BLACK if chosen else "#ffffff", "width": 3 if chosen else 0.8},
            "customdata": [row.area_code] * (len(lon) - 1), "hoveron": "fills", "showlegend": False,
            "text": _hover(row, names.get(row.area_code, row.area_code)), "hoverinfo": "text",
            "name": names.get(row.area_code, row.area_code)}
        if by_comparison and style["pattern"]:
            trace["fillpattern"] = {"shape": style["pattern"], "fgcolor": "#ffffff", "fgopacity": 0.6, "size": 8}
        traces.append(trace)
    labelled = len(traces) <= MAX_LABELLED_AREAS
    if labelled:
        traces.append(_labels(values, names, rings, low, high, by_comparison))
    every_lat = [point[1] for parts in rings.values() for ring in parts for point in ring]
    mid_lat = (min(every_lat) + max(every_lat)) / 2 if every_lat else 0.0
    benchmark = values["benchmark"].iloc[0] if len(values) and pd.notna(values["benchmark"].iloc[0]) else None
    if not by_comparison:
        traces.append(_legend_trace(low, high, benchmark, title))
    figure = chart(traces)
    every_lon = [point[0] for parts in rings.values() for ring in parts for point in ring]
    if labelled and every_lon:
        # room either side for a name centred near the edge: on a phone the map fills the
        # width, and Harrowdene's name ran past the plot's left edge and was cut off
        pad = LABEL_ROOM * (max(every_lon) - min(every_lon))
        axis(figure, "xaxis", visible=False, range=[min(every_lon) - pad, max(every_lon) + pad])
    else:
        axis(figure, "xaxis", visible=False)
    axis(figure, "yaxis", visible=False, scaleanchor="x", scaleratio=1 / max(0.2, math.cos(math.radians(mid_lat))))
    # Tall places (England) get a taller plot, so the shapes fill the width they are given.
    tall = every_lat and every_lon and (max(every_lat) - min(every_lat)) > \
        (max(every_lon) - min(every_lon)) * math.cos(math.radians(mid_lat))
    styled(figure)
    # No fixed height: the stylesheet sizes the map to the screen's width (assets/pathway.css, .pathway-map).
    del figure["layout"]["height"]
    figure["layout"]["autosize"] = True
    figure["layout"]["margin"] = {"l": 5, "r": 5, "t": 5, "b": 70}
    figure["layout"]["meta"] = {"shape": "tall" if tall else "wide"}
    figure["layout"]["dragmode"] = "pan"
    return figure


def _text_colour(fill: str) -> str:
    """Black or white text, whichever reads better on the fill (WCAG relative luminance)."""
    if fill.startswith("rgb"):
        r, g, b = (int(float(v)) for v in fill[fill.index("(") + 1:-1].split(",")[:3])
    else:
        r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return NHS_BLACK if luminance > 0.18 else "#ffffff"


def tile_map(values: pd.DataFrame, names: dict, area_list: pd.DataFrame, selected: str) -> dict:
    """Squares in rows of up to eight, grouped by ICB then name, each labelled with its value."""
    ordered = area_list.sort_values(["icb_name", "area_name"], na_position="last")
    frame = ordered.merge(values, on="area_code", how="left").reset_index(drop=True)
    width = min(8, max(1, math.ceil(math.sqrt(len(frame)))))
    frame["col"], frame["row"] = frame.index % width, frame.index // width
    low, high = frame["value"].min(), frame["value"].max()
    fills = _colours(frame["value"], low, high)
    labels = [f"{(name or code)[:12]}<br>{percent_text(v)}"
              for code, name, v in zip(frame["area_code"], frame["area_name"], frame["value"])]
    figure = chart([{
        "type": "scatter", "x": frame["col"].tolist(), "y": frame["row"].tolist(), "mode": "markers+text",
        "text": labels, "textfont": {"family": FONT, "size": 11, "color": [_text_colour(f) for f in fills]},
        "marker": {"symbol": "square", "size": 70, "color": fills,
                   "line": {"width": [4 if c == selected else 1 for c in frame["area_code"]], "color": "#ffffff"}},
        "customdata": frame["area_code"].tolist(),
        "hovertext": [_hover(r, names.get(r.area_code, r.area_code)) for r in frame.itertuples()],
        "hoverinfo": "text", "showlegend": False}])
    if pd.notna(low):
        benchmark = values["benchmark"].iloc[0] if len(values) and pd.notna(values["benchmark"].iloc[0]) else None
        figure["data"].append(_legend_trace(float(low), float(high), benchmark, "%"))
    axis(figure, "xaxis", visible=False, range=[-0.6, width - 0.4])
    axis(figure, "yaxis", visible=False, autorange="reversed")
    return styled(figure, height=max(260, 95 * (int(frame["row"].max()) + 1 if len(frame) else 1) + 40))


MAX_AREAS_LISTED = 12


def map_summary(values: pd.DataFrame, names: dict, label: str, period: str, benchmark) -> str:
    """The text alternative: every area when there are few, else the count per comparison and the extremes."""
    opening = f"{label} for {period}, by area; all areas {percent_text(benchmark)}. "
    closing = " Select an area on the map, or in the filter above, to choose it."
    if len(values) <= MAX_AREAS_LISTED:
        return opening + "; ".join(f"{names.get(r.area_code, r.area_code)} {percent_text(r.value)} ({r.comparison})"
                                   for r in values.itertuples()) + "." + closing
    counts = values["comparison"].value_counts()
    shown = values.dropna(subset=["value"]).sort_values("value")
    extremes = ""
    if len(shown):
        def listed(rows):
            return ", ".join(f"{names.get(r.area_code, r.area_code)} {percent_text(r.value)}" for r in rows.itertuples())
        extremes = f" Highest: {listed(shown.tail(3).iloc[::-1])}. Lowest: {listed(shown.head(3))}."
    return (opening + f"{len(values)} areas: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + "."
            + extremes + " Every area is in the table." + closing)


def map_card(filters: dict, measure: str, colour_by: str = "value"):
    indicator = INDICATORS[measure]
    label = indicator.label
    values, result = map_values(filters, measure)
    if values is None or values.empty:
        return figure_card("map", label, figure=None, table=None, summary="", result=result)
    area_list = areas()
    names = dict(zip(area_list["area_code"], area_list["area_name"]))
    configured = web_warehouse().settings.boundaries_path
    rings, kind = area_boundaries(area_list, list(values["area_code"]), configured)
    selected = filters.get("area", "all")
    if rings:
        members = frozenset(area_list.loc[area_list["icb_code"] == selected, "area_code"])
        figure = choropleth(values, names, rings, selected, colour_by=colour_by, title="Colour scale (%)", members=members)
    else:
        figure = tile_map(values, names, area_list, selected)
    table = values.assign(area_name=values["area_code"].map(lambda c: names.get(c, c)))
    benchmark = values["benchmark"].iloc[0]
    summary = map_summary(values, names, label, period_words(filters), benchmark)
    key = significance_key(indicator.polarity) if colour_by == "comparison" or not rings else html.P(
        "Colour runs from light (lowest) to dark blue (highest); the scale under the map marks all areas' "
        "figure.", className="pathway-source")
    extra = html.Div([html.P(html.Strong(polarity_words(indicator) + "."), className="pathway-polarity mb-1"),
                      key, html.P(kind, className="pathway-source pathway-attribution")])
    return figure_card("map", label, figure=figure, extra=extra,
                       table=people_frame(table[["area_code", "area_name", "value", "ci_low", "ci_high", "comparison"]]),
                       summary=summary,
                       source="Every value is also in the hover text and the table. Comparison: the 95% interval "
                              "against all areas pooled.",
                       definition=definition_panel(indicator, period_words(filters)))


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


@callback(Output("map-card", "children"), Input(ids.MAP_MODE, "value"), State(ids.MAP_METRIC, "value"),
          State(ids.URL, "search"), prevent_initial_call=True)
def change_map_colouring(colour_by, measure, search):
    from pathway.web.filters import filters_from_query
    return map_card(filters_from_query(search), measure if measure in INDICATORS else "specialist_access",
                    colour_by if colour_by in COLOUR_BY else "value")


def layout(**query):
    import dash_bootstrap_components as dbc

    filters, problems = read_filters(query)
    options = [{"label": INDICATORS[key].label, "value": key} for key in MAP_INDICATORS]
    chosen = chosen_measure(filters, options)
    body = [dbc.Row([
        dbc.Col([dbc.Label("Measure", html_for=ids.MAP_METRIC, className="pathway-filter__label"),
                 dbc.Select(id=ids.MAP_METRIC, options=options, value=chosen)], xs=12, md=6),
        dbc.Col([dbc.Label("Colour", html_for=ids.MAP_MODE, className="pathway-filter__label"),
                 dbc.Select(id=ids.MAP_MODE, options=[{"label": v, "value": k} for k, v in COLOUR_BY.items()],
                            value="value")], xs=12, md=6)], className="g-2 mb-3", style={"maxWidth": "48rem"}),
            loading(map_card(filters, chosen), "map-card")]
    return page("Map", "Each area's figure on a map. Hover for the value, its interval and how it compares; "
                "click an area to choose it.", filters, problems, body, path=PATH, show=("area", "period"))


keep_measure_in_url(ids.MAP_METRIC)
