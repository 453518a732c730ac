"""The 'Download report' buttons every page carries: the chosen area's report (pathway.report) for the
filters in the URL, as a self-contained HTML file or an A4 PDF, through dcc.Download."""

from __future__ import annotations

import logging

from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from pathway.web import ids
from pathway.web.filters import ALL_AREAS, filters_from_query
from pathway.web.warehouse import DATABASE_UNREACHABLE, web_warehouse

log = logging.getLogger(__name__)

REPORT_PARAMS = ("from", "to")
CHOOSE_AN_AREA = "Choose an area or ICB in the filter to download its report."


def report_buttons() -> html.Div:
    return html.Div([
        html.Button("Download report (HTML)", id=ids.REPORT_HTML, type="button",
                    className="btn btn-primary btn-sm me-2"),
        html.Button("Download report (PDF)", id=ids.REPORT_PDF, type="button",
                    className="btn btn-outline-primary btn-sm"),
        dcc.Download(id=ids.REPORT_DOWNLOAD),
        html.P(id=ids.REPORT_MESSAGE, className="pathway-source mt-1 mb-0", role="status"),
    ], className="pathway-report-download mb-3")


def report_download(filters: dict, fmt: str = "html") -> tuple[dict | None, str]:
    """(the dcc.Download payload or None, a sentence for the reader) for the area and period filtered."""
    from pathway.db import WarehouseError
    from pathway.report import PdfError, ReportError, build_report

    area = filters.get("area", ALL_AREAS)
    if area == ALL_AREAS:
        return None, CHOOSE_AN_AREA
    params = {name: filters[name] for name in REPORT_PARAMS if filters.get(name)}
    try:
        content = build_report(web_warehouse(), area, params, fmt=fmt)
    except (ReportError, PdfError) as error:
        return None, f"The report could not be made: {error}"
    except WarehouseError as error:
        return None, f"{DATABASE_UNREACHABLE} ({error})."
    except Exception:  # the page stays usable; the detail goes to the server log
        log.exception("report for %s (%s) failed", area, fmt)
        return None, "The report could not be made; the detail is in the server log."
    from pathway.web.exports import download_name
    from pathway.web.warehouse import resolved_period

    # The file says what it covers: pathway-report-<area>-<from>-to-<to>.html
    period = resolved_period(filters) or {}
    name = download_name("report", fmt, {"area_code": area, "from": str(period.get("from") or ""),
                                         "to": str(period.get("to") or "")})
    return dcc.send_bytes(content, name), f"Downloaded {name}."


@callback(Output(ids.REPORT_DOWNLOAD, "data"), Output(ids.REPORT_MESSAGE, "children"),
          Input(ids.REPORT_HTML, "n_clicks"), Input(ids.REPORT_PDF, "n_clicks"), State(ids.URL, "search"),
          prevent_initial_call=True)
def download_report(_html_clicks, _pdf_clicks, search):
    fmt = "pdf" if ctx.triggered_id == ids.REPORT_PDF else "html"
    payload, message = report_download(filters_from_query(search), fmt)
    return payload or no_update, message
