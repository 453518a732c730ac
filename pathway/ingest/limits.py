"""How big a file the loader takes (contract 7.2): file size, XLSX uncompressed size, columns.

Each check runs before the expensive step it protects: the size before a byte is read, an
XLSX workbook's declared uncompressed sizes (its zip directory) before anything is inflated,
the number of columns before DuckDB allocates a buffer per column. A refusal names the file,
the limit, the actual figure and the setting that changes the limit.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from pathway.settings import Settings


class TooBig(Exception):
    """A file over a limit; the message is for people."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    xlsx_max_ratio: float
    xlsx_max_bytes: int
    max_columns: int
    file_setting: str = "PATHWAY_MAX_FILE_BYTES"

    @classmethod
    def from_settings(cls, settings: Settings, *, upload: bool = False) -> "Limits":
        """The command line's limits, or the dashboard upload's smaller file size."""
        return cls(max_file_bytes=settings.dashboard_upload_limit if upload else settings.max_file_bytes,
                   xlsx_max_ratio=settings.xlsx_max_ratio, xlsx_max_bytes=settings.xlsx_max_bytes,
                   max_columns=settings.max_columns,
                   file_setting="PATHWAY_DASHBOARD_UPLOAD_LIMIT" if upload else "PATHWAY_MAX_FILE_BYTES")

    def check_file_size(self, name: str, size: int) -> None:
        if size > self.max_file_bytes:
            raise TooBig(f"{name} is too big to load: it is {size_words(size)}, more than the "
                         f"{size_words(self.max_file_bytes)} limit for one file "
                         f"(setting {self.file_setting})")

    def check_columns(self, name: str, columns: int) -> None:
        if columns > self.max_columns:
            raise TooBig(f"{name} has too many columns to load: {columns:,}, more than the "
                         f"limit of {self.max_columns:,} (setting PATHWAY_MAX_COLUMNS)")

    def xlsx_limit(self, file_bytes: int) -> int:
        return int(min(self.xlsx_max_ratio * file_bytes, self.xlsx_max_bytes))

    def check_xlsx(self, name: str, path: Path) -> None:
        """Sum the sizes the workbook's zip directory declares (reading inflates no more:
        Python's zipfile stops at the declared size and fails the checksum)."""
        try:
            with zipfile.ZipFile(path) as archive:
                declared = sum(member.file_size for member in archive.infolist())
        except (zipfile.BadZipFile, OSError):
            return   # not a zip: openpyxl refuses it with its own message
        limit = self.xlsx_limit(path.stat().st_size)
        if declared > limit:
            raise TooBig(f"{name} is too big to load: it unpacks to {size_words(declared)}, more "
                         f"than its limit of {size_words(limit)} ({self.xlsx_max_ratio:g} times "
                         f"the file's size, at most {size_words(self.xlsx_max_bytes)}; settings "
                         "PATHWAY_XLSX_MAX_RATIO and PATHWAY_XLSX_MAX_BYTES)")


def size_words(size: int) -> str:
    """Bytes in words: 2 GiB, 200 MB, 1.3 KB (decimal units below a gibibyte)."""
    if size >= 1 << 30 and size % (1 << 30) == 0:
        return f"{size >> 30} GiB"
    if size >= 1 << 30:
        return f"{size / (1 << 30):.2f} GiB"
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"
