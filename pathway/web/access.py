"""Who may use the dashboard, and what: sign-in, roles and the checks on every request.

Two ways in under `pathway serve` (sign-in on by default):
- a local account (pathway.accounts: argon2id hashes in the warehouse) through the sign-in form,
  held in Flask's signed session cookie;
- a trusted reverse proxy (e.g. nginx with oauth2-proxy in front of NHS login or any OpenID
  Connect provider) that sets a user header, accepted only from PATHWAY_TRUSTED_PROXIES.
`python app.py` on a loopback address runs open for one analyst (a data manager) and says so.

Every request but the sign-in page, /health and the favicon needs a user; a Dash callback that
touches a data manager's component (ids.DATA_MANAGER_ONLY) is refused with 403 for a viewer,
whatever the browser sends. State-changing requests carry a CSRF token (Flask-WTF): the sign-in
form a hidden field, Dash callbacks the X-CSRFToken header its renderer copies from the
`_csrf_token` cookie.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import quote, urlsplit

import pandas as pd
from flask import Flask, Response, g, redirect, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from pathway import accounts
from pathway.accounts import DATA_MANAGER
from pathway.settings import Settings
from pathway.web import ids

log = logging.getLogger(__name__)

SIGN_IN, SIGN_OUT, HEALTH = "/sign-in", "/sign-out", "/health"
OPEN_PATHS = {SIGN_IN, HEALTH, "/_favicon.ico"}
CALLBACK_PATH = "/_dash-update-component"
CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads (its csrf_token_name default)
LOCAL_ANALYST = "local analyst"
SESSION_HOURS = 8
# A viewer's callbacks carry filters and small stores; only a data manager's upload is large.
VIEWER_BODY_LIMIT = 5_000_000
ACCOUNT_RECHECK_SECONDS = 30

csrf = CSRFProtect()


@dataclass(frozen=True)
class User:
    name: str
    role: str
    how: str  # password | proxy | open

    @property
    def is_data_manager(self) -> bool:
        return self.role == DATA_MANAGER


@dataclass
class AccessPolicy:
    open_access: bool = False          # python app.py on loopback: one analyst, no sign-in
    trusted_proxies: tuple = ()        # ip_network objects
    proxy_user_header: str = "X-Forwarded-User"
    proxy_default_role: str | None = None
    upload_limit: int = 200_000_000     # bytes of one file uploaded through the Data page


_policy = AccessPolicy()
_accounts_seen: dict[str, tuple[float, Any]] = {}
_accounts_lock = threading.Lock()


# ---- configuration ------------------------------------------------------------------------------

def configure(settings: Settings, *, open_access: bool) -> AccessPolicy:
    """Say how people get in (called by create_app, before the first request)."""
    global _policy
    if settings.proxy_default_role is not None:
        accounts.check_role(settings.proxy_default_role)
    _policy = AccessPolicy(open_access=open_access, trusted_proxies=parse_networks(settings.trusted_proxies),
                           proxy_user_header=settings.proxy_user_header,
                           proxy_default_role=settings.proxy_default_role,
                           upload_limit=settings.dashboard_upload_limit)
    with _accounts_lock:
        _accounts_seen.clear()
    limiter.reset()
    return _policy


def policy() -> AccessPolicy:
    return _policy


def parse_networks(values: Iterable[str]) -> tuple:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"PATHWAY_TRUSTED_PROXIES: {value!r} is not an IP address or network") from None
    return tuple(networks)


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return address == "localhost"


def is_trusted_proxy(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in _policy.trusted_proxies)


# ---- rate limit on sign-in attempts ---------------------------------------------------------------

class SignInLimiter:
    """Failed sign-ins counted per user name and per address over a sliding window.

    Counted from the audit trail every server process writes (audit_log, and its journal under
    `pathway serve` on DuckDB), so gunicorn's workers share one allowance: before, each worker
    kept its own counts, and N workers gave an attacker N times the allowance. This process's
    own counts are a floor should the trail be unreadable. Counts start again when the
    dashboard starts (configure), as they did."""

    def __init__(self, per_user: int = 5, per_address: int = 20, window_seconds: int = 900):
        self.per_user, self.per_address, self.window = per_user, per_address, window_seconds
        self._failures: dict[tuple[str, str], deque] = defaultdict(deque)
        self._lock = threading.Lock()
        self._counted_from = _utc_now()

    def _recent(self, key: tuple[str, str], now: float) -> deque:
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, user_name: str, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if (len(self._recent(("user", user_name.lower()), now)) >= self.per_user
                    or len(self._recent(("address", address), now)) >= self.per_address):
                return True
        return self._blocked_by_the_trail(user_name, address)

    def _blocked_by_the_trail(self, user_name: str, address: str) -> bool:
        from pathway import audit

        since = max(self._counted_from, _utc_now() - dt.timedelta(seconds=self.window))
        try:
            events = audit.read_events(_warehouse(), since=since)
        except Exception:  # the process's own counts still hold
            log.exception("could not read the audit trail to count failed sign-ins")
            return False
        sign_ins = events[events["event"] == "sign_in"]
        failed = sign_ins["outcome"] == "failed"
        mine = sign_ins["user_name"].fillna("").str.lower() == user_name.lower()
        # a user's count starts again at their last successful sign-in
        last_ok = sign_ins.loc[mine & (sign_ins["outcome"] == "ok"), "occurred_at"].max()
        after_ok = sign_ins["occurred_at"] > last_ok if pd.notna(last_ok) else True
        return (int((failed & mine & after_ok).sum()) >= self.per_user
                or int((failed & (sign_ins["address"] == address)).sum()) >= self.per_address)

    def failed(self, user_name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._failures[("user", user_name.lower())].append(now)
            self._failures[("address", address)].append(now)

    def succeeded(self, user_name: str) -> None:
        with self._lock:
            self._failures.pop(("user", user_name.lower()), None)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self._counted_from = _utc_now()


def _utc_now() -> dt.datetime:
    """As the audit trail records times: UTC, without a zone."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


limiter = SignInLimiter()


# ---- who is asking ---------------------------------------------------------------------------------

def _warehouse():
    from pathway.web.warehouse import web_warehouse
    return web_warehouse()


def _account(name: str):
    """The account as stored, re-read at most every ACCOUNT_RECHECK_SECONDS per process, so a
    removed account or a changed role takes effect within that time."""
    now = time.monotonic()
    with _accounts_lock:
        hit = _accounts_seen.get(name)
        if hit and now - hit[0] < ACCOUNT_RECHECK_SECONDS:
            return hit[1]
    try:
        found = accounts.find_user(_warehouse(), name)
    except Exception:  # an unreachable warehouse lets no one in
        log.exception("could not read the account %s", name)
        return None
    with _accounts_lock:
        _accounts_seen[name] = (now, found)
    return found


def forget_accounts() -> None:
    with _accounts_lock:
        _accounts_seen.clear()


def _proxy_user() -> User | None | bool:
    """The user the trusted proxy names; None when the proxy names no one; False when it names
    someone with no access."""
    name = (request.headers.get(_policy.proxy_user_header) or "").strip()
    if not name:
        return None
    account = _account(name)
    if account is not None:
        return User(account.user_name, account.role, "proxy")
    if _policy.proxy_default_role:
        return User(name, _policy.proxy_default_role, "proxy")
    g.pathway_refused_proxy_user = name
    return False


def _session_user() -> User | None:
    name, issued = session.get("user"), session.get("issued")
    if not name or not isinstance(issued, (int, float)):
        return None
    if time.time() - issued > SESSION_HOURS * 3600:
        session.clear()
        return None
    account = _account(name)
    # A removed account, a changed role or a new password ends the session.
    if account is None or account.role != session.get("role") or not account.has_password \
            or session.get("stamp") != account.stamp:
        session.clear()
        return None
    return User(account.user_name, account.role, "password")


def current_user() -> User | None:
    """The person making this request, or None (set on flask.g by the request guard)."""
    return g.get("pathway_user")


def current_role() -> str | None:
    user = current_user()
    return user.role if user else None


def may_manage_data() -> bool:
    """True for a data manager (and the open loopback analyst); False for a viewer or outside a request."""
    from flask import has_request_context

    if not has_request_context():
        return True  # unit tests and scripts call page functions directly
    user = current_user()
    return bool(user and user.is_data_manager)


def client_address() -> str:
    return request.remote_addr or "unknown"


def identify() -> User | None | bool:
    if _policy.open_access:
        return User(LOCAL_ANALYST, DATA_MANAGER, "open") if is_loopback(request.remote_addr) else False
    if request.environ.get("pathway.trusted_proxy"):
        found = _proxy_user()
        if found is not None:
            return found
    return _session_user()


# ---- the request guard -----------------------------------------------------------------------------

def _callback_component_ids(body: Any) -> set[str]:
    """Every component id a Dash callback request names: outputs, inputs and state, with a
    pattern-matching id's type; from the structured lists and the output string alike."""
    found: set[str] = set()

    def visit(item):
        if isinstance(item, list):
            for part in item:
                visit(part)
        elif isinstance(item, dict):
            component = item.get("id")
            if isinstance(component, str):
                found.add(component)
            elif isinstance(component, dict):
                found.update(str(v) for v in component.values())
    if isinstance(body, dict):
        for key in ("outputs", "inputs", "state"):
            visit(body.get(key))
        output = body.get("output")
        if isinstance(output, str):
            for part in output.replace("..", " ").split():
                found.add(part.rsplit(".", 1)[0])
                found.add(part.split("@", 1)[0].rsplit(".", 1)[0])
        for changed in body.get("changedPropIds") or []:
            if isinstance(changed, str):
                found.add(changed.rsplit(".", 1)[0])
    return found


def touches_data_manager_components(body: Any) -> bool:
    named = _callback_component_ids(body)
    return any(component in named or any(component in n for n in named)
               for component in ids.DATA_MANAGER_ONLY)


def _refuse(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _wants_page() -> bool:
    path = request.path
    return request.method == "GET" and not (path.startswith("/_") or path.startswith("/assets/"))


def guard():
    """before_request: sign-in, the open-mode loopback rule, CSRF, body limits and roles."""
    path = request.path
    changes_state = request.method not in ("GET", "HEAD", "OPTIONS")
    if path in OPEN_PATHS:
        if changes_state:
            csrf.protect()
        return None
    user = identify()
    if user is False:
        from pathway.web.sign_in_page import no_access_page
        name = g.get("pathway_refused_proxy_user")
        if name:
            if _wants_page():  # once per page, not per script the page asks for
                _audit("sign_in", "refused", user=name, details={"how": "proxy", "why": "no account"})
            return Response(no_access_page(name), status=403, mimetype="text/html")
        return _refuse(403, "This dashboard runs without sign-in for its own computer only.")
    if user is None:
        if path == SIGN_OUT:
            return redirect(SIGN_IN, code=303)
        if _wants_page():
            target = request.full_path if request.query_string else request.path
            return redirect(f"{SIGN_IN}?next={quote(target, safe='')}", code=303)
        return _refuse(401, "Sign in first.")
    g.pathway_user = user
    if changes_state and not user.is_data_manager:
        # Read no more than a viewer can need (Flask answers 413 beyond it), before anything reads.
        request.max_content_length = VIEWER_BODY_LIMIT
    if changes_state:
        csrf.protect()
    if path == CALLBACK_PATH and request.method == "POST":
        body = request.get_json(silent=True)
        if not user.is_data_manager and touches_data_manager_components(body):
            _audit("refused", "forbidden", details={"path": path, "components":
                                                    sorted(_callback_component_ids(body))[:20]})
            return _refuse(403, "This needs a data manager's account.")
    return None


def _audit(event: str, outcome: str = "ok", *, user: str | None = None, details: dict | None = None) -> None:
    from pathway import audit

    who = user if user is not None else (current_user().name if current_user() else None)
    audit.record(_warehouse(), event, outcome, user=who, address=client_address(), details=details)


def record_event(event: str, outcome: str = "ok", details: dict | None = None) -> None:
    """Audit what the person making this request did (pages call this; outside a request, no-op)."""
    from flask import has_request_context

    if has_request_context():
        _audit(event, outcome, details=details)


def _download_events(body: Any) -> list[tuple[str, dict]]:
    """The downloads a callback request asks for: a figure's CSV/XLSX or an area report."""
    if not isinstance(body, dict):
        return []
    outputs = body.get("outputs")
    outputs = outputs if isinstance(outputs, list) else [outputs]
    triggered = [str(t) for t in body.get("changedPropIds") or []]
    search = next((i.get("value") for i in body.get("state") or [] if isinstance(i, dict)
                   and i.get("id") == ids.URL and i.get("property") == "search"), None)
    events = []
    for output in outputs:
        component = output.get("id") if isinstance(output, dict) else None
        if component == ids.REPORT_DOWNLOAD:
            fmt = "pdf" if any(ids.REPORT_PDF in t for t in triggered) else "html"
            events.append(("report", {"format": fmt, "filters": search or ""}))
        elif isinstance(component, dict) and component.get("type") == ids.CARD_DOWNLOAD_TYPE:
            kind = "xlsx" if any(ids.CARD_XLSX_TYPE in t for t in triggered) else "csv"
            events.append(("download", {"figure": component.get("card"), "format": kind}))
    return events


def audit_downloads(response: Response) -> Response:
    """after_request: record each figure download and area report a callback answered."""
    if (request.path == CALLBACK_PATH and request.method == "POST" and response.status_code == 200
            and g.get("pathway_user") is not None):
        for event, details in _download_events(request.get_json(silent=True)):
            _audit(event, "requested", details=details)
    return response


# ---- sign-in and sign-out -----------------------------------------------------------------------------

def safe_next(target: str | None) -> str:
    """A same-site path to go to after signing in (never another site: no open redirect)."""
    target = target or "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def sign_in_view():
    from pathway.web.sign_in_page import sign_in_page

    next_path = safe_next(request.values.get("next"))
    if _policy.open_access:
        return redirect(next_path, code=303)
    if request.method == "GET":
        return sign_in_page(generate_csrf(), next_path)
    name = (request.form.get("user_name") or "").strip()[:128]
    password = request.form.get("password") or ""
    address = client_address()
    if limiter.blocked(name, address):
        _audit("sign_in", "rate_limited", user=name or None)
        return sign_in_page(generate_csrf(), next_path, error="Too many failed sign-ins: wait 15 minutes and "
                                                              "try again, or ask a data manager."), 429
    account = accounts.authenticate(_warehouse(), name, password) if name and password else None
    if account is None:
        limiter.failed(name, address)
        _audit("sign_in", "failed", user=name or None, details={"how": "password"})
        return sign_in_page(generate_csrf(), next_path, error="The user name or password is not right."), 401
    limiter.succeeded(name)
    forget_accounts()
    session.clear()  # a new session at sign-in (no fixation)
    session.permanent = True
    session.update(user=account.user_name, role=account.role, issued=time.time(), stamp=account.stamp)
    generate_csrf()
    _audit("sign_in", "ok", user=account.user_name, details={"how": "password", "role": account.role})
    return redirect(next_path, code=303)


def sign_out_view():
    user = identify() if not _policy.open_access else None
    if user:
        _audit("sign_out", "ok", user=user.name)
    session.clear()
    response = redirect(SIGN_IN, code=303)
    response.delete_cookie(CSRF_COOKIE)
    return response


def _csrf_failed(error: CSRFError):
    from pathway.web.sign_in_page import sign_in_page

    if request.path == SIGN_IN:
        return sign_in_page(generate_csrf(), safe_next(request.values.get("next")),
                            error="The sign-in form had expired: please sign in again."), 400
    return _refuse(400, f"Refused: {error.description} Reload the page and try again.")


def set_csrf_cookie(response: Response) -> Response:
    """after_request: a page carries the `_csrf_token` cookie Dash's renderer sends back as a header."""
    if response.mimetype == "text/html" and g.get("pathway_user") is not None:
        response.set_cookie(CSRF_COOKIE, generate_csrf(), httponly=False, samesite="Strict",
                            secure=request.is_secure, path="/")
    return response


def install(server: Flask, settings: Settings) -> None:
    """Hook sign-in, roles and CSRF into the Flask server under Dash (once per process)."""
    server.secret_key = settings.secret_key or secrets.token_hex(32)
    server.config.update(
        SESSION_COOKIE_NAME="pathway_session", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        # Checked by the guard (after sign-in, so a stranger gets 401 rather than a CSRF message).
        WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken"],
    )
    csrf.init_app(server)
    server.before_request(guard)
    server.after_request(set_csrf_cookie)
    server.after_request(audit_downloads)
    server.register_error_handler(CSRFError, _csrf_failed)
    server.add_url_rule(SIGN_IN, "pathway_sign_in", sign_in_view, methods=["GET", "POST"])
    server.add_url_rule(SIGN_OUT, "pathway_sign_out", sign_out_view, methods=["POST"])
