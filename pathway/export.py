"""Metric results shaped for people (CSV, tables: '*' for hidden cells) and for JSON (null)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pathway.catalogue import METRICS
from pathway.disclosure import format_for_people


def frame_for_people(frame: pd.DataFrame, metric_name: str) -> pd.DataFrame:
    """The suppressed frame with '*' in every hidden count and in what rests on it."""
    # the spec the metric ran with (trend's depends on its measure), else the catalogue's
    return format_for_people(frame, frame.attrs.get("disclosure") or METRICS[metric_name].disclosure)


def records_for_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts; hidden or missing cells become None (null in JSON)."""
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for record in records:
        for key, value in record.items():
            if isinstance(value, float) and math.isnan(value):
                record[key] = None
            elif hasattr(value, "isoformat"):
                record[key] = value.isoformat()
            elif hasattr(value, "item"):  # numpy scalar
                record[key] = value.item()
    return records
