"""The monthly pack: every area's report in one run, each written to its own file.

An area whose data is missing does not stop the others; the pack reports it by name and the
command line exits 1 (see `pathway report --all-areas`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from pathway.db import Warehouse
from pathway.report.build import ReportContext, ReportError, build_report


@dataclass
class PackResult:
    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)   # area code -> why, for people

    @property
    def ok(self) -> bool:
        return not self.failed


def pack_areas(warehouse: Warehouse) -> list[tuple[str, str]]:
    """(area code, area name) of every loaded area, in code order."""
    frame = warehouse.query("select area_code, area_name from areas order by area_code")
    return list(frame.itertuples(index=False, name=None))


def build_pack(warehouse: Warehouse, out_dir, *, fmt: str = "html",
               params: Mapping[str, Any] | None = None,
               on_area: Callable[[str, str], None] | None = None) -> PackResult:
    """Write report_<area code>.<fmt> for every loaded area into out_dir.

    on_area(area_code, area_name) is called before each area (the command line's progress bar).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    warehouse.ensure_schema()
    context = ReportContext.open(warehouse, params)
    result = PackResult()
    for code, name in pack_areas(warehouse):
        if on_area:
            on_area(code, name)
        try:
            document = build_report(warehouse, code, fmt=fmt, context=context)
        except ReportError as error:
            result.failed[code] = str(error)
            continue
        except RuntimeError as error:  # PDF printing (PdfError) and the like
            result.failed[code] = f"area {name} ({code}): {error}"
            continue
        path = out_dir / f"report_{code}.{fmt}"
        path.write_bytes(document)
        result.written.append(path)
    return result
