"""Regenerate the generalised England boundaries shipped with the package (data/boundaries/*.geojson).

    python data/boundaries/make_boundaries.py [SOURCE_FOLDER]

SOURCE_FOLDER holds ONS Open Geography "BSC" (generalised, clipped) GeoJSON files (default:
../shared/data/boundaries-england beside the repository). Each is cut down to what a choropleth
needs: England only, two properties (code, name), every ring simplified (Douglas-Peucker, in
metres at England's latitude) and coordinates rounded to 3 decimal places (about 100 m), with
islands smaller than MIN_RING_KM2 dropped. The output is deterministic, so a rerun on the same
source gives the same bytes. Licence and attribution: SOURCE.md beside this script.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[1].parent / "shared" / "data" / "boundaries-england"

# (output name, source file, code property, name property, tolerance in metres)
LAYERS = [
    ("icb", "Integrated_Care_Boards_April_2023_EN_BSC.geojson", "ICB23CD", "ICB23NM", 1500),
    ("sub_icb", "NHS_SubICB_April_2023_EN_BSC.geojson", "SICBL23CD", "SICBL23NM", 1200),
    ("local_authority_district", "Local_Authority_Districts_May_2024_Boundaries__UK_BSC.geojson",
     "LAD24CD", "LAD24NM", 900),
    ("upper_tier_local_authority", "Counties_and_Unitary_Authorities_December_2023_Boundaries_UK_BSC.geojson",
     "CTYUA23CD", "CTYUA23NM", 900),
]
DECIMALS = 3
MIN_RING_KM2 = 4.0
# Metres per degree at England's middle latitude (about 52.5 N).
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(52.5))


def _perpendicular(point, start, end) -> float:
    (x, y), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(x - x1, y - y1)
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / math.hypot(dx, dy)


def douglas_peucker(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """The points that keep a line within `tolerance` of the original (iterative, no recursion limit)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        farthest, distance = None, tolerance
        for index in range(first + 1, last):
            d = _perpendicular(points[index], points[first], points[last])
            if d > distance:
                farthest, distance = index, d
        if farthest is not None:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [p for p, k in zip(points, keep) if k]


def _metres(ring):
    return [(lon * M_PER_DEG_LON, lat * M_PER_DEG_LAT) for lon, lat in ring]


def _area_km2(ring_m) -> float:
    area = 0.0
    for (x1, y1), (x2, y2) in zip(ring_m, ring_m[1:] + ring_m[:1]):
        area += x1 * y2 - x2 * y1
    return abs(area) / 2 / 1e6


def simplify_ring(ring, tolerance_m: float):
    """A closed ring simplified and rounded, or None when it is a speck (too small or degenerate)."""
    metres = _metres(ring)
    if _area_km2(metres) < MIN_RING_KM2:
        return None
    # Split the closed ring at its farthest point from the start, so both halves keep their ends.
    far = max(range(len(metres)), key=lambda i: math.dist(metres[0], metres[i]))
    halves = douglas_peucker(metres[:far + 1], tolerance_m) + douglas_peucker(metres[far:], tolerance_m)[1:]
    out = []
    for x, y in halves:
        point = [round(x / M_PER_DEG_LON, DECIMALS), round(y / M_PER_DEG_LAT, DECIMALS)]
        if not out or point != out[-1]:
            out.append(point)
    if out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else None


def simplify_feature(feature: dict, code_key: str, name_key: str, tolerance_m: float) -> dict | None:
    geometry = feature["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    kept = []
    for polygon in polygons:
        outer = simplify_ring(polygon[0], tolerance_m)
        if outer is None:
            continue
        holes = [h for h in (simplify_ring(ring, tolerance_m) for ring in polygon[1:]) if h]
        kept.append([outer, *holes])
    if not kept:  # every part a speck: keep the largest part, barely simplified, so no area vanishes
        largest = max(polygons, key=lambda p: _area_km2(_metres(p[0])))
        kept = [[[[round(x, DECIMALS), round(y, DECIMALS)] for x, y in largest[0]]]]
    properties = feature["properties"]
    return {"type": "Feature", "properties": {"code": properties[code_key], "name": properties[name_key]},
            "geometry": {"type": "MultiPolygon", "coordinates": kept}}


def build(source: Path, target: Path = HERE) -> list[tuple[str, int, int]]:
    made = []
    for name, file_name, code_key, name_key, tolerance in LAYERS:
        with open(source / file_name, encoding="utf-8") as handle:
            features = json.load(handle)["features"]
        england = [f for f in features if str(f["properties"][code_key]).startswith("E")]
        out = [simplify_feature(f, code_key, name_key, tolerance)
               for f in sorted(england, key=lambda f: f["properties"][code_key])]
        collection = {"type": "FeatureCollection",
                      "attribution": "Source: Office for National Statistics licensed under the Open Government "
                                     "Licence v.3.0. Contains OS data © Crown copyright and database right.",
                      "source_file": file_name, "features": out}
        path = target / f"{name}.geojson"
        path.write_text(json.dumps(collection, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
        made.append((path.name, len(out), path.stat().st_size))
    return made


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    for file_name, features, size in build(folder):
        print(f"{file_name}: {features} areas, {size / 1024:.0f} KiB")
