"""Where the shipped SQL, reference CSVs and web assets live, in a checkout or a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent
_BUNDLED = _PACKAGE / "_bundled"


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "shipped data not found in " + ", ".join(str(c) for c in candidates)
        + ": reinstall the package"
    )


def queries_dir() -> Path:
    """The named SQL of the metric catalogue."""
    return _first_existing(_CHECKOUT / "queries", _BUNDLED / "queries")


def reference_dir() -> Path:
    """The shipped reference CSVs (each row with its source)."""
    return _first_existing(_CHECKOUT / "data" / "reference", _BUNDLED / "reference")


def assets_dir() -> Path:
    """CSS, images and scripts served by the dashboard."""
    return _first_existing(_CHECKOUT / "assets", _BUNDLED / "assets")


def boundaries_dir() -> Path:
    """The generalised ONS boundaries of England (ICBs, sub-ICB locations, local authorities)."""
    return _first_existing(_CHECKOUT / "data" / "boundaries", _BUNDLED / "boundaries")
