"""A load through the dashboard's upload stores the views' first answers, as `pathway load` does
(pathway.answers.precompute, in the background), on the web fixture's two areas (test_web_fixtures)."""

from __future__ import annotations

import base64

import pandas as pd
import pytest
import sqlalchemy as sa

from test_web_fixtures import NORTHTOWN, build_fixture_warehouse


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from pathway.web.server import create_app

    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("app"))
    yield create_app(warehouse=warehouse, open_access=True)
    warehouse.dispose()


@pytest.fixture
def dashboard(app, tmp_path):
    """A fresh fixture warehouse of its own behind the dashboard (each test loads into it)."""
    from pathway.web import warehouse as web_data

    warehouse = build_fixture_warehouse(tmp_path)
    web_data.configure(warehouse=warehouse)
    yield warehouse
    web_data.forget_cached_metrics()
    warehouse.dispose()


def _upload(name: str, text: str):
    from pathway.web.pages import data

    payload = "data:text/csv;base64," + base64.b64encode(text.encode()).decode()
    return data.load_uploaded_file(payload, name)


def _stored(warehouse, version_key: str) -> pd.DataFrame:
    with warehouse.connect() as conn:
        return pd.DataFrame(conn.execute(sa.text(
            "select metric, params_key from metric_answers where data_version = :v"),
            {"v": version_key}).all(), columns=["metric", "params_key"])


def _version(warehouse):
    from pathway.answers import read_version

    with warehouse.connect() as conn:
        return read_version(conn)


def test_an_upload_stores_the_first_answers_for_the_new_data(dashboard):
    from pathway.answers import BACKGROUND, _COMPLETE, stored_answer
    from pathway.metrics import ensure_journey, resolve_parameters
    from pathway.catalogue import METRICS

    ensure_journey(dashboard)
    assert _stored(dashboard, _version(dashboard).key).empty  # the fixture loads without precompute

    # Northtown's other 10 births get their new birth visit on day 10: postnatal universal reach
    # goes from 10 of 20 (50%) to 20 of 20 (100%).
    rows = "\n".join(f"U{i:03d},P{i:03d},health_visiting,contact,2024-03-{11 + i:02d},new_birth_visit,attended"
                     for i in range(10, 20))
    summary, message = _upload("activity_visits.csv", "activity_id,pregnancy_id,service,activity_type,"
                               "activity_date,contact_code,attendance\n" + rows + "\n")
    assert message is None and summary.outcome == "loaded" and summary.rows_loaded == 10
    assert BACKGROUND.wait(timeout=300)

    version = _version(dashboard)
    stored = _stored(dashboard, version.key)
    # every catalogue metric, for all areas, the ICB and both areas where it takes an area
    assert set(stored["metric"]) == set(METRICS) | {_COMPLETE}
    assert (stored["metric"] == "stage_reach").sum() == 4

    with dashboard.connect() as conn:
        binds = resolve_parameters(dashboard, METRICS["stage_reach"], {"area": NORTHTOWN}, conn=conn)
        binds.update(suppress_below=dashboard.settings.disclosure.suppress_below,
                     round_to=dashboard.settings.disclosure.round_to)
        answer = stored_answer(dashboard, conn, version, "stage_reach", binds)
    assert answer is not None
    row = answer[(answer["stage"] == "postnatal") & (answer["tier"] == "universal")].iloc[0]
    assert (int(row["reached"]), int(row["cohort"]), float(row["pct"])) == (20, 20, 100.0)


def test_an_upload_says_the_first_answers_are_worked_out_in_the_background(dashboard):
    from pathway.answers import BACKGROUND
    from pathway.web.pages import data

    summary, message = _upload("areas_extra.csv", "area_code,area_name\nE06000903,Eastmere\n")
    assert BACKGROUND.wait(timeout=300)
    words = " ".join(str(getattr(c, "children", "")) for c in data.upload_result(summary, message))
    assert "worked out in the background" in words


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_precompute_thread_killed_from_outside_does_not_hang_the_next(monkeypatch):
    """dash's test runner ends every thread it did not start with an asynchronous SystemExit.
    Before, the killed thread stayed recorded as running: wait() spun for ever and no later
    upload started a precompute (the suite hung in CI)."""
    import threading

    from pathway import answers

    runs, release = [], threading.Event()

    def killed(warehouse, stop=None):
        runs.append(warehouse)
        release.wait(5)
        raise SystemExit  # what PyThreadState_SetAsyncExc raises inside the thread

    monkeypatch.setattr(answers, "precompute", killed)
    background = answers.BackgroundPrecompute()
    first, second = _Named("first"), _Named("second")
    background.start(first)
    release.set()
    assert _waits(background)
    assert background._thread is None

    release.clear()
    background.start(second)  # a later load starts a thread of its own again
    release.set()
    assert _waits(background)
    assert runs == [first, second]


def _waits(background) -> bool:
    """background.wait(10), itself bounded: the old wait() spun for ever, ignoring its timeout."""
    import threading

    answer = []
    waiter = threading.Thread(target=lambda: answer.append(background.wait(timeout=10)), daemon=True)
    waiter.start()
    waiter.join(15)
    return answer == [True]


class _Named:
    """A stand-in warehouse: only its settings are read before precompute."""

    def __init__(self, name: str):
        from pathway.settings import load_settings

        self.name, self.settings = name, load_settings()
