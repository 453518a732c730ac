"""Raw HTTP against the dashboard's Flask server (its test client): every protected route and
callback refuses a stranger and a viewer where it should, sign-in is rate limited and CSRF
protected, cookies and headers are hardened, a viewer never receives quarantined values, and
SQL or path tricks in filters, URLs and upload names stay inert."""

from __future__ import annotations

import base64
import json
import re

import pytest

from pathway import accounts, audit
from pathway.settings import load_settings
from test_web_fixtures import NORTHTOWN, PERIOD, build_fixture_warehouse

VIEWER, MANAGER = ("vera", "viewer-password-1"), ("dana", "manager-password-1")
PAGES = ["/", "/coverage", "/pathway-flow", "/outcomes", "/equity", "/service-gaps", "/trends", "/map",
         "/economic-case", "/data"]
MARKER = "QUARANTINE-MARKER-7731"


def add_accounts(warehouse) -> None:
    accounts.add_user(warehouse, VIEWER[0], "viewer", VIEWER[1])
    accounts.add_user(warehouse, MANAGER[0], "data_manager", MANAGER[1])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("access"))
    add_accounts(warehouse)
    yield warehouse
    warehouse.dispose()


def make_app(warehouse, **overrides):
    from pathway.web.server import create_app

    return create_app(warehouse=warehouse, open_access=False,
                      settings=load_settings().with_overrides(**overrides))


@pytest.fixture
def app(warehouse):
    return make_app(warehouse)


def nav_pages(layout: str) -> list[str]:
    """The pages the navigation offers, from the layout's JSON."""
    found = []

    def visit(node):
        if isinstance(node, dict):
            if isinstance(node.get("id"), dict) and node["id"].get("type") == "nav-link":
                found.append(node["id"]["page"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)
    visit(json.loads(layout))
    return found


def csrf_from_page(client, path: str = "/sign-in") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def sign_in(client, who: tuple[str, str]):
    response = client.post("/sign-in", data={"csrf_token": csrf_from_page(client), "user_name": who[0],
                                             "password": who[1], "next": "/"})
    assert response.status_code == 303, response.text
    client.get("/")  # the page sets the _csrf_token cookie Dash's renderer sends back
    return response


def csrf_header(client) -> dict:
    return {"X-CSRFToken": client.get_cookie("_csrf_token").value}


def callback(client, output: str, inputs: list[tuple[str, str, object]], state=(), *, headers=None):
    """POST one Dash callback the way dash-renderer does (outputs parsed from the output string)."""
    parts = [p for p in output.split("...") if p] if output.startswith("..") else [output]
    outputs = [{"id": p.strip(".").rsplit(".", 1)[0], "property": p.strip(".").rsplit(".", 1)[1]} for p in parts]
    body = {"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state]}
    if headers is None:
        cookie = client.get_cookie("_csrf_token")
        headers = {"X-CSRFToken": cookie.value} if cookie else {}
    return client.post("/_dash-update-component", json=body, headers=headers)


def page_content(client, path: str, search: str = "", **kwargs):
    return callback(client, ".._pages_content.children..._pages_store.data..",
                    [("_pages_location", "pathname", path), ("_pages_location", "search", search)], **kwargs)


def upload(client, name: str, content: bytes, **kwargs):
    encoded = "data:text/csv;base64," + base64.b64encode(content).decode()
    return callback(client, "..data-upload-result.children...data-load-log.children..",
                    [("data-upload", "contents", encoded)], [("data-upload", "filename", name)], **kwargs)


# ---- a stranger -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/coverage", f"/coverage?area={NORTHTOWN}", "/data", "/no-such-page"])
def test_a_stranger_asking_for_a_page_is_sent_to_sign_in_with_the_page_to_come_back_to(app, path):
    response = app.server.test_client().get(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sign-in?next=%2F")


@pytest.mark.parametrize("path", ["/_dash-layout", "/_dash-dependencies", "/assets/pathway.css",
                                  "/assets/pathway-accessibility.js", "/_dash-component-suites/dash/dcc/dash_core_components.js"])
def test_a_stranger_gets_no_layout_dependencies_or_scripts(app, path):
    response = app.server.test_client().get(path)
    assert response.status_code == 401 and response.text == "Sign in first.\n"


def test_a_stranger_gets_no_callback_answer(app):
    client = app.server.test_client()
    assert page_content(client, "/coverage", headers={}).status_code == 401
    assert upload(client, "areas.csv", b"area_code,area_name\n", headers={}).status_code == 401


def test_health_tells_a_stranger_only_that_it_is_up(app, warehouse):
    client = app.server.test_client()
    assert client.get("/health").get_json() == {"status": "ok"}
    sign_in(client, MANAGER)
    assert client.get("/health").get_json()["rows"] == {"cohort": 30, "activity": 36}


# ---- signing in --------------------------------------------------------------------------------------------
def test_signing_in_sets_a_hardened_session_and_records_it(app, warehouse):
    client = app.server.test_client()
    response = sign_in(client, VIEWER)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("pathway_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/_dash-layout").status_code == 200
    events = audit.read_events(warehouse)
    latest = events[events["event"] == "sign_in"].iloc[0]
    assert (latest.user_name, latest.outcome, json.loads(latest.details)) == (
        "vera", "ok", {"how": "password", "role": "viewer"})


def test_over_https_the_session_cookie_is_secure(app):
    client = app.server.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/sign-in", base_url="https://localhost").text).group(1)
    response = client.post("/sign-in", base_url="https://localhost", headers={"Referer": "https://localhost/sign-in"},
                           data={"csrf_token": token, "user_name": VIEWER[0], "password": VIEWER[1]})
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("pathway_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_wrong_password_is_refused_and_recorded(app, warehouse):
    client = app.server.test_client()
    response = client.post("/sign-in", data={"csrf_token": csrf_from_page(client), "user_name": "vera",
                                             "password": "not-the-password"})
    assert response.status_code == 401 and "The user name or password is not right." in response.text
    assert client.get("/_dash-layout").status_code == 401
    failed = audit.read_events(warehouse).query("event == 'sign_in' and outcome == 'failed'")
    assert "vera" in set(failed["user_name"])


def test_sign_in_without_its_csrf_token_is_refused(app):
    client = app.server.test_client()
    client.get("/sign-in")
    response = client.post("/sign-in", data={"user_name": VIEWER[0], "password": VIEWER[1]})
    assert response.status_code == 400 and "expired" in response.text
    assert client.get("/_dash-layout").status_code == 401


def test_five_failures_lock_the_user_name_even_with_the_right_password(app):
    client = app.server.test_client()
    for _ in range(5):
        client.post("/sign-in", data={"csrf_token": csrf_from_page(client), "user_name": "dana", "password": "guess"})
    response = client.post("/sign-in", data={"csrf_token": csrf_from_page(client), "user_name": "dana",
                                             "password": MANAGER[1]})
    assert response.status_code == 429 and "Too many failed sign-ins" in response.text
    # Another account from another address is not held up by dana's lock.
    other = app.server.test_client()
    response = other.post("/sign-in", environ_base={"REMOTE_ADDR": "127.0.0.9"},
                          data={"csrf_token": csrf_from_page(other), "user_name": VIEWER[0], "password": VIEWER[1]})
    assert response.status_code == 303


def test_failures_on_two_workers_count_together(app, monkeypatch):
    """gunicorn runs several workers, each with its own memory: 3 failed sign-ins answered by
    one worker and 2 by another lock the name, as 5 on one worker do (counted from the audit
    trail both write). Before, each worker counted its own and both still let the right
    password in."""
    from pathway.web import access

    first, second = access.limiter, access.SignInLimiter()
    client = app.server.test_client()

    def attempt(password: str):
        return client.post("/sign-in", data={"csrf_token": csrf_from_page(client), "user_name": "dana",
                                             "password": password})

    for worker, tries in ((first, 3), (second, 2)):
        monkeypatch.setattr(access, "limiter", worker)
        for _ in range(tries):
            assert attempt("guess").status_code == 401
    response = attempt(MANAGER[1])
    assert response.status_code == 429 and "Too many failed sign-ins" in response.text
    # neither worker saw five failures itself
    assert (len(first._failures[("user", "dana")]), len(second._failures[("user", "dana")])) == (3, 2)


def test_twenty_failures_from_one_address_lock_every_name_from_it(app):
    client = app.server.test_client()
    for number in range(20):
        client.post("/sign-in", data={"csrf_token": csrf_from_page(client), "user_name": f"guess{number}",
                                      "password": "guess"})
    response = client.post("/sign-in", data={"csrf_token": csrf_from_page(client), "user_name": VIEWER[0],
                                             "password": VIEWER[1]})
    assert response.status_code == 429


@pytest.mark.parametrize("target, lands", [("/coverage?area=E06000901", "/coverage?area=E06000901"),
                                           ("https://evil.example/", "/"), ("//evil.example/x", "/"),
                                           ("/\\evil.example", "/"), ("javascript:alert(1)", "/")])
def test_after_sign_in_only_a_page_of_this_site_is_opened(app, target, lands):
    client = app.server.test_client()
    response = client.post("/sign-in", data={"csrf_token": csrf_from_page(client), "user_name": VIEWER[0],
                                             "password": VIEWER[1], "next": target})
    assert response.headers["Location"] == lands


def test_signing_out_ends_the_session(app, warehouse):
    client = app.server.test_client()
    sign_in(client, VIEWER)
    token = re.search(r'"name":"csrf_token".*?"value":"([^"]+)"|"value":"([^"]+)".*?"name":"csrf_token"',
                      client.get("/_dash-layout").text)
    response = client.post("/sign-out", data={"csrf_token": token.group(1) or token.group(2)})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert client.get("/_dash-layout").status_code == 401
    assert audit.read_events(warehouse).iloc[0].event == "sign_out"


def test_a_removed_account_or_changed_role_ends_its_session(app, warehouse):
    from pathway.web import access

    accounts.add_user(warehouse, "temp", "data_manager", "temporary-password")
    client = app.server.test_client()
    sign_in(client, ("temp", "temporary-password"))
    accounts.set_role(warehouse, "temp", "viewer")
    access.forget_accounts()  # as 30 seconds later
    assert client.get("/_dash-layout").status_code == 401
    sign_in(client, ("temp", "temporary-password"))
    accounts.remove_user(warehouse, "temp")
    access.forget_accounts()
    assert client.get("/_dash-layout").status_code == 401


# ---- roles ----------------------------------------------------------------------------------------------
def test_a_viewer_sees_figures_but_not_the_data_page(app):
    client = app.server.test_client()
    sign_in(client, VIEWER)
    layout = client.get("/_dash-layout").text
    assert "Signed in as vera (viewer)" in layout
    assert "/coverage" in nav_pages(layout) and "/data" not in nav_pages(layout)
    coverage = page_content(client, "/coverage", f"?from={PERIOD['from']}&to={PERIOD['to']}")
    assert coverage.status_code == 200 and "coverage-stage-reach" in coverage.text
    data = page_content(client, "/data")
    assert data.status_code == 200
    assert "Your account is a viewer" in data.text and "Load log" not in data.text and "data-upload" not in data.text


def test_a_data_manager_sees_the_data_page_with_its_audit_log(app):
    client = app.server.test_client()
    sign_in(client, MANAGER)
    assert "/data" in nav_pages(client.get("/_dash-layout").text)
    data = page_content(client, "/data").text
    assert "Load log" in data and "Audit log" in data and "data-upload" in data


@pytest.mark.parametrize("output, inputs, state", [
    ("..data-upload-result.children...data-load-log.children..", [("data-upload", "contents", "data:,x")],
     [("data-upload", "filename", "areas.csv")]),
    # the same component named only in the inputs, or only in the state, or only in the output string
    ("report-download-message.children", [("data-upload", "contents", "data:,x")], []),
    ("report-download-message.children", [("report-download-html", "n_clicks", 1)], [("data-load-log", "children", None)]),
    ("data-audit-log.children", [("report-download-html", "n_clicks", 1)], []),
])
def test_a_viewer_is_refused_every_data_manager_callback_whatever_the_browser_sends(app, warehouse, output, inputs, state):
    client = app.server.test_client()
    sign_in(client, VIEWER)
    response = callback(client, output, inputs, state)
    assert response.status_code == 403 and response.text == "This needs a data manager's account.\n"
    assert audit.read_events(warehouse).iloc[0][["user_name", "event", "outcome"]].tolist() == [
        "vera", "refused", "forbidden"]


def test_callbacks_need_the_csrf_header(app):
    client = app.server.test_client()
    sign_in(client, VIEWER)
    response = page_content(client, "/coverage", headers={})
    assert response.status_code == 400 and "CSRF" in response.text
    response = page_content(client, "/coverage", headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400


def test_a_viewer_cannot_send_a_large_body(app):
    client = app.server.test_client()
    sign_in(client, VIEWER)
    response = callback(client, "report-download-message.children",
                        [("report-download-html", "n_clicks", "x" * 6_000_000)])
    assert response.status_code == 413


def test_every_response_carries_the_security_headers(app):
    client = app.server.test_client()
    for response in (client.get("/sign-in"), client.get("/"), client.get("/_dash-layout")):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self' 'sha256-" in headers["Content-Security-Policy"]
        assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


# ---- uploads ----------------------------------------------------------------------------------------------
@pytest.fixture
def upload_warehouse(tmp_path):
    warehouse = build_fixture_warehouse(tmp_path)
    add_accounts(warehouse)
    yield warehouse
    warehouse.dispose()


def activity_with_one_bad_row() -> bytes:
    rows = [f"B{n:03d},P{n:03d},health_visiting,contact,2024-06-01,,attended" for n in range(30)]
    rows.append(f"B999,P000,health_visiting,contact,{MARKER},,attended")
    return ("activity_id,pregnancy_id,service,activity_type,activity_date,contact_code,attendance\n"
            + "\n".join(rows) + "\n").encode()


def test_a_viewer_never_receives_quarantined_values(upload_warehouse):
    app = make_app(upload_warehouse)
    manager = app.server.test_client()
    sign_in(manager, MANAGER)
    loaded = upload(manager, "activity_more.csv", activity_with_one_bad_row())
    # The data manager sees the quarantined row with its value (so the marker is findable at all).
    assert loaded.status_code == 200 and MARKER in loaded.text and "Quarantined rows" in loaded.text
    assert upload_warehouse.query("select count(*) as n from rejects where value = :v", {"v": MARKER}).n[0] == 1
    viewer = app.server.test_client()
    sign_in(viewer, VIEWER)
    answers = [viewer.get("/_dash-layout"), viewer.get("/_dash-dependencies"), viewer.get("/health"),
               *[page_content(viewer, path, f"?from={PERIOD['from']}&to={PERIOD['to']}") for path in PAGES],
               *[viewer.get(path) for path in PAGES], upload(viewer, "activity_more.csv", b"x")]
    assert all(answer.status_code in (200, 403) for answer in answers)
    assert not [answer.request.path for answer in answers if MARKER in answer.text]
    # The area report a viewer downloads (base64 inside the answer) holds no quarantined value either.
    report = callback(viewer, "..report-download.data...report-download-message.children..",
                      [("report-download-html", "n_clicks", 1), ("report-download-pdf", "n_clicks", None)],
                      [("url", "search", f"?area={NORTHTOWN}&from={PERIOD['from']}&to={PERIOD['to']}")])
    document = base64.b64decode(report.get_json()["response"]["report-download"]["data"]["content"]).decode()
    assert "Northtown" in document and MARKER not in document


def test_uploads_are_recorded_with_their_file_and_counts(upload_warehouse):
    app = make_app(upload_warehouse)
    client = app.server.test_client()
    sign_in(client, MANAGER)
    upload(client, "activity_more.csv", activity_with_one_bad_row())
    event = audit.read_events(upload_warehouse).iloc[0]
    assert (event.user_name, event.event, event.outcome) == ("dana", "upload", "loaded")
    assert json.loads(event.details) == {"bytes": len(activity_with_one_bad_row()), "file_name": "activity_more.csv",
                                         "rows_loaded": 30, "rows_rejected": 1, "table": "activity"}


def test_an_upload_name_cannot_reach_another_folder(upload_warehouse, tmp_path):
    app = make_app(upload_warehouse)
    client = app.server.test_client()
    sign_in(client, MANAGER)
    response = upload(client, "../../../../tmp/areas.csv", b"area_code,area_name\nE06000903,Eastmere\n")
    assert response.status_code == 200 and "areas.csv" in response.text
    logged = upload_warehouse.query("select file_name from load_log order by load_id desc limit 1").file_name[0]
    assert logged == "areas.csv"


def test_an_upload_over_the_limit_is_refused_in_words_and_beyond_it_by_the_server(upload_warehouse):
    app = make_app(upload_warehouse, dashboard_upload_limit=1000)
    client = app.server.test_client()
    sign_in(client, MANAGER)
    response = upload(client, "areas.csv", b"area_code,area_name\n" + b"E06000903,Eastmere\n" * 60)
    assert response.status_code == 200
    assert "areas.csv is 0 MB, more than the 0 MB the dashboard accepts" in response.text
    # 1000 bytes base64-encoded in JSON: the server reads at most 4/3 of it plus 1 MB.
    assert upload(client, "areas.csv", b"x" * 1_200_000).status_code == 413
    make_app(upload_warehouse)


# ---- injection ----------------------------------------------------------------------------------------------
SQL = ["' OR '1'='1", "E06000901'; DROP TABLE cohort; --", "1) UNION SELECT person_id FROM cohort --",
       "2024-01-01' OR 1=1 --"]


@pytest.mark.parametrize("attack", SQL)
@pytest.mark.parametrize("name", ["area", "from", "to", "stage", "tier", "service"])
def test_sql_in_any_filter_is_ignored_in_words(app, warehouse, attack, name):
    from urllib.parse import urlencode

    client = app.server.test_client()
    sign_in(client, VIEWER)
    response = page_content(client, "/coverage", "?" + urlencode({name: attack}))
    assert response.status_code == 200 and "was ignored" in response.text
    assert "P000" not in response.text and "M000" not in response.text  # no person-level id
    assert warehouse.query("select count(*) as n from cohort").n[0] == 30


@pytest.mark.parametrize("attack", SQL)
def test_sql_in_a_metric_parameter_is_bound_not_run(warehouse, attack):
    from pathway.metrics import MetricError, run_metric

    try:
        frame = run_metric(warehouse, "stage_reach", {"area": attack})
    except MetricError:
        frame = None
    assert frame is None or frame.empty
    assert warehouse.query("select count(*) as n from cohort").n[0] == 30


# ---- the open mode and the trusted proxy -----------------------------------------------------------------
def test_open_mode_serves_loopback_only(warehouse):
    from pathway.web.server import create_app

    app = create_app(warehouse=warehouse, open_access=True)
    client = app.server.test_client()
    assert client.get("/_dash-layout").status_code == 200
    far = client.get("/_dash-layout", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert far.status_code == 403 and "its own computer only" in far.text
    make_app(warehouse)


def test_python_app_py_refuses_to_run_open_on_a_shared_address():
    from pathway.web.server import run_development_server

    with pytest.raises(SystemExit, match="serves this computer only"):
        run_development_server(host="0.0.0.0")


PROXY = "127.0.0.2"


def test_a_trusted_proxy_signs_people_in_by_header(warehouse):
    app = make_app(warehouse, trusted_proxies=(PROXY,))
    client = app.server.test_client()
    through_proxy = {"REMOTE_ADDR": PROXY}
    response = client.get("/_dash-layout", environ_base=through_proxy, headers={"X-Forwarded-User": "vera"})
    assert response.status_code == 200 and "Signed in as vera (viewer)" in response.text
    # The same header from anyone else is ignored.
    assert client.get("/_dash-layout", headers={"X-Forwarded-User": "dana"}).status_code == 401
    # A name the warehouse does not know gets a page saying so, not the dashboard.
    unknown = client.get("/", environ_base=through_proxy, headers={"X-Forwarded-User": "stranger@nhs.net"})
    assert unknown.status_code == 403 and "no account for you" in unknown.text
    make_app(warehouse)


def test_a_trusted_proxy_user_with_no_account_gets_the_default_role_when_one_is_set(warehouse):
    app = make_app(warehouse, trusted_proxies=("127.0.0.0/30",), proxy_default_role="viewer")
    client = app.server.test_client()
    response = client.get("/_dash-layout", environ_base={"REMOTE_ADDR": PROXY},
                          headers={"X-Forwarded-User": "newcomer@nhs.net", "X-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 200 and "Signed in as newcomer@nhs.net (viewer)" in response.text
    make_app(warehouse)


def test_behind_a_trusted_tls_proxy_cookies_are_secure_and_the_client_address_is_recorded(warehouse):
    app = make_app(warehouse, trusted_proxies=(PROXY,))
    client = app.server.test_client()
    proxied = {"REMOTE_ADDR": PROXY}
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.23", "X-Forwarded-Host": "localhost",
                 "Referer": "https://localhost/sign-in"}
    page = client.get("/sign-in", environ_base=proxied, headers=forwarded)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/sign-in", environ_base=proxied, headers=forwarded,
                           data={"csrf_token": token, "user_name": "vera", "password": "wrong password"})
    assert response.status_code == 401
    assert "Secure" in next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("pathway_session="))
    event = audit.read_events(warehouse).iloc[0]
    assert (event.user_name, event.address, event.outcome) == ("vera", "198.51.100.23", "failed")
    # The same forwarded headers from an address that is not a trusted proxy change nothing.
    other = app.server.test_client()
    direct = other.get("/sign-in", headers=forwarded)
    cookie = next(c for c in direct.headers.getlist("Set-Cookie") if c.startswith("pathway_session="))
    assert "Secure" not in cookie
    token = re.search(r'name="csrf_token" value="([^"]+)"', direct.text).group(1)
    other.post("/sign-in", headers=forwarded, data={"csrf_token": token, "user_name": "vera",
                                                    "password": "wrong password"})
    assert audit.read_events(warehouse).iloc[0].address == "127.0.0.1"
    make_app(warehouse)


def test_a_hostile_query_string_is_escaped_in_the_page_html(warehouse):
    from pathway.web.server import create_app

    client = create_app(warehouse=warehouse, open_access=True).server.test_client()
    page = client.get('/coverage?area="><script>alert(1)</script>&x=</title><img src=x onerror=alert(2)>')
    # Dash pages' meta tags repeat the URL: escaped as an attribute value.
    assert page.status_code == 200 and 'twitter:url" content="http://localhost/coverage?area=&quot;&gt;&lt;script' in page.text
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    make_app(warehouse)


def test_figure_downloads_and_reports_are_recorded_with_their_parameters(app, warehouse):
    client = app.server.test_client()
    sign_in(client, VIEWER)
    card = "coverage-stage-reach"
    ids_ = {kind: {"card": card, "type": f"figure-card-{kind}"} for kind in ("download", "csv", "xlsx", "data")}
    csv_id = json.dumps(ids_["csv"], separators=(",", ":"), sort_keys=True)
    body = {"output": '{"card":["MATCH"],"type":"figure-card-download"}.data',  # as dash-renderer names it
            "outputs": {"id": ids_["download"], "property": "data"},
            "inputs": [{"id": ids_["csv"], "property": "n_clicks", "value": 1},
                       {"id": ids_["xlsx"], "property": "n_clicks", "value": None}],
            "changedPropIds": [f"{csv_id}.n_clicks"],
            "state": [{"id": ids_["data"], "property": "data",
                       "value": {"columns": ["area_code", "reached"], "rows": [{"area_code": NORTHTOWN, "reached": 10}]}},
                      {"id": "url", "property": "search", "value": ""}]}
    answer = client.post("/_dash-update-component", json=body, headers=csrf_header(client))
    # the file is named for what it covers: the figure, the area (all) and the births period
    assert answer.status_code == 200 and f'"filename":"pathway-{card}-all-' in answer.text
    event = audit.read_events(warehouse).iloc[0]
    assert (event.user_name, event.event, json.loads(event.details)) == ("vera", "download", {"figure": card, "format": "csv"})
    callback(client, "..report-download.data...report-download-message.children..",
             [("report-download-html", "n_clicks", None), ("report-download-pdf", "n_clicks", 1)],
             [("url", "search", f"?area={NORTHTOWN}")])
    event = audit.read_events(warehouse).iloc[0]
    assert (event.user_name, event.event, json.loads(event.details)) == (
        "vera", "report", {"format": "pdf", "filters": f"?area={NORTHTOWN}"})
