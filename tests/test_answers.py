"""Precomputed first-request answers (pathway.answers): the same as live answers, invisible after a
load, and a stopped precompute only means live runs."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from metric_fixtures import ALPHA, GAMMA, ICB_AB, ICB_C, build_warehouse
from pathway import answers, journey, metrics
from pathway.metrics import run_metric


def first_requests(warehouse):
    with warehouse.connect() as conn:
        return [(name, params) for name, requests in answers.first_requests(warehouse, conn)
                for params in requests]


def live(warehouse, name, params):
    """The answer worked out from the SQL, whatever is stored or kept in this process (the areas'
    and sibling metrics' answers the ICB guard sets beside it included)."""
    answers.PER_VERSION.forget(warehouse)
    metric = metrics.catalogue.METRICS[name]
    steps = metrics._STEPS.get(name, metrics.MetricSteps())
    version = metrics.ensure_journey(warehouse)
    with warehouse.connect() as conn:
        binds = metrics.resolve_parameters(warehouse, metric, params, conn=conn, version=version)
        if steps.prepare:
            steps.prepare(warehouse, binds, params, conn)
        metrics._disclosure_binds(warehouse, binds, suppress=True)
        frame = metrics._sql_frame(*metrics._sql_rows(warehouse, metric, binds, conn))
    return metrics._finish(warehouse, metric, frame, binds, suppress=True)


def stored(warehouse, name, params):
    metric = metrics.catalogue.METRICS[name]
    steps = metrics._STEPS.get(name, metrics.MetricSteps())
    with warehouse.connect() as conn:
        version = answers.read_version(conn)
        binds = metrics.resolve_parameters(warehouse, metric, params, conn=conn, version=version)
        if steps.prepare:
            steps.prepare(warehouse, binds, params, conn)
        metrics._disclosure_binds(warehouse, binds, suppress=True)
        return answers.stored_answer(warehouse, conn, version, name, binds)


def load_one_more_birth(warehouse) -> None:
    """A load of one live birth in Alpha, in the default period, and its journey rebuild."""
    with warehouse.begin() as conn:
        binds = metrics.resolve_parameters(warehouse, metrics.catalogue.METRICS["births"], {}, conn=conn)
        born = binds["date_to"] - dt.timedelta(days=10)
        conn.execute(sa.text(
            "insert into cohort (pregnancy_id, person_id, area_code, outcome, edd, birth_date) "
            "values ('NEW1', 'person-NEW1', :area, 'live_birth', :d, :d)"), {"area": ALPHA, "d": born})
        conn.execute(sa.text(
            "insert into load_log (load_id, file_name, table_name, outcome) "
            "values (99, 'cohort_new.csv', 'cohort', 'loaded')"))
        journey.refresh(conn)


@pytest.fixture
def warehouse(warehouse_url):
    built = build_warehouse(warehouse_url)
    yield built
    built.dispose()


def test_every_first_request_is_stored_and_equals_its_live_answer(warehouse):
    summary = answers.precompute(warehouse)
    requests = first_requests(warehouse)
    # 15 metrics take an area (12 of v1, perinatal_access, risk_pathway and partner_involvement of
    # v1.1): all, ICB QAA and its areas Alpha and Beta each; data_quality and benchmarks once.
    # Gamma (ICB QBB) has no pregnancy loaded: its answers are left to run live.
    assert len(requests) == 15 * 4 + 2
    assert not {p.get("area") for _, p in requests} & {GAMMA, ICB_C}
    assert summary.complete and summary.answers == len(requests)
    for name, params in requests:
        kept = stored(warehouse, name, params)
        assert kept is not None, (name, params)
        pd.testing.assert_frame_equal(kept, live(warehouse, name, params), check_exact=False, rtol=1e-9,
                                      obj=f"{name} {params}")
        pd.testing.assert_frame_equal(run_metric(warehouse, name, params), kept, obj=f"{name} {params}")
    # and Gamma's first request, live, is its empty answer
    assert run_metric(warehouse, "stage_reach", {"area": GAMMA})["reached"].fillna(0).sum() == 0


def test_the_icb_answers_a_guard_sets_beside_its_siblings_are_cut_from_one_run(warehouse, monkeypatch):
    """Before a precompute stores anything, each metric runs once over every ICB (checked against
    a live run of the first ICB); the ICB guard then cuts a sibling's one-metric ICB answer from
    that run, with no run of its own, and it is the live answer."""
    version = metrics.ensure_journey(warehouse)
    with warehouse.connect() as conn:
        plan = dict(answers.first_requests(warehouse, conn))
    economic = metrics.catalogue.METRICS["economic_case"]
    # the binds the guard gives a sibling (its parameters, prepared and with the policy)
    binds = metrics._sibling_binds(warehouse, economic, economic, metrics.resolve_parameters(
        warehouse, economic, plan["economic_case"][1]))
    assert binds["area"] == ICB_AB
    ran, real = [], metrics._sql_rows
    monkeypatch.setattr(metrics, "_sql_rows", lambda w, m, b, conn: ran.append(b["area"]) or real(w, m, b, conn))
    metrics.prepare_icb_cuts(warehouse, "economic_case", plan["economic_case"])
    assert ran == [answers.EVERY_ICB, ICB_AB]  # the run over every ICB, and its check
    ran.clear()
    cut_shown, cut_exact = metrics._one_metric_icb_answer(warehouse, economic, binds, version)
    assert answers.EVERY_ICB not in ran and ICB_AB not in ran  # its rows came from the cut
    answers.PER_VERSION.forget(warehouse)
    live_shown, live_exact = metrics._one_metric_icb_answer(warehouse, economic, binds, version)
    assert ICB_AB in ran  # nothing kept: its own run
    pd.testing.assert_frame_equal(cut_shown, live_shown)
    pd.testing.assert_frame_equal(cut_exact, live_exact)
    assert cut_exact["live_births"].sum() > 0 and len(cut_shown) == len(cut_exact)


def test_the_page_and_the_catalogue_defaults_share_one_stored_answer(warehouse):
    answers.precompute(warehouse)
    # the economic case page passes its scenario; the command line leaves it to the defaults
    with warehouse.connect() as conn:
        scenario = answers._economic_scenario(conn)
    by_page = stored(warehouse, "economic_case", {"area": ALPHA, **scenario})
    assert by_page is not None
    # equity's page names the measure, stage and tier it starts with: the catalogue's defaults
    assert stored(warehouse, "equity", {"area": ALPHA, "metric": "specialist_access", "stage": "any",
                                        "tier": "specialist"}) is not None


def test_a_load_makes_the_stored_answers_invisible_at_once(warehouse):
    answers.precompute(warehouse)
    before = run_metric(warehouse, "births", {"area": ALPHA}, suppress=False)
    load_one_more_birth(warehouse)
    assert stored(warehouse, "births", {"area": ALPHA}) is None
    after = run_metric(warehouse, "births", {"area": ALPHA}, suppress=False)
    assert int(after["live_births"].iloc[0]) == int(before["live_births"].iloc[0]) + 1
    # the next precompute replaces the old version's rows with the new one's
    answers.precompute(warehouse)
    versions = warehouse.query("select distinct data_version from metric_answers")
    assert len(versions) == 1
    assert stored(warehouse, "births", {"area": ALPHA}) is not None


def test_a_new_version_of_the_code_does_not_serve_the_old_versions_answers(warehouse, monkeypatch):
    """An upgrade (other metric SQL, other disclosure rules) with no load since: the answers the
    old code stored are not served, and the next precompute stores the new code's instead."""
    answers.precompute(warehouse)
    assert stored(warehouse, "births", {"area": ALPHA}) is not None
    old_key = warehouse.query("select distinct data_version from metric_answers").iloc[0, 0]
    assert old_key.startswith(f"code {answers.code_fingerprint()}; load ")
    monkeypatch.setattr(answers, "code_fingerprint", lambda: "an upgrade")
    answers.PER_VERSION.forget(warehouse)
    assert stored(warehouse, "births", {"area": ALPHA}) is None
    answers.precompute(warehouse)
    assert list(warehouse.query("select distinct data_version from metric_answers").iloc[:, 0]) == [
        old_key.replace(old_key.split(";")[0], "code an upgrade")]
    assert stored(warehouse, "births", {"area": ALPHA}) is not None


def test_the_journey_knows_whether_this_codes_sql_built_it(warehouse, monkeypatch):
    with warehouse.connect() as conn:
        assert journey.built_by_this_code(conn)
    sql = journey.named_sql("_journey.sql", warehouse.dialect)
    monkeypatch.setattr(journey, "named_sql", lambda name, dialect, **kw: sql + "\n-- a later version")
    with warehouse.connect() as conn:
        assert not journey.built_by_this_code(conn)


def test_a_precompute_stopped_part_way_leaves_live_answers_and_resumes(warehouse, monkeypatch):
    finish = metrics._finish
    calls = {"n": 0}

    def stop_after_a_few(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 60:
            raise KeyboardInterrupt
        return finish(*args, **kwargs)

    monkeypatch.setattr(metrics, "_finish", stop_after_a_few)
    with pytest.raises(KeyboardInterrupt):
        answers.precompute(warehouse)
    monkeypatch.setattr(metrics, "_finish", finish)
    requests = first_requests(warehouse)
    kept = [stored(warehouse, name, params) is not None for name, params in requests]
    assert 0 < sum(kept) < len(requests)
    for name, params in requests:
        pd.testing.assert_frame_equal(run_metric(warehouse, name, params), live(warehouse, name, params),
                                      check_exact=False, rtol=1e-9, obj=f"{name} {params}")
    summary = answers.precompute(warehouse)
    assert summary.complete and summary.answers == len(requests) - sum(kept)


def test_an_answer_written_after_the_keys_were_read_is_found(warehouse):
    # another process still precomputing: this one read the keys before births for all areas
    # and the marker of a complete set were written
    answers.precompute(warehouse)
    version_key = warehouse.query("select distinct data_version from metric_answers").iloc[0, 0]
    where = "data_version = :v and metric = :m and params_key = :k"
    births = warehouse.query("select metric, params_key from metric_answers where metric = 'births' "
                             "order by params_key").iloc[0]
    row = {"v": version_key, "m": "births", "k": births["params_key"]}
    with warehouse.begin() as conn:
        payload = conn.execute(sa.text(f"select payload from metric_answers where {where}"), row).scalar()
        conn.execute(sa.text(f"delete from metric_answers where {where}"), row)
        conn.execute(sa.text(f"delete from metric_answers where {where}"),
                     {"v": version_key, "m": answers._COMPLETE, "k": ""})
    answers._STORE.forget(warehouse)
    params = next(p for name, p in first_requests(warehouse)
                  if name == "births" and answers.params_key(_binds(warehouse, "births", p),
                                                             warehouse.settings.disclosure) == births["params_key"])
    assert stored(warehouse, "births", params) is None
    with warehouse.begin() as conn:
        conn.execute(sa.text("insert into metric_answers (data_version, metric, params_key, payload) "
                             "values (:v, :m, :k, :p)"), {**row, "p": payload})
    assert stored(warehouse, "births", params) is not None
    with warehouse.begin() as conn:
        conn.execute(sa.text("insert into metric_answers (data_version, metric, params_key, payload) "
                             "values (:v, :m, '', :p)"), {"v": version_key, "m": answers._COMPLETE, "p": b""})
    pd.testing.assert_frame_equal(stored(warehouse, "births", params), live(warehouse, "births", params),
                                  check_exact=False, rtol=1e-9)


def _binds(warehouse, name, params):
    metric = metrics.catalogue.METRICS[name]
    with warehouse.connect() as conn:
        binds = metrics.resolve_parameters(warehouse, metric, params, conn=conn)
    metrics._disclosure_binds(warehouse, binds, suppress=True)
    return binds


def test_a_time_limit_of_nothing_stores_nothing(warehouse):
    summary = answers.precompute(warehouse, seconds=0)
    assert not summary.complete and summary.answers == 0
    assert stored(warehouse, "births", {"area": "all"}) is None
    assert not run_metric(warehouse, "births", {"area": "all"}).empty


def test_the_every_icb_selector_is_not_an_area_anyone_can_ask_for(warehouse):
    with pytest.raises(metrics.MetricError, match="unknown area"):
        run_metric(warehouse, "births", {"area": answers.EVERY_ICB})


_OPEN_FOR_WRITING = """
import sys, duckdb
try:
    duckdb.connect(sys.argv[1]).close()
    print("opened")
except duckdb.Error as error:
    print("refused:", type(error).__name__)
"""


def test_a_duckdb_file_held_read_only_reads_its_version_once_per_hold(tmp_path, monkeypatch):
    import subprocess
    import sys

    from pathway.db import Warehouse

    path = tmp_path / "held.duckdb"
    writer = build_warehouse(f"duckdb:///{path}")
    before = int(run_metric(writer, "births", {"area": ALPHA}, suppress=False)["live_births"].iloc[0])
    writer.dispose()
    reader = Warehouse(f"duckdb:///{path}", read_only=True)
    assert reader.data_is_fixed
    reads = []
    real_read = answers.read_version
    monkeypatch.setattr(answers, "read_version", lambda conn: reads.append(1) or real_read(conn))
    for _ in range(3):
        assert int(run_metric(reader, "births", {"area": ALPHA}, suppress=False)["live_births"].iloc[0]) == before
    assert len(reads) == 1
    # Why once is enough: between requests, no connection of the pool in use, the file is held,
    # and DuckDB refuses another process that would open it for writing (so no load can run).
    opened = subprocess.run([sys.executable, "-c", _OPEN_FOR_WRITING, str(path)],
                            capture_output=True, text=True, timeout=60)
    assert opened.stdout.strip() == "refused: IOException", opened.stdout + opened.stderr
    # Once let go, a load can run, and the next hold reads the new version and sees the new row.
    reader.dispose()
    writer = Warehouse(f"duckdb:///{path}")
    load_one_more_birth(writer)
    writer.dispose()
    reads.clear()
    after = int(run_metric(reader, "births", {"area": ALPHA}, suppress=False)["live_births"].iloc[0])
    assert (after, len(reads)) == (before + 1, 1)
    reader.dispose()


def test_a_held_read_only_pool_gives_back_connections_with_no_transaction_open(tmp_path):
    # Such a pool skips the rollback on return (DuckDB raised on it when nothing had begun); what
    # SQLAlchemy began is still rolled back as its connection closes, and a failed statement
    # leaves the next caller a working connection.
    from pathway.db import Warehouse, native_duckdb

    path = tmp_path / "held.duckdb"
    build_warehouse(f"duckdb:///{path}").dispose()
    reader = Warehouse(f"duckdb:///{path}", read_only=True)
    with reader.connect() as conn:
        conn.execute(sa.text("select count(*) from cohort")).scalar()  # SQLAlchemy begins here
    with pytest.raises(sa.exc.DBAPIError):
        with reader.connect() as conn:
            conn.execute(sa.text("select * from no_such_table"))
    for _ in range(3):
        with reader.connect() as conn:
            native = native_duckdb(conn)
            native.execute("begin transaction")  # refused if one were still open
            assert native.execute("select count(*) from cohort").fetchone()[0] > 0
            native.execute("rollback")
    assert int(reader.query("select count(*) as n from cohort")["n"].iloc[0]) > 0
    reader.dispose()


def test_a_warehouse_that_can_change_reads_its_version_every_time(warehouse, monkeypatch):
    assert not warehouse.data_is_fixed  # read-write (and PostgreSQL): a load may come between calls
    reads = []
    real_read = answers.read_version
    monkeypatch.setattr(answers, "read_version", lambda conn: reads.append(1) or real_read(conn))
    for _ in range(3):
        run_metric(warehouse, "births", {"area": ALPHA})
    assert len(reads) == 3


def test_a_stored_answer_is_read_from_the_warehouse_once_and_each_caller_gets_a_copy(warehouse, monkeypatch):
    answers.precompute(warehouse)
    answers._DECODED.clear()
    reads = []
    real_payload = answers._payload
    monkeypatch.setattr(answers, "_payload", lambda *args: reads.append(args[2]) or real_payload(*args))
    first = run_metric(warehouse, "births", {"area": ALPHA})
    first["live_births"] = -1  # a caller changing its answer changes no one else's
    second = run_metric(warehouse, "births", {"area": ALPHA})
    assert reads == ["births"]
    assert second.equals(live(warehouse, "births", {"area": ALPHA}))


def test_decoded_answers_keep_to_their_budget_the_least_recently_used_going_first():
    frame = pd.DataFrame({"count": range(100)})  # 800 bytes of numbers and 132 of index
    size = int(frame.memory_usage(index=True, deep=True).sum())
    kept = answers._Decoded(budget=4 * size)
    reads = []

    def read(name):
        return lambda: reads.append(name) or frame.copy()

    for name in ("a", "b", "c", "d"):
        kept.get(name, read(name))
    kept.get("a", read("a"))       # kept: a becomes the most recently used
    kept.get("e", read("e"))       # over budget: b, the least recently used, goes
    kept.get("b", read("b"))       # read again (and c goes)
    kept.get("a", read("a"))
    assert reads == ["a", "b", "c", "d", "e", "b"]
    big = pd.DataFrame({"count": range(1000)})  # over a quarter of the budget: never kept
    kept.get("big", lambda: reads.append("big") or big)
    kept.get("big", lambda: reads.append("big") or big)
    assert reads[-2:] == ["big", "big"]

