"""Totals over the rows a metric returned, for 'all areas' headlines: pooled from the counts shown.

Counts arrive suppressed and rounded, so a pooled figure is approximate and says when rows were
left out because a count was hidden.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from pathway.disclosure import at_most_one_place, percent_step
from pathway.statistics import wilson_interval


def _to_step(values: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Half up to the step (0.1 or 1), as the disclosure step rounds; NaN stays NaN."""
    return np.round(np.floor(values / step + 0.5 + 1e-9) * step, 1)


def pooled(frame: pd.DataFrame, by: Sequence[str], numerator: str, denominator: str) -> pd.DataFrame:
    """Per group: numerator, denominator, pct with its Wilson interval, and rows_hidden (rows left
    out because a count was suppressed)."""
    columns = [*by, numerator, denominator, "pct", "ci_low", "ci_high", "rows_hidden"]
    if frame is None or frame.empty:
        return pd.DataFrame(columns=columns)
    n = pd.to_numeric(frame[numerator], errors="coerce").to_numpy(dtype=float)
    d = pd.to_numeric(frame[denominator], errors="coerce").to_numpy(dtype=float)
    hidden = np.isnan(n) | np.isnan(d)
    # Hidden rows count as zero people: one vectorised sum per group instead of a loop over groups.
    shown = pd.DataFrame({"n": np.where(hidden, 0.0, n), "d": np.where(hidden, 0.0, d),
                          "rows_hidden": hidden.astype(int)})
    if by:
        keys = [frame[column].to_numpy() for column in by]
        sums = shown.groupby(keys, sort=False, dropna=False).sum()
        out = pd.DataFrame({column: sums.index.get_level_values(i) for i, column in enumerate(by)}) \
            if len(by) > 1 else pd.DataFrame({by[0]: sums.index})
    else:
        sums = shown.sum().to_frame().T
        out = pd.DataFrame(index=range(1))
    total_n, total_d = sums["n"].to_numpy(dtype=float), sums["d"].to_numpy(dtype=float)
    low, high = wilson_interval(total_n, total_d)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(total_d > 0, 100.0 * total_n / total_d, np.nan)
    # at the precision a percentage of this (rounded) denominator is shown at (contract 7.4):
    # one decimal place from 4,000, else whole percent; a chart sends no more than the table
    step = percent_step(total_d)
    out[numerator], out[denominator], out["pct"] = total_n, total_d, _to_step(pct, step)
    out["ci_low"] = _to_step(np.asarray(low, dtype=float), step)
    out["ci_high"] = _to_step(np.asarray(high, dtype=float), step)
    out["rows_hidden"] = sums["rows_hidden"].to_numpy(dtype=int)
    return out[columns].reset_index(drop=True)


def one_area_or_pooled(frame: pd.DataFrame, area: str, by: Sequence[str], numerator: str,
                       denominator: str) -> pd.DataFrame:
    """The area's own rows when it is one area (or ICB) the metric answered for, else pooled rows."""
    if frame is None or frame.empty:
        return frame
    if area != "all" and "area_code" in frame.columns and (frame["area_code"] == area).any():
        return frame[frame["area_code"] == area]
    return pooled(frame, by, numerator, denominator)


def percent_text(value) -> str:
    """A percentage as people read it in text alternatives and tables, at the precision it was
    disclosed to ('12%', not '12.0%'; '93.4%' over 4,000 or more), or '*' where disclosure
    control hid it."""
    return "*" if value is None or pd.isna(value) else f"{at_most_one_place(float(value))}%"


def left_out_words(frame: pd.DataFrame, columns: Sequence[str], noun: str = "rows") -> str:
    """What a total over `frame` leaves out, in words for the page: '' when nothing, else e.g.
    '2 of 24 rows are left out of these totals: a count in them is hidden because it is small
    (or would let a small count be worked out)'."""
    present = [c for c in columns if c in frame.columns]
    if frame is None or frame.empty or not present:
        return ""
    hidden = frame[present].apply(pd.to_numeric, errors="coerce").isna().any(axis=1)
    if not hidden.any():
        return ""
    return (f"{int(hidden.sum())} of {len(frame)} {noun} {'is' if hidden.sum() == 1 else 'are'} left out of "
            "these totals: a count in them is hidden because it is small (or would let a small "
            "count be worked out)")

