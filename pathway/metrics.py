"""Run a catalogue metric: check and default its parameters, run its named SQL with bound
parameters, then add Wilson intervals and apply disclosure control, once, on the way out.

Defaults (contract section 5), worked out per run:
- area: all (one row per area);
- as_at: the latest activity date in the warehouse (the latest measure date when there is
  no activity; today when the warehouse is empty);
- to: as_at minus the metric's follow-up days (catalogue.FOLLOW_UP_RULES), so every birth
  in the period has complete follow-up by as_at;
- from: to minus ref_parameters default_follow_up_months (12) calendar months, plus one day
  (to 2024-06-30 gives from 2023-07-01; a month end that does not exist is clipped, so
  to 2024-02-29 gives from 2023-03-01).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

import numpy as np
import pandas as pd

from pathway import catalogue
from pathway.catalogue import Metric, named_sql, statements
from pathway.db import Warehouse
from pathway.disclosure import apply_disclosure
from pathway.statistics import wilson_interval


class MetricError(ValueError):
    """A metric cannot run as asked; the message is for the person who asked."""

    def __init__(self, message: str, *, is_usage: bool = True):
        super().__init__(message)
        # True: the request was wrong (a bad parameter), the CLI's usage-error exit status.
        self.is_usage = is_usage


def list_metrics() -> list[Metric]:
    """Every metric of the catalogue, in catalogue order."""
    return catalogue.list_metrics()


def describe_metric(name: str) -> dict[str, Any]:
    """What a metric measures, its grain, columns, parameters and SQL file, for people and pickers."""
    metric = _metric(name)
    return {
        "name": metric.name,
        "title": metric.title,
        "description": metric.description,
        "grain": metric.grain,
        "keys": list(metric.keys),
        "columns": list(metric.output_columns),
        "parameters": [
            {"name": p.name, "description": p.description, "choices": list(p.choices),
             "default": p.default}
            for p in metric.parameters
        ],
        "follow_up": catalogue.FOLLOW_UP_RULES[metric.follow_up],
        "sql_file": f"queries/{metric.sql_file}",
        "source": metric.source,
    }


def run_metric(warehouse: Warehouse, name: str, params: Mapping[str, Any] | None = None, *,
               suppress: bool = True) -> pd.DataFrame:
    """One metric as a DataFrame with the contract's columns, intervals added and, unless
    suppress=False, small counts hidden and counts rounded (contract section 6)."""
    metric = _metric(name)
    _ensure_journey(warehouse)
    with warehouse.connect() as conn:
        binds = resolve_parameters(warehouse, metric, params, conn=conn)
        sql = statements(named_sql(metric.sql_file, warehouse.dialect))[0]
        used = catalogue.bind_names(sql)
        frame = warehouse.query(sql, {k: v for k, v in binds.items() if k in used}, conn=conn)
    frame = _plain_numbers(frame)
    frame = _with_intervals(frame, metric)
    frame = _in_order(frame, metric)
    if suppress:
        frame = apply_disclosure(frame, metric.disclosure, warehouse.settings.disclosure)
    return frame


def resolve_parameters(warehouse: Warehouse, metric: Metric,
                       params: Mapping[str, Any] | None, *, conn=None) -> dict[str, Any]:
    """The bound SQL parameters for a run: checked, typed and with defaults filled in."""
    given = {key: value for key, value in (params or {}).items() if value not in (None, "")}
    known = {p.name: p for p in metric.parameters}
    unknown = [key for key in given if key not in known]
    if unknown:
        accepted = ", ".join(known) or "none"
        raise MetricError(f"unknown parameter {unknown[0]!r}; "
                          f"it accepts {accepted}")

    binds: dict[str, Any] = {}
    for parameter in metric.parameters:
        if parameter.kind == "choice":
            value = str(given.get(parameter.name, parameter.default))
            if value not in parameter.choices:
                raise MetricError(f"parameter {parameter.name}={value!r} is not one "
                                  f"of {', '.join(parameter.choices)}")
            binds[parameter.bind] = value
        elif parameter.kind == "date" and parameter.name in given:
            binds[parameter.bind] = _date(parameter.name, given[parameter.name])
    if not any(p.kind in ("area", "date") for p in metric.parameters):
        return binds

    defaults = warehouse.query(named_sql("_metric_defaults.sql"), conn=conn).iloc[0]
    follow_up_days = int(defaults[f"follow_up_{metric.follow_up}"])
    binds["follow_up_days"] = follow_up_days
    as_at = binds.get("as_at") or _as_date(defaults["latest_activity_date"]) or dt.date.today()
    binds["as_at"] = as_at
    # One default period for every metric, so the views of a dashboard page describe the
    # same births: the last months whose whole pathway (to age one) is complete by as_at.
    # A metric still drops, by its own follow-up rule, any birth it cannot yet judge.
    pathway_days = int(defaults["follow_up_pathway"])
    date_to = binds.get("date_to") or as_at - dt.timedelta(days=pathway_days)
    binds["date_to"] = date_to
    if "date_from" not in binds:
        months = int(defaults["period_months"])
        binds["date_from"] = (pd.Timestamp(date_to) - pd.DateOffset(months=months)
                              + pd.Timedelta(days=1)).date()
    if binds["date_from"] > binds["date_to"]:
        raise MetricError(f"from {binds['date_from']} is after to "
                          f"{binds['date_to']}; the cohort period must run forwards")

    area = str(given.get("area", "all")).strip()
    if area != "all":
        found = warehouse.query(named_sql("_area_known.sql"), {"area": area}, conn=conn)
        if not int(found.iloc[0]["areas"]):
            raise MetricError(f"unknown area {area!r}: not an area code or ICB code "
                              "in the loaded areas table (or use area=all)")
    binds["area"] = area
    return binds


# ---- on the way out -----------------------------------------------------------------------
def _with_intervals(frame: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    """Add the 95% Wilson interval of every proportion, from the unrounded counts."""
    out = frame.copy()
    for proportion in metric.proportions:
        low, high = proportion.intervals
        numerator = pd.to_numeric(out[proportion.numerator], errors="coerce")
        denominator = pd.to_numeric(out[proportion.denominator], errors="coerce").fillna(0)
        # A proportion that cannot be measured (an instrument without a reliable-change
        # value) has no numerator, so no interval either.
        measurable = numerator.notna()
        out[low], out[high] = np.nan, np.nan
        if measurable.any():
            lows, highs = wilson_interval(numerator[measurable], denominator[measurable])
            out.loc[measurable, low] = lows
            out.loc[measurable, high] = highs
    return out


def _plain_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """PostgreSQL returns numeric results as Decimal; make them floats like DuckDB's."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object and out[column].map(lambda v: isinstance(v, Decimal)).any():
            out[column] = pd.to_numeric(out[column].map(lambda v: None if v is None else float(v)))
    return out


def _in_order(frame: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    order = [c for c in metric.order_by if c in frame.columns] or list(metric.keys)
    out = frame.sort_values(order, kind="stable").reset_index(drop=True)
    first = [c for c in metric.output_columns if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


# ---- helpers ------------------------------------------------------------------------------
def _metric(name: str) -> Metric:
    try:
        return catalogue.METRICS[name]
    except KeyError:
        raise MetricError(f"unknown metric {name!r}: one of "
                          f"{', '.join(catalogue.METRICS)}") from None


def _ensure_journey(warehouse: Warehouse) -> None:
    """Build the journey tables if no load has yet (a fresh or hand-filled warehouse)."""
    from pathway import journey

    warehouse.ensure_schema()
    with warehouse.connect() as conn:
        if journey.is_built(conn):
            return
    if warehouse.read_only:
        raise MetricError("the journey tables have not been built yet: load data first "
                          "(pathway load or pathway demo)", is_usage=False)
    with warehouse.begin() as conn:
        journey.refresh(conn)


def _date(name: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise MetricError(f"parameter {name}={text!r} is not a date; "
                          "write it as YYYY-MM-DD, e.g. 2024-03-31") from None


def _as_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return None
    return pd.Timestamp(value).date()
