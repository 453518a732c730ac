"""Intervals, benchmark comparisons, funnel limits and SPC charts put on every metric on the way out.

Methods follow OHID's Public Health Data Science technical guidance (Fingertips) and NHS England's
'Making Data Count'. Everything is vectorised over numpy arrays or pandas Series; percentages run 0-100.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Literal, Mapping

import numpy as np
import pandas as pd
from scipy.stats import norm

Improvement = Literal["up", "down"] | None

# Shewhart's constant for an XmR chart: 3 / d2 with d2 = 1.128 for moving ranges of two points
# (NHS England, Making Data Count). A statistical constant, not a domain assumption.
XMR_LIMIT_FACTOR = 2.66
# Default run lengths (Making Data Count; NHSRplotthedots): 7 or more points on one side of the
# mean, 7 or more consecutive points rising or falling. The trend metric reads its own from
# ref_parameters spc_shift_run_length and spc_trend_run_length (contract v1.1 section 7.3).
RUN_LENGTH = 7
TREND_LENGTH = 7
NEAR_LIMIT_SHARE = 2 / 3  # the outer third between the mean and a process limit


@lru_cache(maxsize=16)  # scipy's ppf costs more than a small table's interval
def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), not {confidence!r}")
    return float(norm.ppf(0.5 + confidence / 2))


def _floats(values) -> np.ndarray:
    # numbers in a numpy array already (every call from run_metric): no pandas round trip
    if isinstance(values, (np.ndarray, pd.Series)) and is_numpy_numbers(values):
        return np.atleast_1d(np.asarray(values, dtype=float))
    return np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(values)), errors="coerce"),
                      dtype=float)


def is_numpy_numbers(column: pd.Series | np.ndarray) -> bool:
    """Numbers already (what pd.to_numeric gives back unchanged)."""
    return isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiub"


def numbers_of(column: pd.Series | np.ndarray) -> np.ndarray:
    """A column as a float array, what is no number (text, <NA>) as NaN; a column of numpy numbers
    without pandas' conversion, which costs more than the arithmetic on a small answer."""
    if is_numpy_numbers(column):
        return np.asarray(column, dtype=float)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def frame_with(frame: pd.DataFrame, columns: Mapping[str, Any],
               order: Callable[[list[str]], list[str]] | None = None) -> pd.DataFrame:
    """`frame` with `columns` set (replacing its own, or added after them), made as one new frame
    with its index and attrs; every value goes by row position. `order`, given every column name,
    may say another order. One construction: setting a DataFrame's columns one at a time costs
    pandas tens of microseconds each (it rebuilds its blocks), most of a small answer's time."""
    given = {name: values.array if isinstance(values, pd.Series) else values
             for name, values in columns.items()}
    # only the columns kept are read from the frame: pandas makes a Series at every read
    data = {name: given[name] if name in given else frame[name].array for name in frame.columns}
    data.update(given)
    if order is not None:
        data = {name: data[name] for name in order(list(data))}
    made = pd.DataFrame(data, index=frame.index)
    made.attrs = dict(frame.attrs)
    return made


def _like(template, values: np.ndarray):
    """Give results back in the caller's shape: a float for a scalar, a Series for a Series."""
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index)
    if np.ndim(template) == 0:
        return values[0].item() if values.dtype != object else values[0]
    return values


def _check_counts(name: str, values: np.ndarray) -> None:
    bad = np.flatnonzero(values < 0)
    if bad.size:
        raise ValueError(f"{name} at position {bad[0]}: {values[bad[0]]:g} is negative; counts are 0 or more")


# ---- proportions ----------------------------------------------------------------------

def wilson_interval(numerator, denominator, confidence: float = 0.95):
    """Wilson score interval for numerator/denominator, as percentages (low_pct, high_pct).

    OHID's preferred method for proportions; a zero or missing denominator gives NaN.
    """
    x, n = np.broadcast_arrays(_floats(numerator), _floats(denominator))
    _check_counts("numerator", x)
    over = np.flatnonzero(x > n)
    if over.size:
        i = over[0]
        raise ValueError(f"numerator at position {i}: {x[i]:g} is larger than its denominator {n[i]:g}")
    low, high = wilson_percent(x, n, confidence)
    template = numerator if np.ndim(numerator) else denominator
    return _like(template, low), _like(template, high)


def wilson_percent(x: np.ndarray, n: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """wilson_interval's arithmetic on float arrays of counts already checked (x <= n): the
    disclosure checks call it on thousands of candidate counts at a time."""
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 1 - x / n
        spread = z * np.sqrt(z**2 + 4 * x * q)
        low = (2 * x + z**2 - spread) / (2 * (n + z**2))
        high = (2 * x + z**2 + spread) / (2 * (n + z**2))
    usable = n > 0
    return (np.where(usable, np.clip(low, 0, 1) * 100, np.nan),
            np.where(usable, np.clip(high, 0, 1) * 100, np.nan))


# ---- counts and rates -----------------------------------------------------------------

def byar_interval(count, confidence: float = 0.95):
    """Byar's approximation to the exact Poisson interval for an observed count: (low, high).

    The lower limit of a zero count is 0 (the formula divides by the count); a small count at high
    confidence can give a negative lower limit, which is clipped to 0.
    """
    x = _floats(count)
    _check_counts("count", x)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        high = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    low = np.where(x == 0, 0.0, np.clip(low, 0, None))
    return _like(count, low), _like(count, high)


def rate_interval(count, denominator, multiplier: float, confidence: float = 0.95):
    """Byar's interval for a crude rate count / denominator × multiplier: (low, high)."""
    low, high = byar_interval(count, confidence)
    n = _floats(denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 0, multiplier / n, np.nan)
    low, high = np.asarray(low, dtype=float) * scale, np.asarray(high, dtype=float) * scale
    template = count if np.ndim(count) else denominator
    return _like(template, low), _like(template, high)


def rate_ratio(n1, d1, n0, d0, confidence: float = 0.95):
    """Ratio of two proportions (n1/d1) / (n0/d0) with a log-method (Katz) interval: (ratio, low, high).

    Used by the equity metric: a group's reach against the reference group's. A zero count on either
    side leaves the interval undefined (NaN).
    """
    a, b, c, d = np.broadcast_arrays(_floats(n1), _floats(d1), _floats(n0), _floats(d0))
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (a / b) / (c / d)
        se = np.sqrt(1 / a - 1 / b + 1 / c - 1 / d)
        defined = (a > 0) & (b > 0) & (c > 0) & (d > 0)
        low = np.where(defined, ratio * np.exp(-z * se), np.nan)
        high = np.where(defined, ratio * np.exp(z * se), np.nan)
        ratio = np.where((b > 0) & (d > 0) & (c > 0), ratio, np.nan)
    template = n1 if np.ndim(n1) else d1
    return _like(template, ratio), _like(template, low), _like(template, high)


# ---- comparisons ----------------------------------------------------------------------

def compare_to_benchmark(value, ci_low, ci_high, benchmark):
    """Fingertips comparison: 'similar' when the interval contains the benchmark, else 'higher'/'lower'.

    'not compared' where the value, either limit or the benchmark is missing. Whether higher is
    better depends on the indicator's polarity, which the caller applies.
    """
    v, lo, hi, bench = np.broadcast_arrays(_floats(value), _floats(ci_low), _floats(ci_high),
                                           _floats(benchmark))
    missing = np.isnan(v) | np.isnan(lo) | np.isnan(hi) | np.isnan(bench)
    result = np.select([missing, lo > bench, hi < bench], ["not compared", "higher", "lower"],
                       default="similar").astype(object)
    return _like(value, result)


def _level_name(level: float) -> str:
    return f"{level:g}".replace(".", "")


def funnel_limits(denominators, benchmark_pct: float, levels=(95.0, 99.8)) -> pd.DataFrame:
    """Funnel-plot control limits for a proportion around a benchmark percentage.

    OHID method (PHEindicatormethods `phe_funnels`): the limits at denominator n are the observed
    percentages whose Wilson score interval just reaches the benchmark, which is
    benchmark ± z·sqrt(p(1-p)/n), clipped to 0-100. Columns: denominator, lower_95, upper_95,
    lower_998, upper_998 (one pair per level).
    """
    n = _floats(denominators)
    p = float(benchmark_pct) / 100
    if not 0 <= p <= 1:
        raise ValueError(f"benchmark_pct must be between 0 and 100, not {benchmark_pct!r}")
    frame = pd.DataFrame({"denominator": n})
    with np.errstate(divide="ignore", invalid="ignore"):
        for level in levels:
            z = _z(level / 100)
            half_width = np.where(n > 0, z * np.sqrt(p * (1 - p) / n), np.nan)
            name = _level_name(level)
            frame[f"lower_{name}"] = np.clip((p - half_width) * 100, 0, 100)
            frame[f"upper_{name}"] = np.clip((p + half_width) * 100, 0, 100)
    return frame


# ---- statistical process control (NHS England, Making Data Count) ---------------------

def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end exclusive, label) of each run of equal labels."""
    runs, start = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            runs.append((start, i, labels[start]))
            start = i
    return runs


def _run_of_one_side(side: np.ndarray, run_length: int = RUN_LENGTH) -> np.ndarray:
    # A point exactly on the mean breaks a run (it is on neither side).
    flags = np.zeros(len(side), dtype=bool)
    for start, end, label in _runs(side):
        if label != 0 and end - start >= run_length:
            flags[start:end] = True
    return flags


def _trend(values: np.ndarray, trend_length: int = TREND_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Points in trend_length+ consecutive rising or falling points (flags) and the trend's
    direction (+1/-1)."""
    flags = np.zeros(len(values), dtype=bool)
    direction = np.zeros(len(values), dtype=int)
    if len(values) < 2:
        return flags, direction
    steps = np.sign(np.diff(values)).astype(int)  # a repeated value breaks a trend
    for start, end, label in _runs(steps):
        # steps[start:end] join points start..end, so a run of k steps covers k + 1 points.
        if label != 0 and end - start + 1 >= trend_length:
            flags[start:end + 1] = True
            direction[start:end + 1] = label
    return flags, direction


def _two_of_three(values: np.ndarray, mean: float, upper: float, lower: float) -> np.ndarray:
    near_high = values > mean + NEAR_LIMIT_SHARE * (upper - mean)
    near_low = values < mean - NEAR_LIMIT_SHARE * (mean - lower)
    flags = np.zeros(len(values), dtype=bool)
    for near in (near_high, near_low):
        for i in range(len(values) - 2):
            window = near[i:i + 3]
            if window.sum() >= 2:
                flags[i:i + 3] |= window  # flag only the points beyond two-thirds
    return flags


def xmr_chart(values, improvement: Improvement = None, *, run_length: int = RUN_LENGTH,
              trend_length: int = TREND_LENGTH) -> pd.DataFrame:
    """An XmR chart: mean, moving range, process limits, the four special-cause rules and variation.

    Columns: value, mean, moving_range, upper_limit, lower_limit (mean ± 2.66 × mean moving range),
    outside_limits, run_of_7, trend_of_6, two_of_three, special_cause, variation. Missing values
    are left out of the calculation and get no flags. `variation` is what the variation icon
    shows: common_cause, or improvement_/concern_/neither_ with _high or _low. A point's side is
    its side of the mean, except a point flagged only by a trend, whose side is the trend's direction.
    """
    if improvement not in ("up", "down", None):
        raise ValueError(f"improvement must be 'up', 'down' or None, not {improvement!r}")
    series = pd.Series(_floats(values) if np.ndim(values) else _floats([values]))
    if isinstance(values, pd.Series):
        series.index = values.index
    present = series.notna().to_numpy()
    v = series.to_numpy()[present]

    moving_range = np.full(len(series), np.nan)
    flags = {name: np.zeros(len(series), dtype=bool)
             for name in ("outside_limits", "run_of_7", "trend_of_6", "two_of_three")}
    variation = np.full(len(series), None, dtype=object)
    mean = upper = lower = np.nan
    if len(v):
        mean = float(v.mean())
        ranges = np.abs(np.diff(v))
        positions = np.flatnonzero(present)
        moving_range[positions[1:]] = ranges
        if len(ranges):
            upper = mean + XMR_LIMIT_FACTOR * ranges.mean()
            lower = mean - XMR_LIMIT_FACTOR * ranges.mean()
        side = np.sign(v - mean).astype(int)
        outside = (v > upper) | (v < lower)
        run = _run_of_one_side(side, run_length)
        trend, trend_direction = _trend(v, trend_length)
        near = _two_of_three(v, mean, upper, lower) if len(ranges) else np.zeros(len(v), bool)
        special = outside | run | trend | near
        point_side = np.where(trend & ~(outside | run | near), trend_direction, side)
        for name, found in (("outside_limits", outside), ("run_of_7", run),
                            ("trend_of_6", trend), ("two_of_three", near)):
            flags[name][positions] = found
        variation[positions] = [_variation(s, h, improvement) for s, h in zip(special, point_side)]

    special_cause = np.logical_or.reduce(list(flags.values()))
    variation[present & ~special_cause] = "common_cause"
    return pd.DataFrame({
        "value": series.to_numpy(),
        "mean": mean,
        "moving_range": moving_range,
        "upper_limit": upper,
        "lower_limit": lower,
        **flags,
        "special_cause": special_cause,
        "variation": variation,
    }, index=series.index)


def _variation(special: bool, side: int, improvement: Improvement) -> str:
    if not special:
        return "common_cause"
    high = side > 0
    if improvement is None:
        return "neither_high" if high else "neither_low"
    if (improvement == "up") == high:
        return "improvement_high" if high else "improvement_low"
    return "concern_high" if high else "concern_low"


def assurance(limits, target: float, improvement: Improvement) -> str | None:
    """Making Data Count assurance icon: will the process meet its target?

    `limits` is an xmr_chart frame (its latest limits are used) or (lower, upper). 'pass' when both
    limits are on the good side of the target, 'fail' when both are on the bad side, otherwise
    'hit_or_miss'. None when there is no improvement direction, target or limits.
    """
    if isinstance(limits, pd.DataFrame):
        lower, upper = limits["lower_limit"].iloc[-1], limits["upper_limit"].iloc[-1]
    else:
        lower, upper = limits
    if improvement is None or target is None or any(pd.isna(x) for x in (lower, upper, target)):
        return None
    if improvement not in ("up", "down"):
        raise ValueError(f"improvement must be 'up', 'down' or None, not {improvement!r}")
    above, below = lower > target, upper < target
    if above:
        return "pass" if improvement == "up" else "fail"
    if below:
        return "fail" if improvement == "up" else "pass"
    return "hit_or_miss"
