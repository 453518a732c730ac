"""How fast the dashboard answers and how much it sends, over HTTP on loopback against `pathway serve`.

    python benchmarks/web_benchmark.py                         # county demo, built into a temp DuckDB
    python benchmarks/web_benchmark.py --db duckdb:////tmp/county.duckdb --national duckdb:////tmp/national.duckdb
    python benchmarks/web_benchmark.py --db URL --users 50 --workers 2     # add the concurrent-users run
    python benchmarks/web_benchmark.py --db URL --weight                   # add bytes per first page load
    python benchmarks/web_benchmark.py --scales national --national URL --postgres new   # and on PostgreSQL

A filter change is what the browser sends when the area filter changes: the filter bar's POST (new
query string), then the page router's POST (the page's layout and figures for it) and the
navigation links' POST; its time is the three in sequence. Per view and per area mode (all areas,
an ICB, one area), at each scale:
- fresh: the very first request of a freshly started server (one gunicorn worker, nothing rendered
  before in that process: the true first click after a start or a load). `pathway serve` renders
  views into the shared view cache before it serves (PATHWAY_VIEW_WARMUP_SECONDS); the run starts
  one server first with no limit on that, says how long it took, and times the rest against it
  (PATHWAY_VIEW_WARMUP_SECONDS=0 in the environment times views rendered on request instead);
- first: the first request for each of --samples area values of that mode (the fresh one included);
- repeat: the same values again, --repeats passes (answered from caches).
Each view and mode gets its own fresh server, so no view warms another's figures.
Metrics: each catalogue metric's run_metric (as the dashboard asks: default period; and live, for
another period) beside its bare query (the same SQL and binds on the native DuckDB connection,
fetched into a DataFrame), in the same process and run.
Concurrent users (--users N --workers W): N threads changing view and area at random for
--seconds; requests per second, p50/p95, errors and each worker's RSS and PSS (PSS counts pages
shared between workers once, split between them).
PostgreSQL (--postgres URL, or --postgres new: a throwaway cluster, initdb'd as an unprivileged user
on a free loopback port, with the national demo built into it): the same tables on it, then each
view and mode's first and repeat p95 beside DuckDB's.
Targets (issue 15): first and repeat p95 under 150 ms per view at national scale with one worker;
every metric within 1.5x its bare query; 50 users on 2 workers at county scale: 0 errors, p95
under 1 s. A national demo: `pathway demo --scale national --db duckdb:////PATH/national.duckdb`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PAGES = {"/": "Overview", "/coverage": "Coverage", "/pathway-flow": "Pathway flow", "/outcomes": "Outcomes",
         "/equity": "Equity", "/service-gaps": "Service gaps", "/trends": "Trends", "/map": "Map",
         "/economic-case": "Economic case", "/data": "Data"}
# Each view's own control, and a value to set it to: (component id, property, value, output id, states)
PAGE_CONTROLS = {
    "/trends": ("trends-metric", "value", "specialist_access", "trend-card", []),
    "/map": ("map-metric", "value", "new_birth_visit", "map-card", []),
    "/service-gaps": ("service-gaps-sort", "value", "gap", "service-gaps-table",
                      [("service-gaps-show", "value", "gaps")]),
}
TARGET_P95_MS = 150
TARGET_PAGE_BYTES = 1_000_000


# ---- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


LOGS: list[str] = []
# Settings every server of a run gets (the view cache folder of the run, and a trusted proxy on
# loopback whose users are viewers).
SERVER_ENV: dict[str, str] = {"PATHWAY_TRUSTED_PROXIES": "127.0.0.1", "PATHWAY_PROXY_DEFAULT_ROLE": "viewer"}


def start_server(db_url: str, workers: int = 1, *, wait_s: float = 300,
                 env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`pathway serve` (gunicorn, read-only DuckDB) on a free loopback port."""
    port = free_port()
    log = open(Path(tempfile.gettempdir()) / f"pathway-web-benchmark-{port}.log", "w")
    LOGS.append(log.name)
    process = subprocess.Popen([sys.executable, "-m", "pathway.cli", "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", str(workers), "--db", db_url],
                               cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, **SERVER_ENV, **(env or {})},
                               # its own process group, so stopping it stops gunicorn's worker too
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the dashboard server stopped (exit {process.returncode}); see {log.name}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as response:
                if response.status == 200:
                    return process, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"the dashboard did not answer /health within {wait_s:.0f} s; see {log.name}")


def stop_server(process: subprocess.Popen) -> None:
    """Stop gunicorn's master and its worker (the whole process group this script started)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ---- requests -----------------------------------------------------------------------------------
# What Chromium asks for. flask-compress answers in zstd, br, gzip or deflate (files Flask streams,
# such as scripts, never in gzip), so a client that only takes gzip would get scripts uncompressed.
BROWSER_ENCODINGS = "gzip, deflate, br, zstd"


def _decoded(raw: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    if encoding == "br":
        import brotli
        return brotli.decompress(raw)
    if encoding == "zstd":
        try:
            from compression import zstd
        except ImportError:
            from backports import zstd
        return zstd.decompress(raw)
    return raw


# The dashboard asks who is there: the benchmark comes in as a person a trusted proxy on loopback
# names (a viewer without an account), and sends the CSRF token its first page set.
PROXY_USER = "web-benchmark"
_SESSIONS: dict[str, tuple] = {}


def _session(base: str) -> tuple:
    """(opener with the server's cookies, CSRF token) for this server, made on first use."""
    import http.cookiejar

    if base not in _SESSIONS:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(urllib.request.Request(base + "/", headers={"X-Forwarded-User": PROXY_USER}),
                    timeout=120).read()
        token = next((c.value for c in jar if c.name == "_csrf_token"), None)
        _SESSIONS[base] = (opener, token)
    return _SESSIONS[base]


def fetch(base: str, path: str, *, body: dict | None = None, compressed: bool = True) -> tuple[bytes, int, float]:
    """(decoded body, bytes on the wire, seconds) for one request."""
    opener, token = _session(base)
    headers = {"Accept-Encoding": BROWSER_ENCODINGS if compressed else "identity",
               "X-Forwarded-User": PROXY_USER}
    if token:
        headers["X-CSRFToken"] = token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, headers=headers)
    started = time.perf_counter()
    with opener.open(request, timeout=120) as response:
        raw = response.read()
        encoding = response.headers.get("Content-Encoding", "")
    elapsed = time.perf_counter() - started
    return _decoded(raw, encoding), len(raw), elapsed


def _filter_id(name: str) -> dict:
    return {"name": name, "type": "filter"}


def filter_payload(area: str, shown: list[str], search: str) -> dict:
    """The filter bar's POST when the area select changes (as dash-renderer sends it)."""
    values = {"area": area}
    return {
        "output": "url.search", "outputs": {"id": "url", "property": "search"},
        "inputs": [[{"id": _filter_id(n), "property": "value", "value": values.get(n)} for n in shown]],
        "changedPropIds": [json.dumps(_filter_id("area"), separators=(",", ":")) + ".value"],
        "state": [[{"id": _filter_id(n), "property": "id", "value": {"type": "filter", "name": n}} for n in shown],
                  {"id": "url", "property": "search", "value": search}],
    }


def router_payload(path: str, search: str) -> dict:
    """Dash pages' router: the page's layout (and every figure on it) for this URL."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.search"],
    }


def navigation_payload(path: str, search: str) -> dict:
    links = [{"id": {"page": p, "type": "nav-link"}, "property": prop} for prop in ("href", "active") for p in PAGES]
    half = len(PAGES)
    return {
        "output": '..{"page":["ALL"],"type":"nav-link"}.href...{"page":["ALL"],"type":"nav-link"}.active..',
        "outputs": [links[:half], links[half:]],
        "inputs": [{"id": "url", "property": "pathname", "value": path},
                   {"id": "url", "property": "search", "value": search}],
        "changedPropIds": ["url.search"],
        "state": [[{"id": {"page": p, "type": "nav-link"}, "property": "id",
                    "value": {"type": "nav-link", "page": p}} for p in PAGES]],
    }


def control_payload(path: str, search: str) -> dict:
    component, prop, value, output, states = PAGE_CONTROLS[path]
    return {
        "output": f"{output}.children", "outputs": {"id": output, "property": "children"},
        "inputs": [{"id": component, "property": prop, "value": value}]
        + [{"id": c, "property": p, "value": v} for c, p, v in states],
        "changedPropIds": [f"{component}.{prop}"],
        "state": [{"id": "url", "property": "search", "value": search}],
    }


def post(base: str, body: dict) -> tuple[bytes, float]:
    content, _, seconds = fetch(base, "/_dash-update-component", body=body)
    return content, seconds


def shown_filters(layout: bytes) -> list[str]:
    """The filter controls a page's layout holds, in order (the filter bar's ALL inputs)."""
    names = re.findall(rb'"type":\s*"filter",\s*"name":\s*"(\w+)"', layout)
    return list(dict.fromkeys(n.decode() for n in names))


# ---- timing -----------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = share * (len(ordered) - 1)
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def filter_change(base: str, path: str, area: str, shown: list[str]) -> tuple[float, int]:
    """(milliseconds, uncompressed bytes of the page's answer) of one filter change to `area`."""
    search = "" if area == "all" else f"?area={area}"
    _, filter_s = post(base, filter_payload(area, shown, ""))
    content, router_s = post(base, router_payload(path, search))
    _, nav_s = post(base, navigation_payload(path, search))
    for problem in [] if path == "/data" else sorted(set(re.findall(rb'This could not be shown\. ".{0,120}?\},"([^"]{10,})"',
                                         content)))[:3]:
        # Fast answers that only say "this could not be shown" would flatter the figures: say so.
        print(f"warning: {path} {area} shows an error instead of a figure: {problem.decode()}")
    return 1000 * (filter_s + router_s + nav_s), len(content)


# Which filters each view shows, read once from a layout (the filter bar's ALL inputs).
_SHOWN: dict[str, list[str]] = {}


def time_view(db_url: str, path: str, values: list[str], repeats: int) -> dict:
    """One view and one area mode on a freshly started one-worker server: the first request for
    each value (the first of all is the fresh one), then `repeats` passes over them again."""
    process, base = start_server(db_url)
    try:
        first, sizes = [], []
        shown = _SHOWN.get(path, ["area"])
        for area in values:
            ms, size = filter_change(base, path, area, shown)
            first.append(ms)
            sizes.append(size)
        if path not in _SHOWN:
            layout, _ = post(base, router_payload(path, ""))
            _SHOWN[path] = shown_filters(layout) or ["area"]
        repeat = [filter_change(base, path, area, _SHOWN[path])[0]
                  for _ in range(repeats) for area in values]
    finally:
        stop_server(process)
    return {"fresh": first[0], "first": first, "repeat": repeat, "bytes": max(sizes)}


def area_modes(db_url: str, samples: int) -> dict[str, list[str]]:
    """The area filter values per mode: all areas, ICBs and areas (spread through the list)."""
    from pathway.db import Warehouse

    warehouse = Warehouse(db_url, read_only=True)
    try:
        frame = warehouse.query("select area_code, icb_code from areas order by area_code")
    finally:
        warehouse.dispose()
    icbs = sorted(set(frame["icb_code"].dropna()) - set(frame["area_code"]))
    codes = list(frame["area_code"])

    def spread(items: list[str]) -> list[str]:
        step = max(len(items) // max(samples, 1), 1)
        return items[::step][:samples]

    return {"all": ["all"], "ICB": spread(icbs), "area": spread(codes)}


def render_views_once(db_url: str) -> str:
    """Start a server once with no limit on the views it renders before serving (as `pathway serve`
    does after a load, within PATHWAY_VIEW_WARMUP_SECONDS), so every later start finds them kept."""
    started = time.monotonic()
    process, _ = start_server(db_url, wait_s=7200, env={"PATHWAY_VIEW_WARMUP_SECONDS": "7200"})
    stop_server(process)
    said = [line for line in Path(LOGS[-1]).read_text().splitlines()
            if line.startswith("Rendered ")]
    return said[0] if said else f"no views rendered ({time.monotonic() - started:.0f} s)"


def web_table(scale: str, db_url: str, samples: int, repeats: int, views: list[str]) -> dict:
    """Per view and area mode: {(view, mode): (first p95, repeat p95)}, also printed."""
    modes = area_modes(db_url, samples)
    found = {}
    if os.environ.get("PATHWAY_VIEW_WARMUP_SECONDS") != "0":
        print(f"\n{scale}: {render_views_once(db_url)} (once per data version, before the timings)", flush=True)
    print(f"\n## {scale}: first and repeat filter changes (ms), one worker, a fresh server per view and mode")
    print(f"{'view':<15}{'mode':<6}{'fresh':>8}{'first p50':>11}{'first p95':>11}{'repeat p50':>12}"
          f"{'repeat p95':>12}{'answer bytes':>14}")
    worst = 0.0
    for path in views:
        for mode, values in modes.items():
            if not values:
                continue
            row = time_view(db_url, path, values, repeats)
            found[(PAGES[path], mode)] = (percentile(row["first"], 0.95), percentile(row["repeat"], 0.95))
            worst = max(worst, *found[(PAGES[path], mode)])
            print(f"{PAGES[path]:<15}{mode:<6}{row['fresh']:>8.0f}{statistics.median(row['first']):>11.0f}"
                  f"{percentile(row['first'], 0.95):>11.0f}{statistics.median(row['repeat']):>12.0f}"
                  f"{percentile(row['repeat'], 0.95):>12.0f}{row['bytes']:>14,}", flush=True)
    print(f"worst 95th percentile, first or repeat: {worst:.0f} ms (target {TARGET_P95_MS} ms at national scale)")
    return found


def side_by_side(tables: dict[str, dict]) -> None:
    """First and repeat p95 of each view and mode on every warehouse of the run, side by side."""
    names = list(tables)
    print(f"\n## first / repeat p95 (ms) side by side: {', '.join(names)}")
    print(f"{'view':<15}{'mode':<6}" + "".join(f"{name:>28.28}" for name in names))
    for key in tables[names[0]]:
        cells = [tables[n].get(key) for n in names]
        print(f"{key[0]:<15}{key[1]:<6}" + "".join(
            f"{f'{c[0]:,.0f} / {c[1]:,.0f}' if c else '-':>28}" for c in cells))


def postgres_warehouse(option: str, scale: str, stack) -> str:
    """--postgres: a URL as given, or `new`: a throwaway cluster with the demo built into it
    (`pathway demo`: generated, loaded by the loader, journey built, answers precomputed)."""
    if option != "new":
        return option
    from pathway import throwaway_postgres as cluster

    bin_dir = cluster.find_bin_dir()
    if bin_dir is None:
        raise SystemExit(f"PostgreSQL not found: {cluster.INSTALL_HINT}")
    # tuned as a small team server, not the test suite's tiny defaults
    url = stack.enter_context(cluster.ThrowawayPostgres(
        bin_dir, settings=cluster.TEAM_SERVER, prefix="pathway-bench-pg-")) + "/postgres"
    print(f"building the {scale} demo into a throwaway PostgreSQL ({url}) ...", flush=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pathway.cli", "demo", "--scale", scale, "--db", url],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    print(f"built in {time.monotonic() - started:,.0f} s", flush=True)
    return url


# ---- metrics beside their bare query --------------------------------------------------------------


def metric_table(scale: str, db_url: str, repeats: int) -> None:
    """Each catalogue metric through run_metric beside its bare query, one area and all areas.

    The live run and its bare query take turns (live, bare, live, bare, ...), so a machine busy
    with other work slows both alike and their ratio holds."""
    import pandas as pd

    from pathway import catalogue
    from pathway.catalogue import named_sql, statements
    from pathway.db import Warehouse, native_duckdb
    from pathway.metrics import _STEPS, resolve_parameters, run_metric
    import pathway.metrics as metrics_module

    # the bind pattern sqlalchemy.text() recognises, as the code being measured has it (private
    # before issue 15: this file also measures older checkouts)
    bind = getattr(catalogue, "BIND", None) or catalogue._BIND
    try:
        from pathway.answers import _economic_scenario
    except ImportError:  # before precomputed answers: the catalogue's defaults
        def _economic_scenario(conn):
            return {}

    warehouse = Warehouse(db_url, read_only=True)
    area = str(warehouse.query("select area_code, count(*) as births from cohort group by area_code "
                               "order by births desc, area_code limit 1").iloc[0]["area_code"])
    print(f"\n## {scale}: run_metric beside its bare query (median ms of {repeats} turns each, after one "
          "warm-up)")
    print(f"{'metric':<20}{'scope':<7}{'views ask':>10}{'live':>8}{'bare':>8}{'live/bare':>11}")

    def median_ms(*calls) -> list[float]:
        for call in calls:
            call()
        times: list[list[float]] = [[] for _ in calls]
        for _ in range(repeats):
            for call, kept in zip(calls, times):
                started = time.perf_counter()
                call()
                kept.append(1000 * (time.perf_counter() - started))
        return [statistics.median(kept) for kept in times]

    with warehouse.connect() as conn:
        # the economic case page asks with its starting scenario filled in
        scenario = _economic_scenario(conn)
    ratios = []
    for name, metric in catalogue.METRICS.items():
        scopes = [area, "all"] if metric.parameter("area") else ["all"]
        for scope in scopes:
            params = {"area": scope} if metric.parameter("area") else {}
            if name == "economic_case":
                params.update(scenario)
            asked, = median_ms(lambda: run_metric(warehouse, name, params))
            live_params = dict(params)
            with warehouse.connect() as conn:
                binds = resolve_parameters(warehouse, metric, params, conn=conn)
            # another period than the default: what no precomputed answer holds (metrics without
            # a period or a data date, data_quality and benchmarks, always answer as stored)
            if "date_to" in binds and metric.parameter("to") is not None:
                live_params["to"] = str(binds["date_to"] - pd.Timedelta(days=31))
            elif "as_at" in binds and metric.parameter("as_at") is not None:
                live_params["as_at"] = str(binds["as_at"] - pd.Timedelta(days=31))
            with warehouse.connect() as conn:
                binds = resolve_parameters(warehouse, metric, live_params, conn=conn)
                steps = _STEPS.get(name)
                if steps and steps.prepare:
                    steps.prepare(warehouse, binds, live_params, conn)
                policy = warehouse.settings.disclosure
                binds.update(suppress_below=policy.suppress_below, round_to=policy.round_to)
                sql = statements(named_sql(metric.sql_file, warehouse.dialect))[0]
                used = {k: v for k, v in binds.items() if k in catalogue.bind_names(sql)}
                if warehouse.is_duckdb:
                    native = native_duckdb(conn)
                    dollar = bind.sub(r"$\1", sql)

                    def bare_query():
                        return native.execute(dollar, used).fetch_df()
                else:
                    # the session settings run_metric gives its SQL (none before issue 15)
                    settings = getattr(metrics_module, "POSTGRES_METRIC_SETTINGS", None)
                    if settings is not None:
                        conn.execute(settings)

                    def bare_query():
                        return warehouse.query(sql, used, conn=conn)
                live, bare = median_ms(lambda: run_metric(warehouse, name, live_params), bare_query)
            ratios.append(live / bare)
            print(f"{name:<20}{'all' if scope == 'all' else 'area':<7}{asked:>10.1f}{live:>8.1f}{bare:>8.1f}"
                  f"{live / bare:>10.2f}x", flush=True)
    print(f"live within 1.5x of its bare query: {sum(r <= 1.5 for r in ratios)} of {len(ratios)}; "
          f"worst {max(ratios):.2f}x")
    warehouse.dispose()


# ---- concurrent users --------------------------------------------------------------------------------
def worker_memory(master_pid: int) -> list[tuple[int, int, int]]:
    """(pid, RSS KiB, PSS KiB) of each gunicorn worker (the server's child processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master_pid:
                continue
            rollup = (entry / "smaps_rollup").read_text()
        except (OSError, IndexError, ValueError):
            continue
        numbers = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:]}
        found.append((int(entry.name), numbers.get("Rss", 0), numbers.get("Pss", 0)))
    return found


def concurrent_users(scale: str, db_url: str, users: int, workers: int, seconds: float,
                     samples: int) -> None:
    import random
    import threading

    values = [v for mode in area_modes(db_url, samples).values() for v in mode]
    paths = [p for p in PAGES if p != "/data"]
    process, base = start_server(db_url, workers=workers)
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(seed: int) -> None:
        chooser = random.Random(seed)
        while time.monotonic() < stop_at:
            path, area = chooser.choice(paths), chooser.choice(values)
            try:
                ms, _ = filter_change(base, path, area, ["area"])
                with lock:
                    times.append(ms)
            except Exception as error:  # a benchmark counts failures, it does not stop on them
                with lock:
                    errors.append(f"{path} {area}: {error}")

    try:
        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        memory = worker_memory(process.pid)
    finally:
        stop_server(process)
    print(f"\n## {scale}: {users} users, {workers} workers, {seconds:.0f} s")
    print(f"filter changes: {len(times)} ({len(times) / elapsed:.1f} per second), errors: {len(errors)}, "
          f"p50 {percentile(times, 0.5):.0f} ms, p95 {percentile(times, 0.95):.0f} ms")
    for error in errors[:3]:
        print(f"  error: {error}")
    for pid, rss, pss in memory:
        print(f"worker {pid}: RSS {rss / 1024:,.0f} MiB, PSS {pss / 1024:,.0f} MiB")


# ---- page weight -----------------------------------------------------------------------------------
def page_weight_over_http(base: str, path: str) -> tuple[int, int]:
    """(bytes sent compressed, uncompressed bytes) of a first page load, request by request."""
    html_page, _, _ = fetch(base, path, compressed=False)
    text = html_page.decode()
    static = [path, "/_dash-layout", "/_dash-dependencies"]
    static += [u.replace("&amp;", "&") for u in re.findall(r'<script src="([^"]+)"', text)]
    static += [u.replace("&amp;", "&") for u in re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)]
    sent = plain = 0
    for url in static:
        sent += fetch(base, url)[1]
        plain += fetch(base, url, compressed=False)[1]
    for body in (router_payload(path, ""), navigation_payload(path, "")):
        content, wire, _ = fetch(base, "/_dash-update-component", body=body)
        sent += wire
        plain += len(content)
        if b'"type":"Graph"' in content.replace(b" ", b""):
            chunk = "/_dash-component-suites/dash/dcc/async-graph.js"
            sent += fetch(base, chunk)[1]
            plain += fetch(base, chunk, compressed=False)[1]
    return sent, plain


def page_weight_in_chromium(base: str, paths: list[str]) -> dict[str, tuple[int, int]] | None:
    """What headless Chromium transfers for a first page load with an empty cache (None without it)."""
    chromium, driver = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.support.ui import WebDriverWait

    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run",
                     "--disable-sync"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    browser = webdriver.Chrome(options=options)
    found = {}
    try:
        browser.execute_cdp_cmd("Network.enable", {})
        browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        for path in paths:
            browser.get("about:blank")
            browser.get_log("performance")
            browser.get(base + path)
            # Loaded: the heading is drawn and nothing is waiting on a callback or a lazy chunk.
            WebDriverWait(browser, 120).until(lambda d: d.execute_script(
                "return !!document.querySelector('h1') && !document.querySelector('[data-dash-is-loading]')"
                " && performance.getEntriesByType('resource').every(r => r.responseEnd > 0)"))
            WebDriverWait(browser, 120).until(lambda d: d.execute_script(
                "return document.querySelectorAll('.dash-graph--pending').length === 0"))
            requests: dict[str, list[int]] = {}
            for entry in browser.get_log("performance"):
                message = json.loads(entry["message"])["message"]
                params = message.get("params", {})
                if message["method"] == "Network.dataReceived":
                    requests.setdefault(params["requestId"], [0, 0])[1] += params["dataLength"]
                elif message["method"] == "Network.loadingFinished":
                    requests.setdefault(params["requestId"], [0, 0])[0] = int(params["encodedDataLength"])
            found[path] = (sum(r[0] for r in requests.values()), sum(r[1] for r in requests.values()))
    finally:
        browser.quit()
    return found


# ---- the demo databases ---------------------------------------------------------------------------------
def county_database(folder: Path) -> str:
    configured = os.environ.get("PATHWAY_BENCH_COUNTY_DB")
    if configured:
        return configured
    url = f"duckdb:///{folder / 'county.duckdb'}"
    print(f"building the county demo into {folder} (about 20 s) ...", flush=True)
    subprocess.run([sys.executable, "-m", "pathway.cli", "demo", "--scale", "county", "--db", url],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return url


def weight_table(db_url: str) -> None:
    process, base = start_server(db_url)
    try:
        print(f"\n{'page':<15}{'sent bytes':>12}{'plain bytes':>13}{'browser bytes':>15}{'browser plain':>15}")
        browser = page_weight_in_chromium(base, list(PAGES)) or {}
        for path, name in PAGES.items():
            sent, plain = page_weight_over_http(base, path)
            seen = browser.get(path)
            print(f"{name:<15}{sent:>12,}{plain:>13,}" + (f"{seen[0]:>15,}{seen[1]:>15,}" if seen else
                                                          f"{'(no Chromium)':>15}"))
        print(f"target: under {TARGET_PAGE_BYTES:,} bytes per page load (browser bytes include lazy "
              "chunks and HTTP headers; Chromium's cache disabled)")
    finally:
        stop_server(process)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="county-scale warehouse URL (default PATHWAY_BENCH_COUNTY_DB, else "
                                     "the county demo built into a temporary folder)")
    parser.add_argument("--national", default=os.environ.get("PATHWAY_BENCH_NATIONAL_DB"),
                        help="national-scale warehouse URL (default PATHWAY_BENCH_NATIONAL_DB)")
    parser.add_argument("--samples", type=int, default=4, help="area values per mode (default 4)")
    parser.add_argument("--repeats", type=int, default=3, help="repeat passes over them (default 3)")
    parser.add_argument("--views", help="comma-separated paths, e.g. /,/equity (default every view)")
    parser.add_argument("--no-views", action="store_true", help="skip the per-view timings")
    parser.add_argument("--no-metrics", action="store_true", help="skip the metric beside bare query table")
    parser.add_argument("--users", type=int, default=0, help="concurrent users to simulate (default none)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for --users (default 2)")
    parser.add_argument("--seconds", type=float, default=30, help="length of the --users run (default 30)")
    parser.add_argument("--weight", action="store_true", help="also measure bytes per first page load")
    parser.add_argument("--scales", default="county,national", help="which scales to run (default both)")
    parser.add_argument("--postgres", metavar="URL|new",
                        help="also time the same views and metrics on PostgreSQL, beside DuckDB: a loaded "
                             "warehouse's URL, or `new` for a throwaway cluster with the demo of "
                             "--postgres-scale built into it (national: about 7 minutes)")
    parser.add_argument("--postgres-scale", default="national", choices=("county", "national"),
                        help="the scale of the PostgreSQL warehouse, to print it beside (default national)")
    args = parser.parse_args(argv)
    views = args.views.split(",") if args.views else list(PAGES)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    with tempfile.TemporaryDirectory(prefix="pathway-web-benchmark-") as folder, ExitStack() as stack:
        wanted = args.scales.split(",")
        scales = [("county", args.db or county_database(Path(folder)))] if "county" in wanted else []
        if args.national and "national" in wanted:
            scales.append(("national", args.national))
        elif "national" in wanted:
            print("No national figures: build the national demo with `pathway demo --scale national "
                  "--db duckdb:////PATH/national.duckdb` and pass --national URL.")
        if args.postgres:
            scales.append((f"{args.postgres_scale} PostgreSQL",
                           postgres_warehouse(args.postgres, args.postgres_scale, stack)))
        tables = {}
        for scale, url in scales:
            # a view cache of this run's own, so nothing rendered by an earlier run is found
            SERVER_ENV["PATHWAY_VIEW_CACHE"] = str(Path(folder) / f"views-{scale}")
            if not args.no_metrics:
                metric_table(scale, url, max(args.repeats, 3))
            if not args.no_views:
                tables[scale] = web_table(scale, url, args.samples, args.repeats, views)
            if args.users and scale == "county":
                concurrent_users(scale, url, args.users, args.workers, args.seconds, args.samples)
            if args.weight:
                weight_table(url)
        if len(tables) > 1:
            side_by_side(tables)


if __name__ == "__main__":
    main()
