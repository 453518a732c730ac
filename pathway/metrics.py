"""Run a catalogue metric: check and default its parameters, run its named SQL with bound
parameters, then add Wilson intervals and apply disclosure control, once, on the way out.

Defaults (contract section 5), worked out per run:
- area: all (one row per area);
- as_at: the latest activity date in the warehouse on or before the day of loading (the
  latest measure date when there is none; the day of loading when the warehouse is empty);
- to: as_at minus the metric's follow-up days (catalogue.FOLLOW_UP_RULES), so every birth
  in the period has complete follow-up by as_at;
- from: to minus ref_parameters default_follow_up_months (12) calendar months, plus one day
  (to 2024-06-30 gives from 2023-07-01; a month end that does not exist is clipped, so
  to 2024-02-29 gives from 2023-03-01).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
import weakref
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import pandas as pd
import sqlalchemy as sa

from pathway import answers, catalogue
from pathway.catalogue import Metric, named_sql, statements
from pathway.db import Warehouse, native_duckdb
from pathway.disclosure import apply_disclosure
from pathway.reference import read_reference_csv
from pathway.resources import reference_dir
from pathway import economics, statistics
from pathway.statistics import frame_with, numbers_of, rate_ratio, wilson_interval


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
    suppress=False, small counts hidden and counts rounded (contract section 6).

    A suppressed answer precomputed for these parameters and this data version
    (pathway.answers) is given back as stored; anything else runs live."""
    metric = _metric(name)
    warehouse.ensure_schema()
    with warehouse.connect() as conn:
        # the data version and the journey check on the connection the metric runs on
        version = _ready_version(warehouse, conn)
        if version is not None:
            stored, frame, binds = _stored_or_rows(warehouse, metric, params, suppress, conn, version)
    if version is None:
        # a rebuild, in a transaction of its own, then the answer at the version it gives
        # (never a second check: one that still did not count as current would loop)
        version = ensure_journey(warehouse)
        with warehouse.connect() as conn:
            stored, frame, binds = _stored_or_rows(warehouse, metric, params, suppress, conn, version)
    if stored is not None:
        return stored
    return _finish(warehouse, metric, frame, binds, suppress=suppress)


def _stored_or_rows(warehouse: Warehouse, metric: Metric, params: Mapping[str, Any] | None,
                    suppress: bool, conn, version: answers.DataVersion):
    """(the stored answer, None, binds) when precompute kept one, else (None, the SQL's rows, binds)."""
    steps = _STEPS.get(metric.name, MetricSteps())
    binds = resolve_parameters(warehouse, metric, params, conn=conn, version=version)
    if steps.prepare:
        steps.prepare(warehouse, binds, params or {}, conn)
    _disclosure_binds(warehouse, binds, suppress)
    if suppress:
        stored = answers.stored_answer(warehouse, conn, version, metric.name, binds)
        if stored is not None:
            # what Parquet does not keep: the spec the answer was disclosed under
            stored.attrs["disclosure"] = metric.disclosure_for(binds)
            stored.attrs["suppressed"] = True
            return stored, None, binds
    return None, _sql_frame(*_sql_rows(warehouse, metric, binds, conn)), binds


def _disclosure_binds(warehouse: Warehouse, binds: dict, suppress: bool) -> None:
    """The disclosure policy, for SQL that summarises across areas from disclosed counts
    (unsuppressed: the counts as they are)."""
    policy = warehouse.settings.disclosure
    binds["suppress_below"] = policy.suppress_below if suppress else 0
    binds["round_to"] = policy.round_to if suppress else 1


# PostgreSQL compiles a costly plan to machine code before running it (JIT). A metric's plan
# is costly by its estimates but quick to run: on the national demo compiling took 2.3 s of one
# 8.5 s answer, and every metric answered as fast or faster without it (one area's mandated
# contacts 255 -> 150 ms, all areas' risk pathway 3.3 -> 1.9 s). For the metric's transaction
# only: loads and journey rebuilds keep the server's setting.
POSTGRES_METRIC_SETTINGS = sa.text("set local jit = off")


def _sql_rows(warehouse: Warehouse, metric: Metric, binds: dict, conn) -> tuple[list[str], list]:
    """The metric's named SQL run with its bound parameters: (column names, rows)."""
    sql, used = _sql_of(metric, warehouse.dialect)
    values = {k: v for k, v in binds.items() if k in used}
    if warehouse.is_duckdb:
        # on DuckDB's own connection (the same transaction), its rows the same tuples: through
        # SQLAlchemy the fixed cost of a metric was a millisecond more (issue 15)
        cursor = native_duckdb(conn).execute(_dollar_binds(sql), values)
        columns, rows = [d[0] for d in cursor.description], cursor.fetchall()
    else:
        conn.execute(POSTGRES_METRIC_SETTINGS)
        result = conn.execute(sa.text(sql), values)
        columns, rows = list(result.keys()), result.fetchall()
    _SQL_COLUMNS.setdefault((metric.name, warehouse.dialect), tuple(columns))
    return columns, rows


def _sql_frame(columns: list[str], rows: list) -> pd.DataFrame:
    # plain tuples: pandas builds a frame from SQLAlchemy's Row objects ten times slower
    return pd.DataFrame(list(map(tuple, rows)), columns=columns)


_SQL_TEXT: dict[tuple[str, str], tuple[str, frozenset[str], bool]] = {}
_SQL_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {}


def _sql_of(metric: Metric, dialect: str) -> tuple[str, frozenset[str]]:
    """A metric's first statement and the names it binds, read from queries/ once per process.

    Once its columns are known (its first run), the statement also puts its rows in the order
    _in_order wants: the database sorts a result in microseconds, pandas in a third of a
    millisecond (_in_order checks, and sorts only where the two disagree)."""
    key = (metric.name, dialect)
    if key not in _SQL_TEXT:
        sql = statements(named_sql(metric.sql_file, dialect))[0]
        _SQL_TEXT[key] = (sql, frozenset(catalogue.bind_names(sql)), False)
    sql, used, ordered = _SQL_TEXT[key]
    if not ordered and key in _SQL_COLUMNS:
        order = []
        for column in metric.order_by or metric.keys:  # the keys the SQL gives, up to one it does not
            if column not in _SQL_COLUMNS[key]:
                break
            order.append(f'"{column}"')
        if order:
            sql = f"select * from (\n{sql}\n) as answer\norder by {', '.join(order)}"
        _SQL_TEXT[key] = (sql, used, True)
    return sql, used


@functools.cache
def _dollar_binds(sql: str) -> str:
    """SQL with SQLAlchemy's :name parameters written as DuckDB's $name."""
    return catalogue.BIND.sub(r"$\1", sql)


def _finish(warehouse: Warehouse, metric: Metric, frame: pd.DataFrame, binds: dict, *,
            suppress: bool, siblings: bool = True) -> pd.DataFrame:
    """Intervals, the metric's own steps, order and (unless suppress=False) disclosure control;
    siblings=False leaves an ICB's answer as the one-metric guard leaves it."""
    steps = _STEPS.get(metric.name, MetricSteps())
    if not warehouse.is_duckdb:
        frame = _plain_numbers(frame)
    frame = _with_intervals(frame, metric)
    if steps.derive:
        frame = steps.derive(frame, binds)
    frame = _in_order(frame, metric)
    spec = metric.disclosure_for(binds)
    if suppress:
        exact = frame
        recompute = (lambda shown: steps.from_shown_counts(shown, binds)) \
            if steps.from_shown_counts else None
        frame = apply_disclosure(frame, spec, warehouse.settings.disclosure, recompute=recompute)
        if steps.after_disclosure:
            frame = steps.after_disclosure(frame, binds)
        frame = _beside_its_areas(warehouse, metric, frame, binds, exact, siblings)
    frame.attrs["disclosure"] = spec
    frame.attrs["suppressed"] = suppress
    return frame


def _beside_its_areas(warehouse: Warehouse, metric: Metric, frame: pd.DataFrame, binds: dict,
                      truth: pd.DataFrame, siblings: bool = True) -> pd.DataFrame:
    """An ICB's answer with any count hidden that its areas' answers would pin beside it, then
    (unless siblings=False) any more that the metrics showing one of its counts would pin
    (catalogue.SAME_COUNTS; pathway.disclosure_hierarchy). Areas' answers and one-metric ICB
    answers are worked out once per data version."""
    from pathway.disclosure_hierarchy import Sibling, hide_pinned_icb_cells

    area, spec = binds.get("area"), metric.disclosure_for(binds)
    if area in (None, "all") or "area_code" not in frame.columns or not spec.counts:
        return frame
    # under the version run_metric has just read (one area asks nothing more of the warehouse)
    members = answers.PER_VERSION.current(warehouse, ("areas of ICB", area), lambda: list(
        warehouse.query("select area_code from areas where icb_code = :icb", {"icb": area})["area_code"]))
    if not members:
        return frame  # one area: its row is the all-areas answer's own
    version = ensure_journey(warehouse)
    policy = warehouse.settings.disclosure
    shown, exact = _areas_answers(warehouse, metric, binds, version)
    mine = shown["area_code"].isin(members).to_numpy()
    # the one-metric answer, worked out once per version: a metric's ICB answers are asked for
    # themselves and beside each of their siblings' (the same binds give the same answer)
    alone, _ = answers.PER_VERSION.get(
        warehouse, version, ("one-metric ICB answer", metric.name, answers.params_key(binds, policy)),
        lambda: (hide_pinned_icb_cells(metric.name, frame, truth, shown[mine], exact[mine], spec, policy),
                 truth))
    frame = alone.copy()
    if not siblings:
        return frame
    beside = []
    for name in _siblings_of(metric, frame):
        other = catalogue.METRICS[name]
        other_binds = _sibling_binds(warehouse, metric, other, binds, version)
        other_shown, other_exact = _areas_answers(warehouse, other, other_binds, version)
        icb_shown, icb_exact = answers.PER_VERSION.get(
            warehouse, version, ("one-metric ICB answer", name, answers.params_key(other_binds, policy)),
            lambda: _one_metric_icb_answer(warehouse, other, other_binds, version))
        theirs = other_shown["area_code"].isin(members).to_numpy()
        beside.append(Sibling(name, other_shown[theirs], other_exact[theirs], icb_shown, icb_exact,
                              other.disclosure_for(other_binds)))
    if not beside:
        return frame
    return hide_pinned_icb_cells(metric.name, frame, truth, shown[mine], exact[mine], spec, policy,
                                 tuple(beside))


def _areas_answers(warehouse: Warehouse, metric: Metric, binds: dict,
                   version: answers.DataVersion) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A metric's answer for all areas, shown and exact, once per data version."""
    shown, exact, _ = _all_areas(warehouse, metric, binds, version)
    return shown, exact


def _all_areas(warehouse: Warehouse, metric: Metric, binds: dict, version: answers.DataVersion
               ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[list[str], list]]:
    """A metric's answer for all areas (binds' other parameters), shown and exact, and the rows
    of its SQL, worked out once per data version: a precompute stores the shown one, cuts every
    area's rows from the SQL's, and the ICB guard sets each ICB's areas beside the ICB."""
    whole = {**binds, "area": "all"}

    def made() -> tuple[pd.DataFrame, pd.DataFrame, tuple[list[str], list]]:
        with warehouse.connect() as conn:
            rows = _sql_rows(warehouse, metric, whole, conn)
        return (_finish(warehouse, metric, _sql_frame(*rows), whole, suppress=True),
                _finish(warehouse, metric, _sql_frame(*rows), whole, suppress=False), rows)

    return answers.PER_VERSION.get(warehouse, version, (
        "all areas shown and exact", metric.name, answers.params_key(whole, warehouse.settings.disclosure)), made)


def _siblings_of(metric: Metric, frame: pd.DataFrame) -> list[str]:
    """The other metrics showing one of the counts of this answer (catalogue.SAME_COUNTS), in
    catalogue order; a group whose column the answer lacks is skipped."""
    found = set()
    for group in catalogue.same_counts_of(metric.name):
        if any(m == metric.name and c in frame.columns for m, c in group.columns):
            found |= {m for m, _ in group.columns if m != metric.name}
    return [name for name in catalogue.METRICS if name in found]


def _sibling_binds(warehouse: Warehouse, metric: Metric, other: Metric, binds: dict,
                   version: answers.DataVersion | None = None) -> dict:
    """The bound parameters of `other` run as `metric` was: only the parameters it takes, with
    the values `metric` resolved them to (under `version`, when the caller has read it: reading
    it again for every sibling of every ICB was a twentieth of a national precompute)."""
    mine = {p.name: p for p in metric.parameters}
    params = {p.name: binds.get(mine[p.name].bind) for p in other.parameters
              if p.name in mine and binds.get(mine[p.name].bind) is not None}
    with warehouse.connect() as conn:
        return _suppressed_binds(warehouse, other, params, conn, version)


def _one_metric_icb_answer(warehouse: Warehouse, metric: Metric, binds: dict,
                           version: answers.DataVersion | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A metric's ICB answer as the one-metric guard leaves it, and its exact answer: its rows
    cut from the run over every ICB where a precompute has made and checked one under this
    version, else live."""
    cut = None if version is None else \
        answers.PER_VERSION.peek(warehouse, version, _icb_cut_key(warehouse, metric, binds))
    rows = cut.rows_for(binds) if cut is not None else None
    if rows is None:
        with warehouse.connect() as conn:
            rows = _sql_rows(warehouse, metric, binds, conn)
    exact = _finish(warehouse, metric, _sql_frame(*rows), binds, suppress=False)
    return _finish(warehouse, metric, _sql_frame(*rows), binds, suppress=True, siblings=False), exact


def first_request_answers(warehouse: Warehouse, name: str, requests: list[dict], done: set,
                          policy, *, deadline: float, summary) -> Iterator[tuple[str, pd.DataFrame]]:
    """(params key, suppressed answer) for each request not yet `done`, for pathway.answers.precompute.

    One run over every area (area=all) is cut into each area's answer, and one over every ICB
    (answers.EVERY_ICB) into each ICB's, when a live run of the first area (ICB) gives the same
    rows, checked per metric; a metric that fails the check runs each area (ICB) live. Stops
    starting new runs after `deadline` (time.perf_counter())."""
    metric = _metric(name)
    version = ensure_journey(warehouse)
    with warehouse.connect() as conn:
        area_codes = _area_codes(warehouse, version, conn)
        todo = []
        for params in requests:
            binds = _suppressed_binds(warehouse, metric, params, conn, version)
            key = answers.params_key(binds, policy)
            if (metric.name, key) not in done:
                todo.append((binds, key))
        # The one run every area's answer is cut from (the all-areas run), and whether cutting
        # gave the live answer for the first area (None: not checked yet); ICBs: _icb_cut.
        whole: dict[str, tuple[dict, list[str], dict[Any, list]] | None] = {}
        area_cut_ok: bool | None = None
        for binds, key in todo:
            if time.perf_counter() > deadline:
                return
            area = binds.get("area")
            if area == "all":
                yield key, _all_areas(warehouse, metric, binds, version)[0].copy()
                continue
            rows = None  # (columns, rows) cut from a run over many areas
            if area in area_codes and area_cut_ok is not False:
                if "all" not in whole:
                    whole["all"] = _rows_by_area(*_all_areas(warehouse, metric, binds, version)[2], binds)
                found = whole["all"]
                if found is not None and _same_but_area(binds, found[0]):
                    rows = (found[1], found[2].get(area, []))
                    if area_cut_ok is None:
                        live = _sql_frame(*_sql_rows(warehouse, metric, binds, conn))
                        area_cut_ok = _same_rows(live, _sql_frame(*rows), metric)
                        if area_cut_ok:
                            summary.split_metrics.append(f"{metric.name} (area)")
                        else:
                            rows = None
            elif area not in area_codes and area not in (None, "all"):
                cut = _icb_cut(warehouse, metric, binds, version, conn)
                rows = cut.rows_for(binds) if cut is not None else None
                if rows is not None and f"{metric.name} (ICB)" not in summary.split_metrics:
                    summary.split_metrics.append(f"{metric.name} (ICB)")
            if rows is None:
                rows = _sql_rows(warehouse, metric, binds, conn)
            frame = _sql_frame(*rows)
            yield key, _finish(warehouse, metric, frame, binds, suppress=True)


@dataclass
class _IcbCut:
    """A metric's run over every ICB (answers.EVERY_ICB), its rows by ICB, and whether the first
    ICB's rows cut from it were the rows of its own live run (right)."""

    binds: dict
    columns: list[str]
    by_area: dict[Any, list]
    right: bool

    def rows_for(self, binds: dict) -> tuple[list[str], list] | None:
        """(columns, rows) of binds' ICB, when the cut was right and binds differ from the run's
        only in their area; else None (run live)."""
        if not self.right or not _same_but_area(binds, self.binds):
            return None
        return self.columns, self.by_area.get(binds["area"], [])


def _icb_cut_key(warehouse: Warehouse, metric: Metric, binds: dict) -> tuple:
    every = {**binds, "area": answers.EVERY_ICB}
    return ("rows of every ICB", metric.name, answers.params_key(every, warehouse.settings.disclosure))


def _icb_cut(warehouse: Warehouse, metric: Metric, binds: dict, version: answers.DataVersion,
             conn) -> _IcbCut | None:
    """The run of a metric over every ICB with binds' other parameters, checked against a live
    run of binds' ICB; kept per data version, so the ICB answers a precompute stores and the
    one-metric answers the ICB guard sets beside its siblings' come from one run. None for a
    metric without area_code."""
    def make() -> _IcbCut | None:
        every = {**binds, "area": answers.EVERY_ICB}
        found = _rows_by_area(*_sql_rows(warehouse, metric, every, conn), binds)
        if found is None:
            return None
        _, columns, by_area = found
        live = _sql_frame(*_sql_rows(warehouse, metric, binds, conn))
        right = _same_rows(live, _sql_frame(columns, by_area.get(binds["area"], [])), metric)
        return _IcbCut(binds, columns, by_area, right)

    return answers.PER_VERSION.get(warehouse, version, _icb_cut_key(warehouse, metric, binds), make)


def prepare_icb_cuts(warehouse: Warehouse, name: str, requests: list[dict]) -> None:
    """Make the run over every ICB of metric `name` for its first ICB request, before any metric
    is precomputed: the ICB guard of an earlier metric sets this one's ICB answers beside its own
    and cuts them from it (one run in place of one for each ICB)."""
    metric = _metric(name)
    version = ensure_journey(warehouse)
    with warehouse.connect() as conn:
        area_codes = _area_codes(warehouse, version, conn)
        for params in requests:
            if params.get("area") in (None, "all") or params.get("area") in area_codes:
                continue
            _icb_cut(warehouse, metric, _suppressed_binds(warehouse, metric, params, conn, version),
                     version, conn)
            return


def _area_codes(warehouse: Warehouse, version: answers.DataVersion, conn) -> set:
    return answers.PER_VERSION.get(warehouse, version, "area codes", lambda: {
        row[0] for row in conn.execute(sa.text("select area_code from areas"))})


def _suppressed_binds(warehouse: Warehouse, metric: Metric, params: dict, conn,
                      version: answers.DataVersion | None) -> dict:
    """A request's binds as a suppressed run has them: resolved, prepared, with the policy."""
    binds = resolve_parameters(warehouse, metric, params, conn=conn, version=version)
    steps = _STEPS.get(metric.name, MetricSteps())
    if steps.prepare:
        steps.prepare(warehouse, binds, params, conn)
    _disclosure_binds(warehouse, binds, suppress=True)
    return binds


def _rows_by_area(columns: list[str], rows: list, binds: dict) -> tuple[dict, list[str], dict[Any, list]] | None:
    """(binds, columns, rows of each area_code) of a run over many areas; None without area_code."""
    if "area_code" not in columns:
        return None
    position = columns.index("area_code")
    by_area: dict[Any, list] = {}
    for row in rows:
        by_area.setdefault(row[position], []).append(row)
    return binds, columns, by_area


def _same_but_area(binds: dict, other: dict) -> bool:
    return {k: v for k, v in binds.items() if k != "area"} == {k: v for k, v in other.items() if k != "area"}


def _same_rows(left: pd.DataFrame, right: pd.DataFrame, metric: Metric) -> bool:
    """The same rows, whatever their order (floats to a hair: engines sum in any order)."""
    if list(left.columns) != list(right.columns) or len(left) != len(right):
        return False
    keys = [k for k in metric.keys if k in left.columns] or list(left.columns)
    try:
        pd.testing.assert_frame_equal(left.sort_values(keys, kind="stable").reset_index(drop=True),
                                      right.sort_values(keys, kind="stable").reset_index(drop=True),
                                      check_exact=False, rtol=1e-9)
    except (AssertionError, TypeError, ValueError):
        return False
    return True


def resolve_parameters(warehouse: Warehouse, metric: Metric,
                       params: Mapping[str, Any] | None, *, conn=None,
                       version: answers.DataVersion | None = None) -> dict[str, Any]:
    """The bound SQL parameters for a run: checked, typed and with defaults filled in.

    The defaults and the known areas are read once per data version (pathway.answers)."""
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
        elif parameter.kind == "number":
            binds[parameter.bind] = _number(parameter, given.get(parameter.name, parameter.default))
        elif parameter.kind == "text":
            value = given.get(parameter.name, parameter.default)
            binds[parameter.bind] = None if value is None else str(value).strip()
    if not any(p.kind in ("area", "date") for p in metric.parameters):
        return binds

    if conn is None:
        with warehouse.connect() as own:
            return resolve_parameters(warehouse, metric, params, conn=own, version=version)
    version = version or answers.read_version(conn)
    load_day = warehouse.settings.day_of_loading()
    defaults = answers.PER_VERSION.get(
        warehouse, version, ("defaults", load_day),
        lambda: warehouse.query(named_sql("_metric_defaults.sql"), {"load_day": load_day},
                                conn=conn).iloc[0])
    follow_up_days = int(defaults[f"follow_up_{metric.follow_up}"])
    binds["follow_up_days"] = follow_up_days
    as_at = binds.get("as_at") or _as_date(defaults["latest_activity_date"]) or load_day
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
        known = answers.PER_VERSION.get(
            warehouse, version, ("area known", area),
            lambda: bool(int(warehouse.query(named_sql("_area_known.sql"), {"area": area},
                                             conn=conn).iloc[0]["areas"])))
        if not known or area == answers.EVERY_ICB:
            raise MetricError(f"unknown area {area!r}: not an area code or ICB code "
                              "in the loaded areas table (or use area=all)")
    binds["area"] = area
    return binds


# ---- on the way out -----------------------------------------------------------------------
def _with_intervals(frame: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    """Add the 95% Wilson interval of every proportion, from the unrounded counts."""
    added: dict[str, np.ndarray] = {}
    for proportion in metric.proportions:
        low, high = proportion.intervals
        numerator = numbers_of(frame[proportion.numerator])
        denominator = np.nan_to_num(numbers_of(frame[proportion.denominator]), nan=0.0)
        # A proportion that cannot be measured (an instrument without a reliable-change
        # value) has no numerator, so no interval either.
        measurable = ~np.isnan(numerator)
        lows, highs = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
        if measurable.any():
            lows[measurable], highs[measurable] = wilson_interval(numerator[measurable],
                                                                  denominator[measurable])
        added[low], added[high] = lows, highs
    # in the order _in_order wants, not inserted one at a time and the whole frame reselected
    # after (together a tenth of a small metric's time)
    return frame_with(frame, added, order=lambda columns: _shown_order(columns, metric))


def _plain_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """PostgreSQL returns numeric results as Decimal; make them floats like DuckDB's."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype != object:
            continue
        # a numeric column holds Decimals (or nulls) in every row: one value tells
        present = out[column].dropna()
        if len(present) and isinstance(present.iloc[0], Decimal):
            out[column] = pd.to_numeric(out[column].map(lambda v: None if v is None else float(v)))
    return out


def _in_order(frame: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    order = [c for c in metric.order_by if c in frame.columns] or list(metric.keys)
    out = frame.sort_values(order, kind="stable").reset_index(drop=True) \
        if len(frame) > 1 and not _in_order_already(frame, order) else frame.reset_index(drop=True)
    columns = _shown_order(out.columns, metric)
    return out if list(out.columns) == columns else out[columns]


def _shown_order(columns, metric: Metric) -> list[str]:
    """The columns in the order the metric shows them: its output columns, then any others."""
    first = [c for c in metric.output_columns if c in columns]
    return first + [c for c in columns if c not in first]


def _in_order_already(frame: pd.DataFrame, order: list[str]) -> bool:
    """Whether the rows are already in order (as most SQL gives them): a stable sort would leave
    them as they are, and costs a third of a millisecond on a dozen rows. Only said when sure:
    a missing value or values that do not compare mean sorting."""
    tied = np.ones(len(frame) - 1, dtype=bool)  # row i and row i + 1 tie on every key so far
    try:
        for column in order:
            values = frame[column].to_numpy()
            if pd.isna(values).any():
                return False
            later, same = values[1:] > values[:-1], values[1:] == values[:-1]
            if (tied & ~(later | same)).any():  # out of order where the earlier keys tie
                return False
            tied &= same  # a pair a later key puts in order is settled
            if not tied.any():
                break
    except TypeError:
        return False
    return True


# ---- helpers ------------------------------------------------------------------------------
def _metric(name: str) -> Metric:
    try:
        return catalogue.METRICS[name]
    except KeyError:
        raise MetricError(f"unknown metric {name!r}: one of "
                          f"{', '.join(catalogue.METRICS)}") from None


_JOURNEY_SEEN_BUILT: "weakref.WeakSet[Warehouse]" = weakref.WeakSet()


def ensure_journey(warehouse: Warehouse) -> answers.DataVersion:
    """Build the journey tables when missing or older than the latest load (a fresh or
    hand-filled warehouse, or a batch stopped between a file's commit and the rebuild);
    the data version they are current at (one round trip when they are)."""
    from pathway import journey

    warehouse.ensure_schema()
    with warehouse.connect() as conn:
        version = _ready_version(warehouse, conn)
    if version is not None:
        return version
    if warehouse.read_only:
        raise MetricError("the journey tables have not been built yet: load data first "
                          "(pathway load or pathway demo)", is_usage=False)
    with warehouse.begin() as conn:
        journey.refresh_after_load(conn)
        version = answers.read_version(conn)
    if not version.journey_current:  # a bug: say so rather than rebuild on every call
        raise MetricError(f"the journey tables were rebuilt but are still older than load "
                          f"{version.latest_journey_load}", is_usage=False)
    _JOURNEY_SEEN_BUILT.add(warehouse)
    return version


_ensure_journey = ensure_journey


def _ready_version(warehouse: Warehouse, conn) -> answers.DataVersion | None:
    """ensure_journey's check on the caller's connection: the data version when the journey
    tables need no rebuild, else None (the caller rebuilds through ensure_journey)."""
    from pathway import journey

    version = answers.current_version(warehouse, conn)
    # Whether every derived table exists is asked once per warehouse and process: a rebuild
    # drops and creates them in one transaction, so they cannot go missing after.
    if warehouse not in _JOURNEY_SEEN_BUILT and not journey.is_built(conn):
        return None
    if version.journey_current or warehouse.read_only:
        _JOURNEY_SEEN_BUILT.add(warehouse)
        return version
    return None


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


def _number(parameter: catalogue.Parameter, value: Any) -> float | None:
    """A number parameter, checked against its range; None (not given) lets the SQL default it."""
    if value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise MetricError(f"parameter {parameter.name}={value!r} is not a number") from None
    low = -np.inf if parameter.minimum is None else parameter.minimum
    high = np.inf if parameter.maximum is None else parameter.maximum
    if not low <= number <= high:
        raise MetricError(f"parameter {parameter.name}={value!r} is outside {low:g} to {high:g}")
    return number


def _as_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


# ---- steps particular to one metric ---------------------------------------------------------
# A metric whose figures need more than SQL and Wilson intervals (rate ratios, flags against an
# interval, XmR limits) names its extra steps here; run_metric calls them in this order:
# prepare (check and add binds, before the SQL), derive (after the intervals, on unrounded
# counts), from_shown_counts (inside disclosure: work the spec's Recomputed figures out again
# from the shown counts), after_disclosure (hide what a suppressed count would give away).
@dataclass(frozen=True)
class MetricSteps:
    prepare: Callable[..., None] | None = None
    derive: Callable[[pd.DataFrame, dict], pd.DataFrame] | None = None
    after_disclosure: Callable[[pd.DataFrame, dict], pd.DataFrame] | None = None
    from_shown_counts: Callable[[pd.DataFrame, dict], pd.DataFrame] | None = None


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats, hidden counts (<NA>) as NaN."""
    return numbers_of(frame[column])


def _check_measure_stage(warehouse: Warehouse, binds: dict, given: Mapping, conn) -> None:
    """Check the stage fits the reach measure, and bind which journey_reach_measures rows it
    reads: stage_reach is kept by stage and tier, mood_screening by stage, the others under
    'any' (equity.sql and trend.sql both read these binds, so the rule lives here once)."""
    measure = binds.get("measure")
    if measure == "mood_screening" and binds.get("stage") not in ("any", "antenatal", "postnatal"):
        raise MetricError(f"parameter stage={binds.get('stage')!r} does not fit metric=mood_screening: "
                          "use antenatal, postnatal or any (either)")
    binds["reach_stage"] = binds.get("stage") if measure in ("stage_reach", "mood_screening") else "any"
    binds["reach_tier"] = binds.get("tier") if measure == "stage_reach" else "any"


# equity ---------------------------------------------------------------------------------------
def _reference_rows(frame: pd.DataFrame) -> list[int | None]:
    """For each row, the position of its reference group's row (same area), if shown."""
    position = {key: i for i, key in enumerate(zip(frame["area_code"], frame["dimension"], frame["group"]))}
    return [position.get(key) for key in zip(frame["area_code"], frame["reference_dimension"],
                                              frame["reference_group"])]


def _equity_rate_ratios(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    """Each group's reach against its reference group's (same area), with a Katz 95% interval."""
    out = frame.copy()
    reached, cohort = _numbers(out, "reached"), _numbers(out, "cohort")
    against = _reference_rows(out)
    n0 = np.array([np.nan if i is None else reached[i] for i in against])
    d0 = np.array([np.nan if i is None else cohort[i] for i in against])
    ratio, low, high = rate_ratio(reached, cohort, n0, d0)
    is_reference = np.array([i == k for k, i in enumerate(against)])
    # The reference group against itself is 1 by definition; an interval would pretend it was measured.
    out["rate_ratio"] = np.where(is_reference & ~np.isnan(ratio), 1.0, ratio)
    out["rate_ratio_ci_low"] = np.where(is_reference, np.nan, low)
    out["rate_ratio_ci_high"] = np.where(is_reference, np.nan, high)
    return out


def _equity_hide_ratios_of_hidden_references(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    """A rate ratio divides by the reference group's percentage, so it is hidden with it."""
    out = frame.copy()
    hidden = (out["reached"].isna() | out["cohort"].isna()).to_numpy()
    gone = np.array([i is None or hidden[i] for i in _reference_rows(out)])
    for column in ("rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high"):
        out[column] = out[column].mask(gone)
    return out


# service_gaps ---------------------------------------------------------------------------------
def _service_gap_flags(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    """gap_pp = benchmark - pct; unmet = max(0, benchmark - pct) x cohort / 100, rounded down
    (= benchmark x cohort / 100 - reached, from the counts); flag, first that applies:
    no_cohort (no births), no_service (births but none reached: by tier a gap even where every
    area shares it, so the median benchmark is 0; by service only against a benchmark above 0),
    below_benchmark (upper 95% Wilson limit under the benchmark), ok."""
    out = frame.copy()
    reached, cohort = out["reached"].to_numpy(float), out["cohort"].to_numpy(float)
    benchmark = pd.to_numeric(out["benchmark_pct"], errors="coerce").to_numpy(float)
    out["gap_pp"] = benchmark - pd.to_numeric(out["pct"], errors="coerce").to_numpy(float)
    # unsuppressed, the exact interval against the exact median (not shown); under disclosure
    # control _service_gaps_from_shown judges it again on the shown figures
    yardstick = pd.to_numeric(out.pop("flag_benchmark_pct"), errors="coerce").to_numpy(float)
    # a hair of tolerance: 50% of 4 births is 2 people exactly, not 1.9999999
    shortfall = np.nan_to_num(benchmark * cohort / 100 - reached + 1e-9, nan=0.0)
    out["unmet"] = np.floor(np.clip(shortfall, 0, None)).astype(int)
    ci_high = pd.to_numeric(out["ci_high"], errors="coerce").to_numpy(float)
    out["flag"] = _gap_flags(out, cohort, reached, ci_high, yardstick)
    return out


def _gap_flags(frame: pd.DataFrame, cohort: np.ndarray, reached: np.ndarray, ci_high: np.ndarray,
               benchmark: np.ndarray) -> np.ndarray:
    """service_gaps' flag, first that applies: no_cohort, no_service, below_benchmark, ok."""
    # Every tier is expected in every stage, so a tier nobody reaches is a gap even where every area
    # shares it; a single service need not work in every stage, so by service a gap needs a benchmark.
    by_tier = (frame["service"] == "all").to_numpy() if "service" in frame.columns else np.ones(len(frame), bool)
    with np.errstate(invalid="ignore"):
        return np.select(
            # a hair of tolerance: 100% reached has a Wilson upper limit of 99.99999..., not under 100
            [cohort == 0, (reached == 0) & ((benchmark > 0) | by_tier), ci_high < benchmark - 1e-9],
            ["no_cohort", "no_service", "below_benchmark"], default="ok")


def _service_gaps_from_shown(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    """The gap and people unmet from what is shown (contract 7.4): gap_pp = benchmark - shown
    pct; unmet = benchmark x shown cohort / 100 - shown reached (at least 0), hidden with either
    count and, being a number of people, hidden from 1 to 7 and rounded like a count. The flag
    too is judged on what is shown, so it never disagrees with the figures beside it nor says
    anything of the unrounded ones: the shown upper limit against the shown benchmark; a hidden
    count (1 to 7) at the most it can be, so "below" is said only where all of 1 to 7 would be."""
    out = frame.copy()
    reached, cohort = _numbers(out, "reached"), _numbers(out, "cohort")
    benchmark = _numbers(out, "benchmark_pct")
    out["gap_pp"] = benchmark - _numbers(out, "pct")
    most_hidden = max(int(binds.get("suppress_below", 1)) - 1, 0)
    births = np.nan_to_num(cohort, nan=0.0)
    _, high_if_hidden = statistics.wilson_interval(np.minimum(float(most_hidden), births), births)
    ci_high = np.where(np.isnan(reached), high_if_hidden, _numbers(out, "ci_high"))
    out["flag"] = _gap_flags(out, cohort, reached, ci_high, benchmark)
    with np.errstate(invalid="ignore"):
        unmet = np.clip(benchmark * cohort / 100 - reached + 1e-9, 0, None)
    unmet = np.where(np.isnan(reached) | np.isnan(cohort), np.nan, np.floor(np.nan_to_num(unmet, nan=0.0)))
    base = max(int(binds.get("round_to", 1)), 1)
    small = (unmet >= 1) & (unmet < int(binds.get("suppress_below", 0)))
    out["unmet"] = np.where(small, np.nan, np.floor(unmet / base + 0.5) * base)
    return out


# economic_case --------------------------------------------------------------------------------
# What economic_case binds when not given: (bind, the ref_parameters row it defaults to).
_ECONOMIC_DEFAULTS = (("target_access_pct", "national_ambition_pct"),
                      ("targeted_target_pct", "targeted_target_pct"),
                      ("effect", "effect_avoided_share"),
                      ("public_share", "public_sector_share_of_cost"),
                      ("nhs_social_care_share", "nhs_social_care_share_of_cost"))


def economic_parameters(warehouse: Warehouse, conn=None) -> dict[str, float]:
    """Every ref_parameters value by name, topped up from the shipped file for rows a warehouse
    made before they shipped lacks (the economic case's shares, targets and sensitivity ranges)."""
    found = warehouse.query("select name, value from ref_parameters", conn=conn)
    values = {str(n): float(v) for n, v in zip(found["name"], found["value"]) if v is not None}
    shipped = read_reference_csv("parameters", reference_dir() / "parameters.csv")
    for name, value in zip(shipped["name"], shipped["value"]):
        values.setdefault(str(name), float(value))
    return values


def _economic_settings(warehouse: Warehouse, binds: dict, given: Mapping, conn) -> None:
    """Check the price year; fill the targets, effect and shares not given from ref_parameters."""
    _check_price_year(warehouse, binds, given, conn)
    # once per data version: the shipped file was read again on every run
    values = answers.PER_VERSION.current(warehouse, "economic parameters",
                                         lambda: economic_parameters(warehouse, conn))
    for bind, name in _ECONOMIC_DEFAULTS:
        if binds.get(bind) is None:
            binds[bind] = values.get(name)


def _check_price_year(warehouse: Warehouse, binds: dict, given: Mapping, conn) -> None:
    years = answers.PER_VERSION.current(warehouse, "price years", lambda: list(
        warehouse.query(named_sql("_deflator_years.sql"), conn=conn)["price_year"]))
    chosen = binds.get("price_year")
    if chosen is not None and chosen not in years:
        raise MetricError(f"parameter price_year={chosen!r} is not in ref_deflators "
                          f"(data/reference/deflators.csv): one of {', '.join(years)}")


def _economic_figures(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    # in the order the metric shows its columns: reordering fifty columns after costs a frame more
    return economics.evaluate(frame, order=lambda columns: _shown_order(columns, _metric("economic_case")))


def _economic_figures_from_disclosed_counts(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    """Contract 7.4: every figure worked out again from the rounded counts people see (a hidden
    count leaves what rests on it blank), money and people to 3 significant figures."""
    return economics.disclosed(frame)


def economic_assumptions(warehouse: Warehouse, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Every assumption behind economic_case for these parameters, one row per step, in order:
    step, value, unit, source, status (confirmed | secondary | sourced | check | illustrative |
    assumption | your setting)."""
    metric = _metric("economic_case")
    _ensure_journey(warehouse)
    with warehouse.connect() as conn:
        binds = resolve_parameters(warehouse, metric, params, conn=conn)
        given = {k: binds.get(k) for k, _ in _ECONOMIC_DEFAULTS}
        _economic_settings(warehouse, binds, params or {}, conn)
        for bind, _ in _ECONOMIC_DEFAULTS:
            binds[f"{bind}_given"] = given[bind]
        sql = statements(named_sql("_economic_assumptions.sql"))[0]
        used = catalogue.bind_names(sql)
        frame = warehouse.query(sql, {k: v for k, v in binds.items() if k in used}, conn=conn)
    frame = _plain_numbers(frame).sort_values(["step_order", "step"], kind="stable")
    return frame[["step", "value", "unit", "source", "status"]].reset_index(drop=True)


# trend ----------------------------------------------------------------------------------------
# Which way is better, for the variation icons: more reach is better, shorter waits are better,
# births have no direction.
_IMPROVEMENT = {"births": None, "waiting_times": "down"}


def _reference_parameter(warehouse: Warehouse, name: str, conn, *, fix: str = "") -> float:
    """A ref_parameters value; a warehouse made before it shipped gets the shipped default."""
    found = answers.PER_VERSION.current(
        warehouse, ("reference parameter", name),
        lambda: warehouse.query(named_sql("_reference_parameter.sql"), {"name": name}, conn=conn))
    if found.empty:
        shipped = read_reference_csv("parameters", reference_dir() / "parameters.csv")
        found = shipped[shipped["name"] == name]
    if found.empty:
        raise MetricError(f"reference table ref_parameters lacks {name}: restore the "
                          f"shipped row (data/reference/parameters.csv){fix}", is_usage=False)
    return float(found.iloc[0]["value"])


def _trend_window(warehouse: Warehouse, binds: dict, given: Mapping, conn) -> None:
    """Default `from`: ref_parameters trend_window_months before `to` (plus one day); the SPC
    run lengths from ref_parameters (contract v1.1: default 7 for shifts and trends)."""
    _check_measure_stage(warehouse, binds, given, conn)
    binds["spc_run_length"] = int(_reference_parameter(warehouse, "spc_shift_run_length", conn))
    binds["spc_trend_length"] = int(_reference_parameter(warehouse, "spc_trend_run_length", conn))
    if given.get("from") not in (None, ""):
        return
    months = int(_reference_parameter(warehouse, "trend_window_months", conn,
                                      fix=" or give from=YYYY-MM-DD"))
    binds["date_from"] = (pd.Timestamp(binds["date_to"]) - pd.DateOffset(months=months)
                          + pd.Timedelta(days=1)).date()


def _trend_limits(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    """Wilson intervals for percentage measures, then XmR limits and rules per area."""
    out = frame.copy()
    measure = binds.get("measure")
    out["ci_low"], out["ci_high"] = np.nan, np.nan
    if measure in catalogue.REACH_MEASURES or measure == "risk_pathway.referred_antenatal":
        numerator = pd.to_numeric(out["numerator"], errors="coerce")
        denominator = pd.to_numeric(out["denominator"], errors="coerce").fillna(0)
        out["ci_low"], out["ci_high"] = wilson_interval(numerator.fillna(0), denominator)
    return _with_process_limits(out, measure, binds)


def _with_process_limits(frame: pd.DataFrame, measure: str | None, binds: dict) -> pd.DataFrame:
    out = frame.sort_values(["area_code", "month"], kind="stable").reset_index(drop=True)
    limits = xmr_charts_by_area(out, improvement=_IMPROVEMENT.get(measure, "up"),
                                run_length=binds.get("spc_run_length", statistics.RUN_LENGTH),
                                trend_length=binds.get("spc_trend_length", statistics.TREND_LENGTH))
    return pd.concat([out.drop(columns=[c for c in limits.columns if c in out.columns]), limits], axis=1)


_XMR_COLUMNS = ["mean", "upper_limit", "lower_limit", "outside_limits", "run_of_7", "trend_of_6",
                "two_of_three", "special_cause", "variation", "latest_variation"]


def xmr_charts_by_area(frame: pd.DataFrame, improvement: statistics.Improvement = None, *,
                       run_length: int = statistics.RUN_LENGTH,
                       trend_length: int = statistics.TREND_LENGTH) -> pd.DataFrame:
    """pathway.statistics.xmr_chart for every area at once, on a frame sorted by area and month:
    the same limits, rules and variation, worked out with group-wise array operations (a loop
    over 150 areas in Python took over a second). Missing values are left out, as there."""
    n_rows = len(frame)
    area = frame["area_code"].to_numpy()
    value = pd.to_numeric(frame["value"], errors="coerce").astype(float).to_numpy()
    present = ~np.isnan(value)
    out = pd.DataFrame(index=frame.index)
    for name in ("outside_limits", "run_of_7", "trend_of_6", "two_of_three", "special_cause"):
        out[name] = np.zeros(n_rows, dtype=bool)
    if not present.any():
        for name in ("mean", "upper_limit", "lower_limit"):
            out[name] = np.nan
        out["variation"] = out["latest_variation"] = np.full(n_rows, None, dtype=object)
        return out[_XMR_COLUMNS]
    # Work on the present points only: each area's points in month order, numbered 0..n-1.
    g = pd.Series(area[present])
    v = value[present]
    group_id = g.ne(g.shift()).cumsum().to_numpy()
    position = g.groupby(group_id).cumcount().to_numpy()
    size = g.groupby(group_id).transform("size").to_numpy()
    first = position == 0
    mean = pd.Series(v).groupby(group_id).transform("mean").to_numpy()
    moving_range = np.where(first, np.nan, np.abs(v - np.roll(v, 1)))
    mean_range = pd.Series(moving_range).groupby(group_id).transform("mean").to_numpy()
    upper = mean + statistics.XMR_LIMIT_FACTOR * mean_range
    lower = mean - statistics.XMR_LIMIT_FACTOR * mean_range

    with np.errstate(invalid="ignore"):
        side = np.sign(v - mean).astype(int)
        outside = (v > upper) | (v < lower)
        # a run of one side: a point on the mean (side 0) breaks it
        run_id = np.cumsum(first | (side != np.roll(side, 1)))
        run_length_here = np.bincount(run_id)[run_id]
        run = (side != 0) & (run_length_here >= run_length)
        # a trend: steps between consecutive points; k equal non-zero steps cover k + 1 points
        step = np.where(first, 0, np.sign(v - np.roll(v, 1))).astype(int)
        step_run_id = np.cumsum(first | (step != np.roll(step, 1)))
        step_run_length = np.bincount(step_run_id)[step_run_id]
        in_trend = (step != 0) & (step_run_length + 1 >= trend_length)
        # a point is in a trend when its own step is, or the next point's step starts one
        # (the later trend's direction wins at a shared point, as in xmr_chart)
        next_in_trend = np.append(in_trend[1:], False) & np.append(~first[1:], False)
        next_step = np.append(step[1:], 0)
        trend = in_trend | next_in_trend
        trend_direction = np.where(next_in_trend, next_step, np.where(in_trend, step, 0))
        # two of three beyond two-thirds of the way to a limit, within complete windows of three
        share = statistics.NEAR_LIMIT_SHARE
        near_flags = np.zeros(len(v), dtype=bool)
        for near in (v > mean + share * (upper - mean), v < mean - share * (mean - lower)):
            near_int = near.astype(int)
            window = near_int + _ahead(near_int, 1) + _ahead(near_int, 2)
            qualifies = (window >= 2) & (position <= size - 3)
            covered = (qualifies | _behind(qualifies, 1) & (position >= 1)
                       | _behind(qualifies, 2) & (position >= 2))
            near_flags |= near & covered
    special = outside | run | trend | near_flags
    point_side = np.where(trend & ~(outside | run | near_flags), trend_direction, side)
    variation = _variation(special, point_side, improvement)

    rows = np.flatnonzero(present)
    for name, found in (("outside_limits", outside), ("run_of_7", run), ("trend_of_6", trend),
                        ("two_of_three", near_flags)):
        out.iloc[rows, out.columns.get_loc(name)] = found
    out["special_cause"] = out[["outside_limits", "run_of_7", "trend_of_6", "two_of_three"]].any(axis=1)
    all_variation = np.full(n_rows, None, dtype=object)
    all_variation[rows] = variation
    # an area's mean and limits belong to all its rows, months without a value included
    per_area = pd.DataFrame({"area_code": g.to_numpy(), "mean": mean, "upper_limit": upper,
                             "lower_limit": lower, "latest_variation": variation})
    per_area = per_area.groupby("area_code", sort=False).last()
    by_area = frame["area_code"]
    for name in ("mean", "upper_limit", "lower_limit"):
        out[name] = by_area.map(per_area[name]).astype(float).to_numpy()
    out["variation"] = all_variation
    latest = by_area.map(per_area["latest_variation"])
    out["latest_variation"] = latest.astype(object).where(latest.notna(), None).to_numpy()
    return out[_XMR_COLUMNS]


def _ahead(values: np.ndarray, k: int) -> np.ndarray:
    """values[i + k] at i (zero past the end)."""
    out = np.zeros_like(values)
    out[:max(len(values) - k, 0)] = values[k:]
    return out


def _behind(values: np.ndarray, k: int) -> np.ndarray:
    """values[i - k] at i (zero before the start)."""
    out = np.zeros_like(values)
    out[k:] = values[:max(len(values) - k, 0)]
    return out


def _variation(special: np.ndarray, side: np.ndarray, improvement: statistics.Improvement) -> np.ndarray:
    """The variation icon of each point, as pathway.statistics.xmr_chart names it."""
    high = side > 0
    if improvement is None:
        flagged = np.where(high, "neither_high", "neither_low")
    else:
        good = (improvement == "up") == high
        flagged = np.where(good, np.where(high, "improvement_high", "improvement_low"),
                           np.where(high, "concern_high", "concern_low"))
    return np.where(special, flagged, "common_cause").astype(object)


# perinatal_access -------------------------------------------------------------------------------
def _access_months(warehouse: Warehouse, binds: dict, given: Mapping, conn) -> None:
    """The month ends shown: the latest month complete both in the data (up to as_at) and in
    the births recorded (so live births over the 12 months are whole), and the `months` - 1
    before it."""
    def month_end_on_or_before(day) -> pd.Timestamp:
        day = pd.Timestamp(day)
        return day if day.is_month_end else day - pd.offsets.MonthEnd(1)

    last = month_end_on_or_before(binds["as_at"])
    latest_birth = _as_date(warehouse.query(named_sql("_latest_birth.sql"), conn=conn).iloc[0, 0])
    if latest_birth is not None:
        last = min(last, month_end_on_or_before(latest_birth))
    binds["last_month_end"] = last.date()
    months = binds.get("months")
    if months is None or months != int(months):
        raise MetricError(f"parameter months={months!r} must be a whole number of months")
    binds["months"] = int(months)


def _access_rate_intervals(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    """Byar's interval for the rate per 100 births (women of any outcome are not a subset of
    live births, so a Wilson interval would not fit)."""
    out = frame.copy()
    accessed = pd.to_numeric(out["accessed"], errors="coerce").fillna(0)
    births = pd.to_numeric(out["live_births"], errors="coerce").fillna(0)
    out["rate_ci_low"], out["rate_ci_high"] = statistics.rate_interval(accessed, births, 100.0)
    return out


def _access_rate_from_shown(frame: pd.DataFrame, binds: dict) -> pd.DataFrame:
    """The rate per 100 births and its interval from the shown (rounded) counts: from the
    unrounded counts, 1.7 per 100 beside 20 of 1,300 shown gave back 22 women exactly."""
    out = frame.copy()
    accessed, births = _numbers(out, "accessed"), _numbers(out, "live_births")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["access_rate_per_100_births"] = np.where(births > 0, 100 * accessed / births, np.nan)
    out["rate_ci_low"], out["rate_ci_high"] = statistics.rate_interval(accessed, births, 100.0)
    return out


_STEPS: dict[str, MetricSteps] = {
    "perinatal_access": MetricSteps(prepare=_access_months, derive=_access_rate_intervals,
                                    from_shown_counts=_access_rate_from_shown),
    "equity": MetricSteps(prepare=_check_measure_stage, derive=_equity_rate_ratios,
                          from_shown_counts=_equity_rate_ratios,
                          after_disclosure=_equity_hide_ratios_of_hidden_references),
    "service_gaps": MetricSteps(derive=_service_gap_flags, from_shown_counts=_service_gaps_from_shown),
    "economic_case": MetricSteps(prepare=_economic_settings, derive=_economic_figures,
                                 after_disclosure=_economic_figures_from_disclosed_counts),
    "trend": MetricSteps(prepare=_trend_window, derive=_trend_limits),
}
