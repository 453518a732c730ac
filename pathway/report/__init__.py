"""Area reports for public health teams: a self-contained HTML file (or its A4 PDF) per area,
and the monthly pack of every area's report.

    from pathway.report import build_report, build_pack, ReportError
    html_bytes = build_report(warehouse, "E06000001", {"to": "2024-03-31"}, fmt="html")
"""

from pathway.report.build import ReportContext, ReportError, build_report
from pathway.report.pack import PackResult, build_pack
from pathway.report.pdf import PdfError

__all__ = ["build_report", "build_pack", "ReportContext", "ReportError", "PackResult", "PdfError"]
