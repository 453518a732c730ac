"""The report's economic case section: both perspectives, the scenario in words, two tables that
fit A4, the one-way sensitivity as an inline SVG tornado, and the assumptions at their own precision.

Every figure is pathway.economics on economic_case's disclosed counts, as on the dashboard, so the
page, `pathway query economic_case` and the report agree.
"""

from __future__ import annotations

import math
from html import escape

import pandas as pd

from pathway import economics
from pathway.economics import money_text, people_text
from pathway.report.template import FONT_FAMILY


def _ratio(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"£{value:.2f}"


def assumption_value(value) -> str:
    """An assumption at its own precision (0.72 stays 0.72, 74,000 stays 74,000): up to 6 figures."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{float(value):,.6g}"


def _rows(frame: pd.DataFrame, labels: dict, columns: dict[str, str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in columns.values())
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column in columns:
            value = row[column]
            if column == "condition":
                cells.append(f"<td>{escape(labels.get(value, str(value)))}</td>")
                continue
            if column in ("cost_per_case", "cost_of_illness") and not bool(row["costed"]):
                text = "not costed"
            elif column in ("mother_cost", "child_cost") and pd.isna(value) and pd.notna(row["cost_of_illness"]):
                text = "not split"
            elif column in economics.MONEY_COLUMNS or column == "cost_per_case":
                text = money_text(value) if bool(row["costed"]) or column in ("extra_spend", "current_service_spend") \
                    else "–"
            elif column in economics.RATIO_COLUMNS:
                text = "*" if pd.isna(row["extra_spend"]) else _ratio(value)
            elif column in economics.PEOPLE_COLUMNS:
                text = people_text(value)
            elif column in ("live_births", "treated"):
                text = "*" if pd.isna(value) else f"{int(value):,}"
            else:
                text = "" if pd.isna(value) else f"{value:g}"
            cells.append(f"<td class='num'>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='economic'><tr>{head}</tr>{''.join(body)}</table>"


def tornado_svg(table: pd.DataFrame, base: float, title: str) -> str:
    """A tornado as an <svg>: each assumption's low (hatched) and high (solid grey) value of the
    public-sector return about the figure shown, every value printed, greyscale-safe."""
    rows = table.dropna(subset=["low_value", "high_value"])
    if rows.empty or math.isnan(base):
        return ""
    label_width, plot_width, row_height = 190, 440, 26
    values = pd.concat([rows["low_value"], rows["high_value"], pd.Series([base])]).astype(float)
    low, high = float(values.min()), float(values.max())
    span = max(high - low, 0.1)
    low, high = low - 0.6 * span, high + 0.5 * span
    x = lambda v: label_width + plot_width * (v - low) / (high - low)  # noqa: E731
    height = 34 + row_height * len(rows) + 40
    width = label_width + plot_width + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" font-family="{FONT_FAMILY}" font-size="10">',
             f"<title>{escape(title)}</title>",
             '<defs><pattern id="tornado-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#333" stroke-width="2"/></pattern></defs>',
             f'<text x="0" y="13" font-weight="bold" font-size="11">{escape(title)}</text>']
    for i, row in enumerate(rows.itertuples()):
        y = 26 + row_height * i
        mid = y + row_height / 2
        parts.append(f'<text x="{label_width - 6}" y="{mid + 3:.1f}" text-anchor="end">'
                     f"{escape(str(row.assumption))}</text>")
        for value, words, fill in ((row.low_value, row.low_label, "url(#tornado-hatch)"),
                                   (row.high_value, row.high_label, "#9a9a9a")):
            left, right = sorted((x(base), x(float(value))))
            parts.append(f'<rect x="{left:.1f}" y="{y + 5}" width="{max(right - left, 0.8):.1f}" '
                         f'height="{row_height - 10}" fill="{fill}" stroke="#000" stroke-width="0.7"/>')
            anchor, at = ("end", left - 3) if float(value) < base else ("start", right + 3)
            parts.append(f'<text x="{at:.1f}" y="{mid + 3:.1f}" text-anchor="{anchor}">'
                         f"{float(value):.2f} ({escape(str(words))})</text>")
    bx = x(base)
    bottom = 26 + row_height * len(rows)
    parts.append(f'<line x1="{bx:.1f}" y1="20" x2="{bx:.1f}" y2="{bottom}" stroke="#000" stroke-width="1.2"/>')
    parts.append(f'<text x="{bx:.1f}" y="{bottom + 14}" text-anchor="middle">as shown: £{base:.2f} per £1</text>')
    ly = bottom + 32
    parts.append(f'<rect x="0" y="{ly - 9}" width="14" height="10" fill="url(#tornado-hatch)" stroke="#000" '
                 f'stroke-width="0.7"/><text x="20" y="{ly}">low value</text>'
                 f'<rect x="90" y="{ly - 9}" width="14" height="10" fill="#9a9a9a" stroke="#000" '
                 f'stroke-width="0.7"/><text x="110" y="{ly}">'
                 "high value (public-sector £ avoided per £1 spent)</text>")
    parts.append("</svg>")
    return "".join(parts)


def section(frame: pd.DataFrame, labels: dict, where: str, parameters: dict, deflators: dict,
            assumptions: pd.DataFrame | None) -> str:
    """The whole economic case section's body for one area (frame: economic_case, disclosed)."""
    frame = economics.evaluate(frame)
    totals = economics.totals(frame)
    year = frame["price_year"].iloc[0]
    left_out = economics.left_out_words(totals)
    lead = (f"In {year} prices, raising access to the targets returns "
            f"{economics.roi_words(totals['roi_public'])} to the public sector (NHS, social care and other "
            f"public services), a net {money_text(totals['net_benefit_public'])}; to society (mother and child, "
            f"over their lifetimes) {economics.roi_words(totals['roi_society'])}, a net "
            f"{money_text(totals['net_benefit'])}. {left_out}")
    key = [("Return per £1 of extra spend", _ratio(totals["roi_public"]), _ratio(totals["roi_society"])),
           ("Cost avoided", money_text(totals["avoided_public_cost"]), money_text(totals["avoided_cost"])),
           ("Net benefit", money_text(totals["net_benefit_public"]), money_text(totals["net_benefit"])),
           ("Break-even effect (share of a case's cost)", _share(totals["break_even_effect_public"]),
            _share(totals["break_even_effect_society"])),
           ("Cost of illness for this birth cohort", money_text(totals["public_sector_cost"]),
            money_text(totals["cost_of_illness"]))]
    key_rows = "".join(f"<tr><td>{escape(a)}</td><td class='num'>{escape(b)}</td><td class='num'>{escape(c)}</td></tr>"
                       for a, b, c in key)
    parts = [f"<p>{escape(lead)}</p>",
             "<table class='keyfigures'><tr><th>Figure</th><th>Public sector</th>"
             "<th>Society (mother and child, lifetime)</th></tr>" + key_rows + "</table>",
             f"<p>Extra spend {escape(money_text(totals['extra_spend']))} on about "
             f"{escape(people_text(totals['extra_treated']))} more women treated. "
             + " ".join(escape(s) for s in economics.access_sentences(frame)) + "</p>"]
    parts.append("<h3>Cost of illness by condition</h3>")
    parts.append(_rows(frame, labels, {"condition": "Condition", "per_1000": "Per 1,000",
                                       "expected_cases": "Expected cases", "cost_per_case": "Cost per case",
                                       "cost_of_illness": "Cost of illness", "mother_cost": "Mother",
                                       "child_cost": "Child", "public_sector_cost": "Public sector"}))
    parts.append(f"<p class='source'>{escape(economics.not_costed_words(labels, totals))} Public-sector parts "
                 "use the overall share (1.7bn of 8.1bn), not confirmed per condition.</p>")
    parts.append("<h3>The scenario by condition</h3>")
    parts.append(_rows(frame, labels, {"condition": "Condition", "treated": "Treated now",
                                       "extra_treated": "Extra treated", "extra_spend": "Extra spend",
                                       "avoided_public_cost": "Avoided: public", "roi_public": "Return: public",
                                       "avoided_cost": "Avoided: society", "roi_society": "Return: society"}))
    parts.append("<p class='source'>Treated now: women with an attended assessment or intervention of a service "
                 "that treats the condition (a woman may count under several). Extra treated: each tier's target × "
                 "live births − the women it treats now, shared among its conditions by prevalence. "
                 + escape(left_out) + "</p>")
    cost_year = frame["cost_price_year"].dropna().iloc[0] if frame["cost_price_year"].notna().any() else None
    found = economics.variations(parameters, deflators, cost_year, float(frame["effect"].iloc[0]))
    table = economics.tornado(frame, found, "roi_public")
    base = float(table["base"].iloc[0]) if len(table) else math.nan
    parts.append("<h3>How sure is the return? One assumption at a time</h3>")
    svg = tornado_svg(table, base, "Public-sector return at each assumption's low and high value")
    if svg:
        top = ", ".join(table["assumption"].head(3).str.lower())
        parts.append(f"<figure>{svg}<figcaption>{escape(f'The public-sector return moves most with {top}.')} "
                     "Ranges from ref_parameters (sensitivity_*), the prevalence table's low and high values, "
                     "the price year of Bauer's costs one year either side, and the public-sector share cut to "
                     "the NHS and social care part.</figcaption></figure>")
    else:
        parts.append("<p>No extra spend in this scenario, so there is no return to test.</p>")
    if assumptions is not None and len(assumptions):
        shown = assumptions[assumptions["value"].notna()]
        rows = "".join(f"<tr><td>{escape(str(r.step))}</td><td class='num'>{escape(assumption_value(r.value))}</td>"
                       f"<td>{escape(str(r.unit))}</td><td>{escape(str(r.status))}</td></tr>"
                       for r in shown.itertuples())
        parts.append("<h3>The assumptions used (sources in the annex)</h3>"
                     "<table class='economic'><tr><th>Step</th><th>Value</th><th>Unit</th><th>Status</th></tr>"
                     + rows + "</table>")
    return "".join(parts)


def _share(value) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3g}"
