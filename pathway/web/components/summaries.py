"""Totals over the rows a metric returned, for 'all areas' headlines: pooled from the counts shown.

Counts arrive suppressed and rounded, so a pooled figure is approximate and says when rows were
left out because a count was hidden.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from pathway.statistics import wilson_interval


def pooled(frame: pd.DataFrame, by: Sequence[str], numerator: str, denominator: str) -> pd.DataFrame:
    """Per group: numerator, denominator, pct with its Wilson interval, and rows_hidden (rows left
    out because a count was suppressed)."""
    columns = [*by, numerator, denominator, "pct", "ci_low", "ci_high", "rows_hidden"]
    if frame is None or frame.empty:
        return pd.DataFrame(columns=columns)
    work = frame.copy()
    work[numerator] = pd.to_numeric(work[numerator], errors="coerce")
    work[denominator] = pd.to_numeric(work[denominator], errors="coerce")
    work["_hidden"] = work[numerator].isna() | work[denominator].isna()
    grouped = work.groupby(list(by), sort=False, dropna=False) if by else [((), work)]
    rows = []
    for key, rows_of in grouped:
        key = key if isinstance(key, tuple) else (key,)
        shown = rows_of[~rows_of["_hidden"]]
        n, d = float(shown[numerator].sum()), float(shown[denominator].sum())
        low, high = wilson_interval(n, d) if d > 0 else (np.nan, np.nan)
        rows.append({**dict(zip(by, key)), numerator: n, denominator: d,
                     "pct": 100.0 * n / d if d > 0 else np.nan,
                     "ci_low": float(low), "ci_high": float(high),
                     "rows_hidden": int(rows_of["_hidden"].sum())})
    return pd.DataFrame(rows, columns=columns)


def one_area_or_pooled(frame: pd.DataFrame, area: str, by: Sequence[str], numerator: str,
                       denominator: str) -> pd.DataFrame:
    """The area's own rows when it is one area (or ICB) the metric answered for, else pooled rows."""
    if frame is None or frame.empty:
        return frame
    if area != "all" and "area_code" in frame.columns and (frame["area_code"] == area).any():
        return frame[frame["area_code"] == area]
    return pooled(frame, by, numerator, denominator)
