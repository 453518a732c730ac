"""The area report's page: its inline style sheet (screen and A4 print) and HTML skeleton.

Kept as Python strings so the report needs no package data files and no network to open:
everything it shows is inside the one HTML file.
"""

from __future__ import annotations

from string import Template

# The report's font: Liberation Sans (Debian's fonts-liberation2, which .ci/run installs) is
# metric-compatible with Arial and Helvetica, named next where a machine has those instead.
FONT_FAMILY = "'Liberation Sans', Arial, Helvetica, sans-serif"

# Typographic ligatures off everywhere: with them Chromium writes "ﬁ" and "ﬀ" as single
# glyphs into the PDF, so a reader who searches or copies it gets "Eastﬁeld" and "cut-oﬀ".
NO_LIGATURES = ('font-variant-ligatures: none; '
                'font-feature-settings: "liga" 0, "clig" 0, "dlig" 0, "hlig" 0;')

# A4 with page numbers: Chromium (131 and later) prints CSS page-margin boxes with the page
# and pages counters, so `chromium --print-to-pdf --no-pdf-header-footer` numbers the pages.
STYLE = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
  @bottom-left { content: "Perinatal pathway report: $area_label"; font: 8pt $font_family; $no_ligatures color: #333; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt $font_family; $no_ligatures color: #333; } }
html { font-family: $font_family; font-size: 10.5pt; color: #111; line-height: 1.35; }
html, body, body *, svg text { $no_ligatures }
@media print { html, body, body *, svg text { $no_ligatures } }
body { max-width: 190mm; margin: 0 auto; padding: 0 4mm; }
h1 { font-size: 19pt; margin: 0 0 4pt 0; }
h2 { font-size: 14pt; border-bottom: 2px solid #000; padding-bottom: 2pt; margin-top: 18pt; break-after: avoid; }
h3 { font-size: 11.5pt; margin: 12pt 0 4pt 0; break-after: avoid; }
p, li { margin: 3pt 0; }
.meta { border: 1px solid #000; padding: 6pt 8pt; margin: 8pt 0; }
.meta dt { font-weight: bold; float: left; width: 36mm; clear: left; }
.meta dd { margin-left: 38mm; }
.summary { break-after: page; }
.gaps li { margin-bottom: 5pt; }
.keyfigures td:first-child { width: 55%; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 10pt 0; font-size: 9pt; break-inside: auto; }
th, td { border: 1px solid #777; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #e6e6e6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
figure { margin: 6pt 0; break-inside: avoid; }
figcaption, .source { font-size: 8.5pt; color: #333; }
.unavailable { border: 1px dashed #000; padding: 6pt; font-style: italic; }
.annex { break-before: page; }
section { break-inside: auto; }
svg.chart { max-width: 100%; height: auto; }
table.economic { font-size: 8.5pt; }
table.economic td.num { white-space: nowrap; }
.annex td:last-child { overflow-wrap: anywhere; }
/* Every table fits the A4 width: words in text cells may break (a long service or flag name), numbers
   never do; headers wrap between words. */
th { overflow-wrap: break-word; hyphens: auto; }
td:not(.num) { overflow-wrap: anywhere; }
td.num { white-space: nowrap; }
table { max-width: 100%; }
"""

PAGE = Template("""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>$style</style>
</head>
<body>
$body
</body>
</html>
""")


def css_string(value: str) -> str:
    """`value` as the inside of a double-quoted CSS string: every character but letters, digits,
    spaces and a few safe marks becomes a CSS hex escape, so no quote, backslash, line break or
    `</style>` can end the string or the style sheet (OWASP XSS prevention, rule 4)."""
    return "".join(ch if ch.isalnum() and ch.isascii() or ch in " ,.()-_:" else f"\\{ord(ch):06x}"
                   for ch in str(value))


def page(title: str, area_label: str, body: str) -> str:
    """The whole self-contained HTML document: `title` is already HTML-escaped text, `body` is HTML,
    and `area_label` is plain text (written into the page-footer CSS string here)."""
    style = Template(STYLE).safe_substitute(area_label=css_string(area_label),
                                            font_family=FONT_FAMILY, no_ligatures=NO_LIGATURES)
    return PAGE.substitute(title=title, style=style, body=body)
