"""Hostile names (area, ICB, service, loaded file) reach every output as text: the report's HTML
(parsed here), figure downloads and report file names. The dashboard itself is checked in
headless Chromium by test_browser_security.py."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import openpyxl
import pytest

from hostile_fixtures import (ATTRIBUTE_BREAKOUT, FILE_NAME, HOSTILE_ICB, HOSTILE_NAMES, SERVICE_LABEL,
                              STYLE_BREAKOUT, build_hostile_warehouse)
from test_web_fixtures import NORTHTOWN, PERIOD, SOUTHVALE


class Elements(HTMLParser):
    """Every element, attribute and text run of a document, as a browser's tokeniser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text, self.style = [], [], [], []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.style if self._in_style else self.text).append(data)


def parse(document: str) -> Elements:
    parser = Elements()
    parser.feed(document)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory):
    warehouse = build_hostile_warehouse(tmp_path_factory.mktemp("hostile"))
    yield warehouse
    warehouse.dispose()


def test_css_string_escapes_every_character_that_could_end_the_string_or_the_style_sheet():
    from pathway.report.template import css_string

    assert css_string('a"b') == "a\\000022b"
    assert css_string("</style>") == "\\00003c\\00002fstyle\\00003e"
    assert css_string("line\nbreak\\") == "line\\00000abreak\\00005c"
    assert css_string("Northtown (E06000901)") == "Northtown (E06000901)"
    assert css_string("Ynys Môn") == "Ynys M\\0000f4n"  # shown as ô by the browser


@pytest.mark.parametrize("area", [NORTHTOWN, SOUTHVALE])
def test_the_report_shows_hostile_names_as_text_and_runs_nothing(hostile_warehouse, area):
    from pathway.report import build_report

    document = build_report(hostile_warehouse, area, PERIOD).decode("utf-8")
    parsed = parse(document)
    # The report's own elements only: no script, image, frame or object, and no event handlers.
    assert not {"script", "img", "iframe", "object", "embed"} & set(parsed.tags)
    assert not [name for name in parsed.attributes if name.lower().startswith("on")]
    assert parsed.tags.count("style") == 1
    style = "".join(parsed.style)
    assert "<" not in style and '"Perinatal pathway report: ' in style
    text = " ".join(parsed.text)
    name = HOSTILE_NAMES[area]
    assert f"{name} ({area})" in text          # the name itself, as the reader should see it
    assert FILE_NAME in text                    # the loaded file's name, on the cover
    # The HTML source holds the names only in escaped form.
    assert STYLE_BREAKOUT not in document and ATTRIBUTE_BREAKOUT not in document
    assert "<svg onload" not in document


def test_the_service_label_and_icb_name_stay_text_in_an_icb_report(hostile_warehouse):
    from pathway.report import build_report

    document = build_report(hostile_warehouse, "QX1", PERIOD).decode("utf-8")
    parsed = parse(document)
    assert "script" not in parsed.tags and "<svg onload" not in document
    text = " ".join(parsed.text)
    assert f"{HOSTILE_ICB} (QX1)" in text
    assert SERVICE_LABEL not in document  # the report names services by code; never the raw label


def test_downloads_keep_hostile_names_as_plain_cell_text():
    import pandas as pd

    from pathway.web import exports

    frame = pd.DataFrame({"area_name": list(HOSTILE_NAMES.values()) + ["=HYPERLINK(\"http://x\")"],
                          "reached": [10, "*", 5]})
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(frame).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [*HOSTILE_NAMES.values(), "'=HYPERLINK(\"http://x\")"]
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, sheet_name="</style>")))
    assert book.sheetnames == ["< style>"]  # '/' is not allowed in a sheet name: a space
    assert [c.value for c in book.active["A"]][1:3] == list(HOSTILE_NAMES.values())
    assert exports.download_name('"><img src=x onerror=alert(1)>', "csv") == "pathway-img-src-x-onerror-alert-1.csv"


@pytest.mark.parametrize("query", ["?area=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "?area=..%2F..%2Fetc%2Fpasswd",
                                   "?area=E06000901%22%3E%3Cimg"])
def test_a_report_download_for_a_hostile_area_code_is_refused_in_words(query):
    from pathway.web.components.report_download import CHOOSE_AN_AREA, report_download
    from pathway.web.filters import filters_from_query

    payload, message = report_download(filters_from_query(query), "html")
    assert payload is None and message == CHOOSE_AN_AREA


@pytest.mark.parametrize("given, safe", [
    ("../../etc/passwd", "passwd"), ("..\\..\\windows\\win.ini", "win.ini"), ("..", "upload.csv"),
    (".hidden.csv", "hidden.csv"), ("/abs/cohort.csv", "cohort.csv"), (FILE_NAME, "cohort_img src_x onerror_alert_5_.csv"),
    ("", "upload.csv"), (None, "upload.csv"),
])
def test_upload_file_names_lose_folders_dots_and_markup(hostile_warehouse, given, safe):
    from pathway.web.server import create_app

    create_app(warehouse=hostile_warehouse, open_access=True)  # pages register with the app
    from pathway.web.pages.data import _safe_file_name

    assert _safe_file_name(given) == safe
