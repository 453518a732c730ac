"""How fast the dashboard answers and how much a page load sends: each view's callbacks timed over
HTTP on loopback against `pathway serve` (gunicorn, one worker), and the bytes of a first page load.

    python benchmarks/web_benchmark.py                         # county demo, built into a temp DuckDB
    python benchmarks/web_benchmark.py --db duckdb:////tmp/county.duckdb --repeats 10
    PATHWAY_BENCH_NATIONAL_DB=duckdb:////data/national.duckdb python benchmarks/web_benchmark.py

A filter change is what the browser sends when the area filter changes: the filter bar's POST (new
query string), then the page router's POST (the page's layout and figures for it) and the
navigation links' POST; its time is the three in sequence. Cold: the first request for an area
(the worker's metric cache is empty for it); warm: the same area again (answered from the cache).
Page weight: every response of a first page load (HTML, scripts, styles, _dash-layout,
_dash-dependencies and the first callbacks), compressed as served to Chromium and uncompressed; with Chromium
installed, also what a real browser transfers (lazy chunks included).
Targets (issue 4): 95th percentile under 150 ms per filter change at national scale; under 1 MB a page.
A national demo: `pathway demo --scale national --db duckdb:////PATH/national.duckdb`, then set
PATHWAY_BENCH_NATIONAL_DB to that URL.
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


def start_server(db_url: str) -> tuple[subprocess.Popen, str]:
    """`pathway serve` (gunicorn, one worker, read-only DuckDB) on a free loopback port."""
    port = free_port()
    log = open(Path(tempfile.gettempdir()) / f"pathway-web-benchmark-{port}.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "pathway.cli", "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", "1", "--db", db_url],
                               cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               # its own process group, so stopping it stops gunicorn's worker too
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
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
    raise SystemExit(f"the dashboard did not answer /health within 120 s; see {log.name}")


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


def fetch(base: str, path: str, *, body: dict | None = None, compressed: bool = True) -> tuple[bytes, int, float]:
    """(decoded body, bytes on the wire, seconds) for one request."""
    headers = {"Accept-Encoding": BROWSER_ENCODINGS if compressed else "identity"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
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


def time_views(base: str, area_codes: list[str], repeats: int) -> list[dict]:
    """Per view: a filter change to each area once (cold), then `repeats` passes again (warm)."""
    rows = []
    for path, name in PAGES.items():
        layout, _ = post(base, router_payload(path, ""))
        shown = shown_filters(layout) or ["area"]
        # Fast answers that only say "this could not be shown" would flatter the figures: say so.
        for problem in sorted(set(re.findall(rb'This could not be shown\. ".{0,120}?\},"([^"]{10,})"',
                                             layout)))[:3]:
            print(f"warning: {name} shows an error instead of a figure: {problem.decode()}")
        cold, warm, routers, controls = [], [], [], []
        for attempt in range(repeats + 1):
            for area in area_codes:
                search = "" if area == "all" else f"?area={area}"
                _, filter_s = post(base, filter_payload(area, shown, ""))
                _, router_s = post(base, router_payload(path, search))
                _, nav_s = post(base, navigation_payload(path, search))
                (cold if attempt == 0 else warm).append(1000 * (filter_s + router_s + nav_s))
                routers.append(1000 * router_s)
                if path in PAGE_CONTROLS:
                    controls.append(1000 * post(base, control_payload(path, search))[1])
        rows.append({"view": name, "path": path, "cold": cold, "warm": warm, "router": routers, "control": controls})
    return rows


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


def area_codes(db_url: str, limit: int) -> list[str]:
    """'all', every ICB, then areas, up to `limit` values for the area filter."""
    from pathway.db import Warehouse

    warehouse = Warehouse(db_url, read_only=True)
    try:
        frame = warehouse.query("select area_code, icb_code from areas order by area_code")
    finally:
        warehouse.dispose()
    icbs = sorted(set(frame["icb_code"].dropna()))
    return (["all"] + icbs + list(frame["area_code"]))[:limit]


def report(scale: str, db_url: str, repeats: int, areas_limit: int) -> None:
    codes = area_codes(db_url, areas_limit)
    process, base = start_server(db_url)
    try:
        print(f"\n## {scale} scale ({db_url}): {len(codes)} area filter values, {repeats} warm passes")
        print(f"{'view':<15}{'cold median':>12}{'cold p95':>10}{'warm median':>13}{'warm p95':>10}"
              f"{'router p95':>12}{'control p95':>13}   (ms per filter change)")
        worst = 0.0
        for row in time_views(base, codes, repeats):
            every = row["cold"] + row["warm"]
            worst = max(worst, percentile(every, 0.95))
            control = f"{percentile(row['control'], 0.95):.0f}" if row["control"] else "-"
            print(f"{row['view']:<15}{statistics.median(row['cold']):>12.0f}{percentile(row['cold'], 0.95):>10.0f}"
                  f"{statistics.median(row['warm']):>13.0f}{percentile(row['warm'], 0.95):>10.0f}"
                  f"{percentile(row['router'], 0.95):>12.0f}{control:>13}")
        print(f"worst view's 95th percentile, cold and warm together: {worst:.0f} ms "
              f"(target {TARGET_P95_MS} ms at national scale)")

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
    parser.add_argument("--repeats", type=int, default=5, help="warm passes over the area values (default 5)")
    parser.add_argument("--areas", type=int, default=8, help="area filter values per view (default 8)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pathway-web-benchmark-") as folder:
        report("county", args.db or county_database(Path(folder)), args.repeats, args.areas)
        national = os.environ.get("PATHWAY_BENCH_NATIONAL_DB")
        if national:
            report("national", national, args.repeats, args.areas)
        else:
            print("\nNo national figures: build the national demo with `pathway demo --scale national "
                  "--db duckdb:////PATH/national.duckdb` and set PATHWAY_BENCH_NATIONAL_DB to that URL.")


if __name__ == "__main__":
    main()
