"""Load test: many signed-in people using `pathway serve` at once on loopback, every answer checked.

    python benchmarks/signed_in_load.py                      # 50 users, 60 s, 2 workers, county demo
    python benchmarks/signed_in_load.py --users 20 --seconds 30 --db duckdb:////tmp/county.duckdb

It builds the county demo into a temporary DuckDB (unless --db names a built one), adds one viewer
account per simulated person, starts `pathway serve` with 2 gunicorn workers on a free loopback
port, signs every person in through the sign-in form, and then each person, in its own thread,
asks for pages and filters at random until the time is up: the page router's callback (a page's
layout and figures for an area and period) and the shell's layout (which names who is signed in).

Correct means: status 200, and the page answer byte-for-byte the same as the answer to the same
request asked once by one person before the load began (whose figures are checked against
pathway.metrics for each area), and the layout naming the person who asked. A figure replaced by
a sentence ("No data for this filter") is correct when the quiet answer said the same. Anything
else, a 5xx or a wrong figure, counts as an error. Prints requests, errors, p50/p95 latency, and
each worker's resident memory at the end. Requests go to 127.0.0.1 only and stop at the deadline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

# stopping gunicorn's process group is written once, beside the other web benchmark
from web_benchmark import stop_server  # noqa: E402  (benchmarks/ is this script's folder)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PAGES = ["/", "/coverage", "/pathway-flow", "/outcomes", "/equity", "/service-gaps", "/trends", "/map",
         "/economic-case"]
PASSWORD = "load-test-password"
PAGE_CALLBACK = ".._pages_content.children..._pages_store.data.."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(db_url: str | None, users: int) -> tuple[str, list[str], list[str]]:
    """A county demo warehouse with one viewer per simulated person; (url, areas, names)."""
    from pathway import accounts
    from pathway.db import Warehouse
    from pathway.demo import build_demo

    if db_url is None:
        db_url = f"duckdb:///{tempfile.mkdtemp(prefix='pathway-load-')}/county.duckdb"
    warehouse = Warehouse(db_url)
    warehouse.ensure_schema()
    if not warehouse.query("select count(*) as n from cohort").n[0]:
        print("building the county demo ...", flush=True)
        build_demo(warehouse, scale="county", seed=2024)
    names = [f"load{number:03d}" for number in range(users)]
    known = {a.user_name for a in accounts.list_users(warehouse)}
    for name in names:
        if name not in known:
            accounts.add_user(warehouse, name, "viewer", PASSWORD)
    areas = list(warehouse.query("select area_code from areas order by area_code").area_code)
    warehouse.dispose()
    return db_url, areas, names


def start_server(db_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(Path(tempfile.gettempdir()) / f"pathway-load-{port}.log", "w")
    env = {**os.environ, "PATHWAY_SECRET_KEY": os.urandom(32).hex(), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "pathway.cli", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--workers", str(workers), "--db", db_url],
                               cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped (exit {process.returncode}); see {log.name}")
        try:
            if requests.get(base + "/health", timeout=5).status_code == 200:
                return process, base
        except requests.RequestException:
            time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"the server did not answer /health within 180 s; see {log.name}")


def signed_in_session(base: str, name: str, password: str = PASSWORD) -> requests.Session:
    """A requests.Session signed in through the sign-in form, sending Dash's CSRF header (other
    benchmarks against `pathway serve` can use it too)."""
    session = requests.Session()
    page = session.get(base + "/sign-in", timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = session.post(base + "/sign-in", data={"csrf_token": token, "user_name": name, "password": password,
                                                   "next": "/"}, timeout=60, allow_redirects=False)
    if answer.status_code != 303:
        raise SystemExit(f"{name} could not sign in: {answer.status_code} {answer.text[:200]}")
    session.get(base + "/", timeout=60)  # sets the _csrf_token cookie the renderer sends back
    session.headers["X-CSRFToken"] = session.cookies["_csrf_token"]
    return session


def page_request(session: requests.Session, base: str, path: str, search: str) -> requests.Response:
    body = {"output": PAGE_CALLBACK,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname", "_pages_location.search"], "state": []}
    return session.post(base + "/_dash-update-component", json=body, timeout=120)


def card_rows(answer: dict, card: str) -> list[dict] | None:
    """The suppressed rows a figure card holds for downloads (its dcc.Store), from a page answer."""
    found = []

    def visit(node):
        if isinstance(node, dict):
            if node.get("type") == "Store" and isinstance(node.get("props", {}).get("id"), dict) \
                    and node["props"]["id"].get("card") == card:
                found.append(node["props"]["data"]["rows"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)
    visit(answer)
    return found[0] if found else None


def check_reference_figures(db_url: str, answers: dict, areas: list[str], period: str) -> None:
    """The quiet answers' births figures agree with pathway.metrics (suppressed), area by area."""
    from pathway.db import Warehouse
    from pathway.export import frame_for_people
    from pathway.metrics import run_metric

    warehouse = Warehouse(db_url, read_only=True)
    try:
        for area in areas:
            params = {"area": area, **dict(p.split("=") for p in period.split("&"))}
            expected = frame_for_people(run_metric(warehouse, "stage_reach", params, suppress=True), "stage_reach")
            answer = json.loads(answers[("/coverage", f"?area={area}&{period}")])
            rows = card_rows(answer, "coverage-stage-reach")
            if rows is None:
                raise SystemExit(f"the coverage answer for {area} has no stage reach rows to check")
            shown = {(r["stage"], r["tier"]): str(r["reached"]) for r in rows}
            wanted = {(r.stage, r.tier): str(r.reached) for r in expected.itertuples()}
            if shown != wanted:
                raise SystemExit(f"the quiet coverage answer for {area} disagrees with pathway.metrics: "
                                 f"{shown} != {wanted}")
    finally:
        warehouse.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default=None, help="a built warehouse URL (default: build the county demo)")
    parser.add_argument("--areas", type=int, default=6, help="areas the simulated people choose from")
    args = parser.parse_args()

    db_url, all_areas, names = prepare(args.db, args.users)
    rng = random.Random(2024)
    areas = rng.sample(all_areas, min(args.areas, len(all_areas)))
    period = "from=2024-04-01&to=2025-03-31"
    searches = [""] + [f"?area={area}&{period}" for area in areas]
    process, base = start_server(db_url, args.workers)
    try:
        print(f"signing in {len(names)} people ...", flush=True)
        sessions = [signed_in_session(base, name) for name in names]
        quiet = sessions[0]
        reference = {}
        for path in PAGES:
            for search in searches:
                answer = page_request(quiet, base, path, search)
                if answer.status_code != 200:
                    raise SystemExit(f"{path}{search}: {answer.status_code} before the load began")
                reference[(path, search)] = answer.content
        check_reference_figures(db_url, reference, areas, period)
        digests = {key: hashlib.sha256(value).hexdigest() for key, value in reference.items()}

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds

        def person(number: int) -> None:
            session, name = sessions[number], names[number]
            chooser = random.Random(number)
            while time.monotonic() < deadline:
                started = time.monotonic()
                problem = None
                try:
                    if chooser.random() < 0.15:
                        answer = session.get(base + "/_dash-layout", timeout=120)
                        if answer.status_code != 200:
                            problem = f"layout {answer.status_code}"
                        elif f"Signed in as {name} (viewer)" not in answer.text:
                            problem = f"layout for {name} names someone else"
                    else:
                        key = (chooser.choice(PAGES), chooser.choice(searches))
                        answer = page_request(session, base, *key)
                        if answer.status_code != 200:
                            problem = f"{key[0]}{key[1]}: {answer.status_code}"
                        elif hashlib.sha256(answer.content).hexdigest() != digests[key] \
                                and json.loads(answer.content) != json.loads(reference[key]):
                            problem = f"{key[0]}{key[1]}: a different answer from the quiet one"
                except requests.RequestException as error:
                    problem = f"{type(error).__name__}: {error}"
                elapsed = time.monotonic() - started
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

        print(f"{len(names)} people for {args.seconds:.0f} s against {args.workers} workers ...", flush=True)
        threads = [threading.Thread(target=person, args=(n,)) for n in range(len(names))]
        for thread in threads:
            thread.start()
        rss_peak: dict[int, int] = {}
        while any(t.is_alive() for t in threads):
            for child in psutil.Process(process.pid).children(recursive=True):
                try:
                    rss_peak[child.pid] = max(rss_peak.get(child.pid, 0), child.memory_info().rss)
                except psutil.NoSuchProcess:
                    pass
            time.sleep(1)
        workers = psutil.Process(process.pid).children(recursive=True)
        rss_end = {w.pid: w.memory_info().rss for w in workers}
    finally:
        stop_server(process)

    ordered = sorted(latencies)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)] if ordered else float("nan")
    print(f"requests: {len(latencies)} in {args.seconds:.0f} s ({len(latencies) / args.seconds:.1f}/s)")
    print(f"errors: {len(errors)}" + (f" (first: {errors[:3]})" if errors else ""))
    print(f"latency: p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {ordered[-1] * 1000:.0f} ms" if ordered else "latency: no requests")
    for pid in sorted(rss_end):
        print(f"worker {pid}: RSS {rss_end[pid] / 2**20:.0f} MiB at the end, peak {rss_peak.get(pid, 0) / 2**20:.0f} MiB")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
