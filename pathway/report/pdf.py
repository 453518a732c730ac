"""Printing the report's HTML to an A4 PDF with headless Chromium, offline.

Chromium prints CSS page-margin boxes (the page numbers in pathway.report.template) with
--print-to-pdf, so no DevTools session, driver or extra Python package is needed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# The machine may have no internet: without these Chromium stalls on update, sync and
# safe-browsing lookups before it prints anything.
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-pdf-header-footer", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-extensions", "--mute-audio",
]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT_SECONDS = 120


class PdfError(RuntimeError):
    """The PDF could not be printed; the message says what to install or what failed."""


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("cannot print a PDF: Chromium is not installed "
                   "(apt-get install -y chromium); the HTML report needs nothing extra")


def print_pdf(html_text: str) -> bytes:
    """The A4 PDF of a self-contained HTML document."""
    browser = chromium_path()
    with tempfile.TemporaryDirectory(prefix="pathway-report-") as scratch:
        folder = Path(scratch)
        page, pdf = folder / "report.html", folder / "report.pdf"
        page.write_text(html_text, encoding="utf-8")
        # A private profile per print: two prints at once never share (or lock) a profile.
        command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}",
                   f"--print-to-pdf={pdf}", page.as_uri()]
        try:
            finished = subprocess.run(command, capture_output=True, text=True,
                                      timeout=PRINT_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not finish printing the PDF within "
                           f"{PRINT_TIMEOUT_SECONDS} seconds") from None
        if not pdf.exists() or pdf.stat().st_size == 0:
            last = (finished.stderr or "").strip().splitlines()[-1:] or ["no message"]
            raise PdfError(f"Chromium could not print the PDF (exit {finished.returncode}): {last[0]}")
        return pdf.read_bytes()
