"""Answers kept per data version: what run_metric works out once per load, not once per call.

The data version is the code (this package and its named SQL), the latest load and the journey
build (load_log, journey_state): a load, a rebuild, a replaced reference table (which rebuilds
the journey) or a new version of the software starts a new one, so nothing kept here can
outlive the data or the code it came from, and nothing expires on a clock.

- `PerVersion` keeps small values (the metric defaults, known area codes) per warehouse and
  data version, in this process.
- `precompute` works out, after a load, every catalogue metric for the default period for all
  areas, every ICB and every area (the dashboard's first requests), and stores each answer in
  the warehouse table metric_answers under the data version; `stored_answer` gives one back
  when a run's parameters match. A missing, partial or stale set only means a live run.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pathway.journey import LATEST_SOURCE_LOAD
from pathway.schema import journey_state, load_log, metric_answers

log = logging.getLogger(__name__)

# One round trip: the data version, and whether the journey is current (DataVersion.journey_current,
# which journey.is_current asks). Refused loads change no data, so they do not count.
_VERSION = sa.select(
    sa.select(sa.func.coalesce(sa.func.max(load_log.c.load_id), 0))
    .where(load_log.c.outcome == "loaded").scalar_subquery(),
    sa.select(sa.func.max(journey_state.c.built_after_load_id)).scalar_subquery(),
    sa.select(sa.func.max(journey_state.c.built_at)).scalar_subquery(),
    LATEST_SOURCE_LOAD)

# The area selector (queries/_journey.sql area_selection) of every ICB at once, each reported as
# itself: precompute's one run for all ICBs. Not a code a person can ask for (metrics refuse it).
EVERY_ICB = "(every ICB)"

# The marker row precompute writes last: the version's answers are all there.
_COMPLETE = "(complete)"


@dataclass(frozen=True)
class DataVersion:
    """The latest load and journey build a warehouse's answers are computed from."""

    latest_load: int
    built_after: int | None
    built_at: Any
    # the latest load of a table the journey is built from: a published-benchmark file
    # changes the data version but needs no rebuild
    latest_journey_load: int = 0

    @property
    def journey_current(self) -> bool:
        return self.built_after is not None and self.built_after >= self.latest_journey_load

    @property
    def key(self) -> str:
        built = self.built_at.isoformat() if hasattr(self.built_at, "isoformat") else str(self.built_at)
        return (f"code {code_fingerprint()}; load {self.latest_load}; "
                f"journey after load {self.built_after} at {built}")


@functools.cache
def code_fingerprint() -> str:
    """The code every stored answer and cached view is worked out by: this package's Python and
    the catalogue's named SQL. After an upgrade the old version's answers and views no longer
    match (its figures may follow older definitions or weaker disclosure rules), and
    `pathway serve` precomputes the new version's at its start."""
    from pathway.resources import queries_dir

    package = Path(__file__).resolve().parent
    files = sorted(package.rglob("*.py")) + sorted(queries_dir().glob("*.sql"))
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(package) if path.is_relative_to(package) else Path("queries", path.name)
        digest.update(str(name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


# _VERSION as SQL text per dialect, its constants written in: executed as an expression, its IN
# list is expanded into the SQL again on every call (a third of this round trip, made per request)
_VERSION_SQL: dict[str, str] = {}


def read_version(conn: Connection) -> DataVersion:
    sql = _VERSION_SQL.get(conn.dialect.name)
    if sql is None:
        sql = _VERSION_SQL[conn.dialect.name] = str(
            _VERSION.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    latest, built_after, built_at, latest_journey = conn.exec_driver_sql(sql).one()
    return DataVersion(int(latest or 0), None if built_after is None else int(built_after), built_at,
                       int(latest_journey or 0))


_HELD_VERSION: "weakref.WeakKeyDictionary[Any, tuple[int, DataVersion]]" = weakref.WeakKeyDictionary()


def current_version(warehouse, conn: Connection) -> DataVersion:
    """The data version on `conn`: read once per hold of a warehouse whose data cannot change
    while it is open (Warehouse.data_is_fixed: pathway serve's DuckDB workers), else read now.
    The read is a millisecond or two, and it was a tenth of a small metric's time."""
    if not warehouse.data_is_fixed:
        return read_version(conn)
    held = _HELD_VERSION.get(warehouse)
    if held is None or held[0] != warehouse.holding:
        held = (warehouse.holding, read_version(conn))
        _HELD_VERSION[warehouse] = held
    return held[1]


class PerVersion:
    """Values worked out once per warehouse and data version (a new version forgets the old)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: "weakref.WeakKeyDictionary[Any, tuple[str, dict]]" = weakref.WeakKeyDictionary()

    def get(self, warehouse, version: DataVersion, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            kept = self._kept.get(warehouse)
            if kept is None or kept[0] != version.key:
                kept = (version.key, {})
                self._kept[warehouse] = kept
            if key in kept[1]:
                return kept[1][key]
        value = make()
        with self._lock:
            if self._kept.get(warehouse, ("",))[0] == version.key:
                self._kept[warehouse][1][key] = value
        return value

    def peek(self, warehouse, version: DataVersion, key: Any) -> Any:
        """The value kept for key under this version, or None: nothing is made."""
        with self._lock:
            kept = self._kept.get(warehouse)
            return kept[1].get(key) if kept is not None and kept[0] == version.key else None

    def current(self, warehouse, key: Any, make: Callable[[], Any]) -> Any:
        """make(), kept under the data version this warehouse was last seen at in this process
        (run_metric reads the version before its steps ask)."""
        with self._lock:
            kept = self._kept.get(warehouse)
            if kept is not None and key in kept[1]:
                return kept[1][key]
        value = make()
        with self._lock:
            if kept is not None and self._kept.get(warehouse) is kept:
                kept[1][key] = value
        return value

    def forget(self, warehouse) -> None:
        with self._lock:
            self._kept.pop(warehouse, None)


PER_VERSION = PerVersion()


# ---- the stored answers ---------------------------------------------------------------------
def params_key(binds: dict[str, Any], policy) -> str:
    """The resolved binds of a run (and the disclosure policy) as one text key: two requests
    that resolve to the same binds, however they were asked, share one answer."""
    def plain(value):
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, float):
            return repr(value)  # exact: two different numbers never share an answer
        return value
    pairs = sorted((name, plain(value)) for name, value in binds.items())
    return json.dumps({"binds": pairs, "suppress_below": policy.suppress_below,
                       "round_to": policy.round_to}, default=str, separators=(",", ":"))


def to_payload(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    rows = frame.copy()
    rows.attrs = {}  # the disclosure spec is code, not data: run_metric puts it back
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), sink, compression="zstd")
    return sink.getvalue()


def from_payload(payload: bytes) -> pd.DataFrame:
    return pq.read_table(io.BytesIO(payload)).to_pandas()


_STORE = PerVersion()


def _stored_keys(warehouse, conn: Connection, version: DataVersion) -> set[tuple[str, str]] | None:
    """The (metric, params_key) pairs stored for this version; None when there is no table."""
    def read():
        present = conn.execute(sa.text(
            "select count(*) from information_schema.tables "
            "where table_schema = current_schema() and table_name = 'metric_answers'")).scalar()
        if not present:
            return None
        rows = conn.execute(sa.select(metric_answers.c.metric, metric_answers.c.params_key)
                            .where(metric_answers.c.data_version == version.key)).all()
        return {(r[0], r[1]) for r in rows}

    return _STORE.get(warehouse, version, "keys", read)


# One answer and the marker of a complete set, in one look-up by primary key: while a precompute
# may still be writing (another process), each request asks for its own answer, not every key.
_ONE_ANSWER = sa.select(metric_answers.c.metric, metric_answers.c.payload).where(
    metric_answers.c.data_version == sa.bindparam("version"),
    sa.or_(sa.and_(metric_answers.c.metric == sa.bindparam("metric"),
                   metric_answers.c.params_key == sa.bindparam("key")),
           sa.and_(metric_answers.c.metric == _COMPLETE, metric_answers.c.params_key == "")))


def stored_answer(warehouse, conn: Connection, version: DataVersion, metric: str,
                  binds: dict[str, Any]) -> pd.DataFrame | None:
    """The stored (suppressed) answer for these binds and this data version, if precompute made one."""
    key = params_key(binds, warehouse.settings.disclosure)
    keys = _stored_keys(warehouse, conn, version)
    if keys is None:
        return None
    if (_COMPLETE, "") in keys:
        if (metric, key) not in keys:
            return None
        return _DECODED.get((str(warehouse.url), version.key, metric, key),
                            lambda: _payload(conn, version, metric, key))
    found = dict(conn.execute(_ONE_ANSWER, {"version": version.key, "metric": metric, "key": key}).all())
    if _COMPLETE in found:
        _STORE.forget(warehouse)  # finished since it was read: every key once more, then no look-ups
    payload = found.get(metric)
    return None if payload is None else from_payload(payload)


def _payload(conn: Connection, version: DataVersion, metric: str, key: str) -> pd.DataFrame | None:
    payload = conn.execute(sa.select(metric_answers.c.payload).where(
        metric_answers.c.data_version == version.key, metric_answers.c.metric == metric,
        metric_answers.c.params_key == key)).scalar()
    return None if payload is None else from_payload(payload)


class _Decoded:
    """Stored answers as read and decoded, the most recently used first, up to a budget of bytes
    per process: DuckDB reads a stored answer in 2-3 ms however small it is (it materialises the
    payloads of its neighbours in the table too), and decoding it takes another millisecond.
    Keyed by the data version, so nothing kept outlives it; each caller gets its own copy."""

    def __init__(self, budget: int) -> None:
        self._budget, self._used = budget, 0
        self._lock = threading.Lock()
        self._kept: "OrderedDict[tuple, tuple[pd.DataFrame, int]]" = OrderedDict()

    def get(self, key: tuple, read: Callable[[], pd.DataFrame | None]) -> pd.DataFrame | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found[0].copy()
        frame = read()
        if frame is None:
            return None
        size = int(frame.memory_usage(index=True, deep=True).sum())
        with self._lock:
            if key not in self._kept and size <= self._budget // 4:
                self._kept[key] = (frame.copy(), size)
                self._used += size
                while self._used > self._budget:
                    _, (_, gone) = self._kept.popitem(last=False)
                    self._used -= gone
        return frame

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._used = 0


_DECODED = _Decoded(budget=64 * 2**20)


# ---- precompute -------------------------------------------------------------------------------
@dataclass
class PrecomputeSummary:
    version: str = ""
    answers: int = 0
    already: int = 0
    seconds: float = 0.0
    complete: bool = False
    split_metrics: list[str] = field(default_factory=list)

    def describe(self) -> str:
        state = "all of them" if self.complete else "stopped at the time limit; the rest run live"
        return (f"precomputed {self.answers} metric answers for the dashboard's first requests in "
                f"{self.seconds:.1f} s ({state})")


def first_requests(warehouse, conn: Connection) -> list[tuple[str, list[dict[str, Any]]]]:
    """Per metric, the parameters of the dashboard's first requests: each metric at its defaults
    for all areas, then every ICB, then every area (economic_case with the scenario the page
    starts from). Metrics without an area parameter are asked once. Areas with no pregnancy
    loaded are left out (their answers are empty and quick live): a national lookup loaded
    before any cohort would otherwise precompute thousands of empty answers (5,282 in 170 s)."""
    from pathway import catalogue

    frame = pd.DataFrame(conn.execute(sa.text(
        "select area_code, icb_code from areas "
        "where area_code in (select area_code from cohort) order by area_code")).all(),
        columns=["area_code", "icb_code"])
    icbs = sorted(set(frame["icb_code"].dropna()) - set(frame["area_code"]))
    scopes = ["all"] + icbs + list(frame["area_code"])
    extra = _economic_scenario(conn)
    plan = []
    for name, metric in catalogue.METRICS.items():
        base = extra if name == "economic_case" else {}
        if metric.parameter("area") is None:
            plan.append((name, [dict(base)]))
        else:
            plan.append((name, [{**base, "area": scope} for scope in scopes]))
    return plan


def _economic_scenario(conn: Connection) -> dict[str, Any]:
    """The economic case page's starting scenario (its inputs filled from the reference tables)."""
    values = dict(conn.execute(sa.text(
        "select name, value from ref_parameters where name in "
        "('national_ambition_pct', 'effect_avoided_share')")).all())
    year = conn.execute(sa.text("select max(price_year) from ref_deflators")).scalar()
    scenario = {"need": "mid", "price_year": year}
    if values.get("national_ambition_pct") is not None:
        scenario["target_access_pct"] = round(float(values["national_ambition_pct"]), 6)
    if values.get("effect_avoided_share") is not None:
        scenario["effect"] = round(float(values["effect_avoided_share"]), 6)
    return scenario


def precompute(warehouse, *, seconds: float | None = None,
               progress: Callable[[str], None] | None = None,
               stop: threading.Event | None = None) -> PrecomputeSummary:
    """Work out and store the first-request answers for the current data version.

    Answers of older versions are deleted first. Each metric's answer for all areas is run once
    unsuppressed and every area's answer cut from it, and likewise one run for every ICB
    (checked against a live run of the first; a metric whose answers cannot be cut from the
    whole runs area by area).
    Answers are written as they are made, in small transactions, so an interrupted run leaves
    a usable part; it stops starting new work after `seconds` (settings: precompute_seconds),
    once a newer load has landed, or when `stop` is set."""
    from pathway import metrics

    started = time.perf_counter()
    budget = warehouse.settings.precompute_seconds if seconds is None else seconds
    deadline = started + budget
    say = progress or (lambda text: None)
    metrics.ensure_journey(warehouse)
    summary = PrecomputeSummary()
    with warehouse.begin() as conn:
        version = read_version(conn)
        summary.version = version.key
        conn.execute(metric_answers.delete().where(metric_answers.c.data_version != version.key))
        done = {(r[0], r[1]) for r in conn.execute(
            sa.select(metric_answers.c.metric, metric_answers.c.params_key)
            .where(metric_answers.c.data_version == version.key)).all()}
        plan = first_requests(warehouse, conn)
    if (_COMPLETE, "") in done:
        summary.complete, summary.already = True, len(done) - 1
        summary.seconds = time.perf_counter() - started
        return summary
    policy = warehouse.settings.disclosure
    stopped = False
    for name, requests in plan:
        if time.perf_counter() > deadline or (stop and stop.is_set()):
            break
        metrics.prepare_icb_cuts(warehouse, name, requests)
    for name, requests in plan:
        if time.perf_counter() > deadline or (stop and stop.is_set()) or _superseded(warehouse, version):
            stopped = True
            break
        say(f"precomputing {name}")
        rows = []
        for key, frame in metrics.first_request_answers(warehouse, name, requests, done, policy,
                                                        deadline=deadline, summary=summary):
            rows.append((key, frame))
            if stop and stop.is_set():
                break
            if len(rows) >= 50:
                summary.answers += _write(warehouse, version, name, rows)
                rows = []
        summary.answers += _write(warehouse, version, name, rows)
        if time.perf_counter() > deadline or (stop and stop.is_set()):
            stopped = True
    if not stopped:
        with warehouse.begin() as conn:
            if read_version(conn).key == version.key:
                conn.execute(metric_answers.insert().values(
                    data_version=version.key, metric=_COMPLETE, params_key="", payload=b""))
                summary.complete = True
    _STORE.forget(warehouse)
    summary.already = len(done)
    summary.seconds = time.perf_counter() - started
    return summary


def _superseded(warehouse, version: DataVersion) -> bool:
    """Whether a load has landed since this precompute began (its answers would be dropped)."""
    with warehouse.connect() as conn:
        return read_version(conn).key != version.key


class BackgroundPrecompute:
    """precompute in a thread of its own, for a load that must not wait for it (the dashboard's
    upload): one at a time per process; asked again while one runs, it runs once more after, for
    the newest data. Until it finishes, whatever is not stored yet runs live. At exit it stops
    after the answer in hand (what it stored stays usable)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._waiting: list = []  # warehouses loaded into since the running precompute began
        self._stop = threading.Event()

    def start(self, warehouse) -> None:
        if warehouse.settings.precompute_seconds <= 0:
            return
        with self._lock:
            if not any(w is warehouse for w in self._waiting):
                self._waiting.append(warehouse)
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, daemon=True, name="pathway-precompute")
                self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._waiting or self._stop.is_set():
                        return
                    warehouse = self._waiting.pop(0)
                try:
                    summary = precompute(warehouse, stop=self._stop)
                    log.info("%s", summary.describe())
                except Exception:  # the load succeeded: its answers will be worked out when asked
                    log.exception("precomputing the dashboard's answers after a load failed")
        finally:
            # However the thread ends (even killed by an asynchronous SystemExit, as dash's test
            # runner does to every thread it did not start), none runs any more: say so, so that
            # wait() returns and the next load starts a new one.
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
                    self._waiting.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running precompute (and any it was asked to run after); True when none runs."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread
                if thread is not None and not thread.is_alive():
                    # ended without its own clean-up (killed before its finally ran)
                    self._thread, thread = None, None
                    self._waiting.clear()
            if thread is None:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            thread.join(left)

    def stop(self) -> None:
        """Stop after the answer in hand and wait for it (at exit, so no thread dies inside DuckDB)."""
        self._stop.set()
        self.wait()


BACKGROUND = BackgroundPrecompute()
atexit.register(BACKGROUND.stop)


def _write(warehouse, version: DataVersion, metric: str, rows: list[tuple[str, pd.DataFrame]]) -> int:
    if not rows:
        return 0
    with warehouse.begin() as conn:
        # A load that landed meanwhile made these answers stale: drop them, not store them.
        if read_version(conn).key != version.key:
            return 0
        conn.execute(metric_answers.insert(), [
            {"data_version": version.key, "metric": metric, "params_key": key,
             "payload": to_payload(frame)} for key, frame in rows])
    return len(rows)
