"""The attack on every number the HTML report prints: sentences, key-figure and comparison tables,
metric tables and the SVG charts' text (the PDF is printed from the same HTML).

Each number is read from the HTML with the words around it (its table row and column header, its
chart row, its sentence) and mapped to the metric cells it shows: the answers the report asked
for, the row whose labels (stage, tier, service, contact, group, in code or in the reference
tables' words) appear around it, the column whose shown value it prints. A number that prints no
shown cell is a figure the report worked out itself (a median, a gap in points, a sum): it is
attacked as a figure on the rows it speaks of. Each answer is then attacked, as the report prints
it, with the table attacks of pathway.disclosure_audit. Numbers that are not about local people
(dates, codes, published benchmarks, reference values in the annexes, axis ticks) are set aside
by where they stand; any other number that maps to nothing is listed, never skipped quietly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pandas as pd

from pathway.disclosure_audit import AuditResult, Shown, TableAttack, parse_cell
from pathway.reference import short_label

CHANNEL = "HTML report (every printed number)"
# sections that print reference data and published figures only, not local counts
NOT_LOCAL_SECTIONS = ("assumptions", "methods")
NUMBER = re.compile(r"(?<![\w.\-/])[−-]?£?\d[\d,]*(?:\.\d+)?(?:bn|m|k)?%?(?![\w\-/])")
DATE = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")
PUBLISHED_HEADERS = ("england", "region", "published", "organisation", "period")


@dataclass
class Printed:
    """One number as printed, with the words that say what it is."""

    text: str
    section: str
    kind: str             # "table", "chart" or "text"
    context: str          # the row's words, the chart row's label or the sentence
    header: str = ""      # a table column's header

    @property
    def shown(self) -> Shown:
        return parse_cell(self.text.replace("−", "-"))


@dataclass
class _Table:
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    heading: str = ""


class _Reader(HTMLParser):
    """Collects text with its place: section, table cell, chart text, paragraph."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.section = ""
        self.stack: list[str] = []
        self.tables: list[tuple[str, _Table]] = []
        self.table: _Table | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.svg: list[tuple[str, str, str]] | None = None  # (y, anchor, text)
        self.svg_title = ""
        self.charts: list[tuple[str, str, list]] = []
        self.text_attrs: dict = {}
        self.blocks: list[tuple[str, str]] = []  # (section, text) of p, li, dd, figcaption
        self.block: list[str] | None = None
        self.in_title = False
        self.heading = ""
        self.in_heading = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.stack.append(tag)
        if tag == "section":
            self.section = attrs.get("id", "")
        elif tag == "table" and self.svg is None:
            self.table = _Table(heading=self.heading)
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "svg":
            self.svg, self.svg_title = [], ""
        elif tag == "text" and self.svg is not None:
            self.text_attrs = attrs
            self.svg.append((attrs.get("y", ""), attrs.get("text-anchor", ""), ""))
        elif tag == "title" and self.svg is not None:
            self.in_title = True
        elif tag in ("p", "li", "dd", "figcaption") and self.table is None:
            self.block = []
        if tag in ("h2", "h3"):
            self.heading, self.in_heading = "", True

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table is not None:
            if not self.table.header and not self.table.rows:
                self.table.header = self.row
            else:
                self.table.rows.append(self.row)
            self.row = None
        elif tag == "table" and self.table is not None:
            self.tables.append((self.section, self.table))
            self.table = None
        elif tag == "svg" and self.svg is not None:
            self.charts.append((self.section, self.svg_title, self.svg))
            self.svg = None
        elif tag == "title":
            self.in_title = False
        elif tag in ("p", "li", "dd", "figcaption") and self.block is not None:
            self.blocks.append((self.section, " ".join("".join(self.block).split())))
            self.block = None
        if tag in ("h2", "h3"):
            self.in_heading = False

    def handle_data(self, data):
        if self.in_heading:
            self.heading += data
            return
        if self.svg is not None:
            if self.in_title:
                self.svg_title += data
            elif self.svg and self.stack and self.stack[-1] == "text":
                y, anchor, text = self.svg[-1]
                self.svg[-1] = (y, anchor, text + data)
            return
        if self.cell is not None:
            self.cell.append(data)
        elif self.block is not None:
            self.block.append(data)


def numbers_of(text: str) -> list[str]:
    """The numbers in a piece of text, leaving out dates, codes and words with digits in them."""
    text = DATE.sub(" ", text)
    return [m.group(0) for m in NUMBER.finditer(text)]


def printed_numbers(html: str) -> list[Printed]:
    """Every number the report prints about local people, with its words."""
    reader = _Reader()
    reader.feed(html)
    found: list[Printed] = []
    for section, table in reader.tables:
        if section in NOT_LOCAL_SECTIONS or section == "" or "assumptions" in table.heading.lower():
            continue  # reference values, not counts of local people
        header = [h.lower() for h in table.header]
        for row in table.rows:
            words = " ".join([table.heading] + row[:1] + [c for c in row[1:] if not _is_number(c)])
            for k, cell in enumerate(row):
                column = header[k] if k < len(header) else ""
                if any(p in column for p in PUBLISHED_HEADERS) or k == 0 and not _is_number(cell):
                    continue  # a published benchmark, or the row's label
                for text in _cell_numbers(cell):
                    found.append(Printed(text, section, "table", words, column))
    for section, title, texts in reader.charts:
        label_at = {y: t for y, anchor, t in texts if anchor == "end"}
        for y, anchor, text in texts:
            if anchor in ("end", "middle") or y not in label_at:
                continue  # a row label, an axis tick, the legend
            for number in _cell_numbers(text):
                found.append(Printed(number, section, "chart", f"{label_at[y]} {title}"))
    for section, text in reader.blocks:
        if section in NOT_LOCAL_SECTIONS or section == "":
            continue
        for sentence in re.split(r"(?<=[.;:])\s+(?=[A-Z])", text):
            for number in numbers_of(sentence):
                found.append(Printed(number, section, "text", sentence))
    return found


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[−-]?£?[\d,]*\.?\d+(?:bn|m|k)?%?|\*", text.strip()))


def _cell_numbers(cell: str) -> list[str]:
    """'12% (95% CI 10 to 14)' is three numbers; '95%' of '95% CI' is a label."""
    cell = re.sub(r"95% CI", " ", cell)
    if cell.strip() == "*":
        return ["*"]
    return numbers_of(cell)


# ---- mapping numbers to metric cells ----------------------------------------------------------
def _label_words(context, table: str, column: str, value) -> set[str]:
    """The words a row label may be printed in: the code, the code in words, reference labels."""
    code = str(value)
    words = {code.lower(), code.replace("_", " ").lower(), code.removeprefix("rf_").replace("_", " ").lower()}
    from pathway.schema import REFERENCE_TABLES

    for name in REFERENCE_TABLES:
        try:
            frame = context.reference(name)
        except Exception:
            continue
        if "label" not in frame.columns:
            continue
        for key in frame.columns:
            if key != "label" and not pd.api.types.is_numeric_dtype(frame[key]):
                hit = frame.loc[frame[key].astype(str) == code, "label"]
                for label in hit.dropna().astype(str):
                    words |= {label.lower(), short_label(label).lower()}
    return {w for w in words if w}


def attack_report_numbers(html: str, answers: list[tuple[str, dict, pd.DataFrame, pd.DataFrame]],
                          context, policy, *, table_prefix: str) -> AuditResult:
    """Map every printed number to the answers' cells and attack each answer as printed.
    answers: (metric name, params, shown answer, unsuppressed answer)."""
    from pathway import catalogue
    from pathway.disclosure import format_for_people

    result = AuditResult()
    numbers = printed_numbers(html)
    views = []
    label_cache: dict = {}
    for name, params, shown, truth in answers:
        metric = catalogue.METRICS[name]
        spec = shown.attrs.get("disclosure") or metric.disclosure_for({"measure": params.get("metric")})
        people = format_for_people(shown, spec).reset_index(drop=True)
        keys = [k for k in metric.keys if k in people.columns and k not in ("area_code", "period", "month")]
        numeric = [c for c in people.columns if c in spec.declared() and c not in spec.labels]
        rows = []
        for i in range(len(people)):
            words = []
            for k in keys:
                cache_key = (k, people[k].iloc[i])
                if cache_key not in label_cache:
                    label_cache[cache_key] = _label_words(context, name, k, people[k].iloc[i])
                words.append(label_cache[cache_key])
            rows.append(words)
        # what `pathway query` shows of the same answer, which a reader of the report can ask
        # for too: the report's numbers replace a cell where they print it more finely
        view = pd.DataFrame({c: people[c].astype(str).tolist() for c in numeric})
        for k in truth.columns:
            if k not in numeric:
                view[k] = people[k].astype(str) if k in people.columns else ""
        mappable = numeric + [c for c in spec.labels if c in people.columns and c not in keys]
        views.append({"name": name, "spec": spec, "people": people, "truth": truth.reset_index(drop=True),
                      "rows": rows, "numeric": numeric, "mappable": mappable, "view": view, "extra": {}})
    unplaced = []
    for number in numbers:
        shown = number.shown
        if not shown.hidden and not shown.number:
            continue
        context_words = number.context.lower()
        placed = False
        matched_rows = []
        for v in views:
            for i, words in enumerate(v["rows"]):
                if not all(any(w in context_words for w in options) for options in words):
                    continue
                matched_rows.append((v, i))
                # a reference value printed beside the row (a rate per 1,000, a unit cost) is
                # placed on its label column: it is no figure the report worked out
                cells = [c for c in v["mappable"] if _prints(shown, parse_cell(v["people"][c].iloc[i]))]
                if shown.number and shown.step < 1:  # a count is never printed with decimals
                    cells = [c for c in cells if c not in v["spec"].counts]
                for c in _by_header(cells, number.header):
                    if c in v["numeric"]:
                        _keep(v["view"], i, c, number.text)
                    placed = True
        if placed:
            continue
        if shown.hidden:
            continue  # a '*' for a figure that cannot be worked out gives nothing away
        # a figure the report worked out: attacked on the rows its words name, or a total of
        # its section's answer (the economic case's returns) on every row of that answer
        rows = [(v, i) for v, i in matched_rows if v["rows"][i]] or \
            [(v, i) for v in views if v["name"] == number.section.replace("-", "_")
             for i in range(len(v["people"]))]
        if not rows:
            unplaced.append(number)
            continue
        name = f"report figure: {number.header or _lead(number.context, number.text)}"
        for v, i in rows:
            column = v["extra"].setdefault(name, [""] * len(v["people"]))
            column[i] = number.text
    for v in views:
        view = v["view"]
        for name, column in v["extra"].items():
            view[name] = column
        if not len(view):
            continue
        attack = TableAttack(view, v["truth"], v["spec"], policy, channel=CHANNEL,
                             table=f"{table_prefix}: {v['name']}")
        # the answer's own figures, printed no finer than `pathway query` prints them, are
        # attacked as a figure there; here only the figures the report worked out itself
        attack.figure_columns = [c for c in attack.figure_columns if c in v["extra"]]
        result.merge(attack.run())
    result.attacks_tried[(CHANNEL, "numbers read")] += len(numbers)
    for number in unplaced:
        result.not_covered.append(f"{table_prefix}: number {number.text!r} in {number.section} "
                                  f"({number.kind}: {number.context[:90]!r}) is no cell of the "
                                  "answers the report asked for")
    return result


def _by_header(columns: list[str], header: str) -> list[str]:
    """Of the columns whose shown value a table cell prints, those its column header names
    ('Seen within 28 days %' is seen_within_28_days_pct, not a treated percentage that happens
    to be the same number); all of them when the header names none (a sentence, a chart)."""
    words = set(re.findall(r"[a-z0-9]+", header.lower().replace("%", " pct ")))
    if not words or len(columns) < 2:
        return columns
    overlap = {c: len(words & set(c.lower().split("_"))) for c in columns}
    best = max(overlap.values())
    return [c for c in columns if overlap[c] == best] if best else columns


def _prints(printed: Shown, cell: Shown) -> bool:
    """Whether a printed number shows this cell (within both printed precisions)."""
    if printed.hidden or cell.hidden:
        return printed.hidden and cell.hidden
    if not printed.number or not cell.number:
        return False
    return abs(printed.value - cell.value) <= (printed.step + cell.step) / 2 + 1e-9


def _keep(view: pd.DataFrame, i: int, column: str, text: str) -> None:
    """Keep the most precise printing of a cell."""
    old = view.at[i, column]
    if old == "" or (parse_cell(text).number and parse_cell(old).number
                     and parse_cell(text).step < parse_cell(old).step):
        view.at[i, column] = text


def _lead(context: str, number: str) -> str:
    before = context.split(number)[0].split()
    return " ".join(before[-4:]) or context[:30]


def audit_report_numbers(warehouse, modes, progress=None) -> AuditResult:
    """Every single-area and ICB report of the modes, every printed number attacked."""
    from pathway import catalogue
    from pathway.metrics import run_metric
    from pathway.report import build
    from pathway.report.build import ReportError

    policy = warehouse.settings.disclosure
    result = AuditResult()
    for label, area in modes:
        if area == "all":
            continue
        context = build.ReportContext.open(warehouse, {})
        try:
            html = build.render_html(context, build.find_area(warehouse, area))
        except ReportError as error:
            result.not_covered.append(f"report ({label}): {error}")
            continue
        answers = []
        for (name, asked_area, extra), shown in context._results.items():
            if asked_area != area:
                continue
            metric = catalogue.METRICS[name]
            params = {k: v for k, v in {**context.params, "area": area, **dict(extra)}.items()
                      if metric.parameter(k) is not None}
            answers.append((name, params, shown, run_metric(warehouse, name, params, suppress=False)))
        if progress:
            progress(f"report numbers ({label}): {len(answers)} answers")
        result.merge(attack_report_numbers(html, answers, context, policy, table_prefix=f"report ({label})"))
    return result
