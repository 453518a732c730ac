"""HTTP hardening around the Dash server: a Content Security Policy Dash runs under, framing,
sniffing and referrer rules, Secure cookies over HTTPS, and X-Forwarded-* honoured only from a
trusted proxy."""

from __future__ import annotations

from dash import Dash
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from pathway.web import access


class TrustedProxyFix:
    """ProxyFix (client address, scheme and host from X-Forwarded-*) for requests whose peer is a
    trusted proxy, and nothing for anyone else, whose X-Forwarded-* headers are then ignored."""

    def __init__(self, app):
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def __call__(self, environ, start_response):
        if access.is_trusted_proxy(environ.get("REMOTE_ADDR")):
            environ["pathway.trusted_proxy"] = True
            return self.fixed(environ, start_response)
        environ.pop("pathway.trusted_proxy", None)
        return self.app(environ, start_response)


class SessionOverHttps(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly or through the
    trusted proxy), so the same server works on plain loopback and behind TLS."""

    def get_cookie_secure(self, app):
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def content_security_policy(app: Dash) -> str:
    """Scripts only from this server, plus Dash's one inline renderer script by its hash; styles
    may be inline (Plotly and React set them); no framing, plugins or foreign form targets."""
    script_hashes = " ".join(app.csp_hashes())
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {script_hashes}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def install(app: Dash) -> None:
    server: Flask = app.server
    server.session_interface = SessionOverHttps()
    server.wsgi_app = TrustedProxyFix(server.wsgi_app)
    policy: dict[str, str] = {}

    @server.after_request
    def security_headers(response):
        if "csp" not in policy:  # after every page and callback is registered
            policy["csp"] = content_security_policy(app)
        response.headers["Content-Security-Policy"] = policy["csp"]
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # same-origin keeps the Referer Flask-WTF checks over HTTPS, and sends none elsewhere.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not request.path.startswith(("/_dash-component-suites/", "/assets/")):
            # Figures and pages are for the signed-in person only: no shared or disk caches.
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
