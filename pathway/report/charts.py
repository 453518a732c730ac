"""Static charts for the area report: inline SVG bar charts with 95% interval whiskers.

Drawn here, not exported from Plotly: an SVG string needs no browser or kaleido to make, opens
offline inside the HTML, prints sharply to PDF, and reads in greyscale because every series is
told apart by a hatch pattern or marker shape and a printed value, never by colour alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

from pathway.report.template import FONT_FAMILY

SUPPRESSED = "*"


@dataclass
class Bar:
    """One bar: a percentage with its interval, and the benchmarks drawn on its row."""

    label: str
    value: float | None                  # None: suppressed or not measurable
    low: float | None = None
    high: float | None = None
    shown: str = ""                      # the printed value ('*' when suppressed)
    marks: dict[str, float] = field(default_factory=dict)  # benchmark name -> value


# Marker shapes for benchmarks, in the order a legend lists them (greyscale-safe: shapes differ).
MARKERS = ("diamond", "triangle", "bar", "circle")


def _marker(shape: str, x: float, y: float, size: float = 5.5) -> str:
    if shape == "diamond":
        return (f'<path d="M{x:.1f},{y - size:.1f} L{x + size:.1f},{y:.1f} L{x:.1f},{y + size:.1f} '
                f'L{x - size:.1f},{y:.1f} Z" fill="#000" stroke="#fff" stroke-width="0.8"/>')
    if shape == "triangle":
        return (f'<path d="M{x:.1f},{y - size:.1f} L{x + size:.1f},{y + size:.1f} '
                f'L{x - size:.1f},{y + size:.1f} Z" fill="#fff" stroke="#000" stroke-width="1.4"/>')
    if shape == "bar":
        return (f'<line x1="{x:.1f}" y1="{y - size - 2:.1f}" x2="{x:.1f}" y2="{y + size + 2:.1f}" '
                f'stroke="#000" stroke-width="2.2" stroke-dasharray="3,1.5"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size - 1:.1f}" fill="#fff" stroke="#000" stroke-width="1.4"/>'


def bar_chart(bars: list[Bar], *, title: str, unit: str = "%", maximum: float | None = None,
              reference: tuple[str, float] | None = None) -> str:
    """A horizontal bar chart as an <svg> string: hatched bars, black whiskers, benchmark markers,
    every value printed at the bar end, '*' where the figure is suppressed."""
    if not bars:
        return ""
    names = list(dict.fromkeys(name for bar in bars for name in bar.marks))
    shapes = {name: MARKERS[i % len(MARKERS)] for i, name in enumerate(names)}
    top = max([maximum or 0] + [v for bar in bars for v in (bar.value, bar.high, *bar.marks.values())
                                if v is not None and not math.isnan(v)]
              + ([reference[1]] if reference else []))
    top = 100.0 if unit == "%" and top <= 100 else _nice(top or 1)
    label_width, plot_width, value_width, row = 190, 330, 70, 26
    legend_rows = 1 + len(names) + (1 if reference else 0)
    # bars, the axis labels, then one legend line per series (the first 40 below the bars)
    height = 28 + row * len(bars) + 46 + 15 * (legend_rows - 1)
    width = label_width + plot_width + value_width
    x = lambda v: label_width + plot_width * max(0.0, min(v, top)) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'font-family="{FONT_FAMILY}" font-size="11">',
             f'<title>{escape(title)}</title>',
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d9d9d9"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#555" stroke-width="2"/></pattern></defs>',
             f'<text x="0" y="14" font-weight="bold" font-size="12">{escape(title)}</text>']
    for tick in range(0, 5):
        value = top * tick / 4
        tx = x(value)
        parts.append(f'<line x1="{tx:.1f}" y1="22" x2="{tx:.1f}" y2="{28 + row * len(bars):.1f}" '
                     f'stroke="#ccc" stroke-width="0.6"/>')
        parts.append(f'<text x="{tx:.1f}" y="{40 + row * len(bars):.1f}" text-anchor="middle" '
                     f'fill="#333">{_number(value)}{escape(unit)}</text>')
    for i, bar in enumerate(bars):
        y = 28 + row * i
        mid = y + row / 2
        parts.append(f'<text x="{label_width - 6}" y="{mid + 4:.1f}" text-anchor="end">'
                     f'{escape(_short(bar.label))}</text>')
        if bar.value is not None and not math.isnan(bar.value):
            parts.append(f'<rect x="{label_width}" y="{y + 5}" width="{x(bar.value) - label_width:.1f}" '
                         f'height="{row - 10}" fill="url(#hatch)" stroke="#000" stroke-width="0.8"/>')
            if bar.low is not None and bar.high is not None and not (math.isnan(bar.low) or math.isnan(bar.high)):
                parts.append(f'<line x1="{x(bar.low):.1f}" y1="{mid:.1f}" x2="{x(bar.high):.1f}" '
                             f'y2="{mid:.1f}" stroke="#000" stroke-width="1.4"/>')
                for end in (bar.low, bar.high):
                    parts.append(f'<line x1="{x(end):.1f}" y1="{mid - 5:.1f}" x2="{x(end):.1f}" '
                                 f'y2="{mid + 5:.1f}" stroke="#000" stroke-width="1.4"/>')
        for name, value in bar.marks.items():
            if value is not None and not math.isnan(value):
                parts.append(_marker(shapes[name], x(value), mid))
        parts.append(f'<text x="{label_width + plot_width + 8}" y="{mid + 4:.1f}" '
                     f'font-weight="bold">{escape(bar.shown or SUPPRESSED)}</text>')
    if reference:
        rx = x(reference[1])
        parts.append(f'<line x1="{rx:.1f}" y1="22" x2="{rx:.1f}" y2="{28 + row * len(bars):.1f}" '
                     f'stroke="#000" stroke-width="1" stroke-dasharray="1,3"/>')
    ly = 28 + row * len(bars) + 40
    parts.append(f'<rect x="0" y="{ly - 9}" width="14" height="10" fill="url(#hatch)" stroke="#000" '
                 f'stroke-width="0.8"/><text x="20" y="{ly}">this area, with its 95% interval '
                 f'(* = suppressed: fewer than the disclosure threshold)</text>')
    for k, name in enumerate(names, start=1):
        parts.append(_marker(shapes[name], 7, ly + 15 * k - 4, 4.5))
        parts.append(f'<text x="20" y="{ly + 15 * k}">{escape(name)}</text>')
    if reference:
        k = len(names) + 1
        parts.append(f'<line x1="1" y1="{ly + 15 * k - 4}" x2="14" y2="{ly + 15 * k - 4}" '
                     f'stroke="#000" stroke-dasharray="1,3"/>'
                     f'<text x="20" y="{ly + 15 * k}">{escape(reference[0])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _nice(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 2.5 or 5 times a power of ten)."""
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"
