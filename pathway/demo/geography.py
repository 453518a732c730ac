"""The synthetic demo's made-up geography: one polygon per demo area, so its map is a map too.

A Voronoi partition of an oval 'county' (no real place: centred on 0° 0°, about 220 by 170 km),
seeded by a fixed random generator from the sorted area and ICB codes, so the same areas list
always draws the same map. Each ICB's areas are seeded around one centre, so an ICB is a block
of neighbours; three rounds of Lloyd's relaxation even out the cells' sizes.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Iterable

import numpy as np
from scipy.spatial import Voronoi

SEED = 14
WIDTH, HEIGHT = 2.0, 1.5          # the oval's axes, in degrees
OUTLINE_POINTS = 64
RELAXATION_ROUNDS = 3
DECIMALS = 3


def _outline() -> np.ndarray:
    angles = np.linspace(0, 2 * math.pi, OUTLINE_POINTS, endpoint=False)
    return np.column_stack([WIDTH / 2 * np.cos(angles), HEIGHT / 2 * np.sin(angles)])


def _clip(cell: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: a convex cell clipped by the convex outline (both anticlockwise)."""
    points = [tuple(p) for p in cell]
    for (ax, ay), (bx, by) in zip(outline, np.roll(outline, -1, axis=0)):
        if not points:
            break
        inside = lambda p: (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax) >= 0  # noqa: E731
        kept = []
        for current, following in zip(points, points[1:] + points[:1]):
            if inside(current):
                kept.append(current)
            if inside(current) != inside(following):
                (px, py), (qx, qy) = current, following
                denominator = (px - qx) * (ay - by) - (py - qy) * (ax - bx)
                t = ((px - ax) * (ay - by) - (py - ay) * (ax - bx)) / denominator
                kept.append((px + t * (qx - px), py + t * (qy - py)))
        points = kept
    return np.array(points)


def _anticlockwise(cell: np.ndarray) -> np.ndarray:
    centre = cell.mean(axis=0)
    order = np.argsort(np.arctan2(cell[:, 1] - centre[1], cell[:, 0] - centre[0]))
    return cell[order]


def _cells(seeds: np.ndarray, outline: np.ndarray) -> list[np.ndarray]:
    # A far ring of helper points makes every real cell finite.
    far = 10 * max(WIDTH, HEIGHT) * np.column_stack([np.cos(np.linspace(0, 2 * math.pi, 12, endpoint=False)),
                                                     np.sin(np.linspace(0, 2 * math.pi, 12, endpoint=False))])
    diagram = Voronoi(np.vstack([seeds, far]))
    cells = []
    for index in range(len(seeds)):
        region = diagram.regions[diagram.point_region[index]]
        cell = _anticlockwise(diagram.vertices[region])
        cells.append(_clip(cell, outline))
    return cells


def _seeds(groups: list[list[str]], rng: np.random.Generator) -> np.ndarray:
    points = []
    for index, members in enumerate(groups):
        angle = 2 * math.pi * index / max(1, len(groups)) + 0.3
        radius = 0.0 if len(groups) == 1 else 0.45
        cx, cy = radius * WIDTH / 2 * math.cos(angle), radius * HEIGHT / 2 * math.sin(angle)
        spread = 0.28 * min(WIDTH, HEIGHT) / math.sqrt(max(1, len(groups)))
        for _ in members:
            points.append((cx + rng.normal(0, spread), cy + rng.normal(0, spread)))
    seeds = np.array(points)
    # Keep every seed inside the oval.
    scale = np.sqrt((seeds[:, 0] / (WIDTH / 2)) ** 2 + (seeds[:, 1] / (HEIGHT / 2)) ** 2)
    return seeds / np.maximum(1.0, scale / 0.95)[:, None]


def demo_boundaries(areas: Iterable[tuple[str, str | None]]) -> dict[str, list[list[list[float]]]]:
    """Area code -> [ring] (one closed ring of [lon, lat] points) for (area_code, icb_code) pairs.
    The rings are shared between callers: read them, do not change them."""
    pairs = tuple(sorted({(str(area), str(icb or "")) for area, icb in areas}, key=lambda p: (p[1], p[0])))
    return dict(_boundaries_of(pairs))


@lru_cache(maxsize=8)
def _boundaries_of(pairs: tuple[tuple[str, str], ...]) -> dict[str, list[list[list[float]]]]:
    """demo_boundaries once per areas list: the national demo's 150 cells took two seconds, on
    every map the dashboard drew."""
    if not pairs:
        return {}
    by_icb: dict[str, list[str]] = {}
    for area, icb in pairs:
        by_icb.setdefault(icb, []).append(area)
    groups = [by_icb[icb] for icb in sorted(by_icb)]
    codes = [code for members in groups for code in members]
    rng = np.random.default_rng(SEED + len(codes))
    outline = _outline()
    seeds = _seeds(groups, rng)
    if len(codes) == 1:
        return {codes[0]: [_ring(outline)]}
    for _ in range(RELAXATION_ROUNDS):
        cells = _cells(seeds, outline)
        seeds = np.array([cell.mean(axis=0) if len(cell) else seed for cell, seed in zip(cells, seeds)])
    cells = _cells(seeds, outline)
    return {code: [_ring(cell)] for code, cell in zip(codes, cells) if len(cell) >= 3}


def _ring(cell: np.ndarray) -> list[list[float]]:
    ring = [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in cell]
    return ring + [ring[0]]
