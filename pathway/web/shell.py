"""The page shell every view sits in: skip link, NHS header, navigation, the page and the footer."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html

from pathway.web import ids
from pathway.web.components.figure_card import loading


def _pages() -> list[dict]:
    """The pages this person may open (the Data page is a data manager's), in menu order."""
    from pathway.web.access import may_manage_data

    pages = [page for page in dash.page_registry.values()
             if page["path"] != "/data" or may_manage_data()]
    return sorted(pages, key=lambda page: (page.get("order") or 0, page["name"]))


def signed_in_bar() -> html.Div | None:
    """Who is signed in, their role, and a sign-out button (a form POST with its CSRF token)."""
    from flask import has_request_context
    from flask_wtf.csrf import generate_csrf

    from pathway.accounts import ROLE_WORDS
    from pathway.web.access import SIGN_OUT, current_user

    user = current_user() if has_request_context() else None
    if user is None:
        return None
    if user.how == "open":
        return html.P("Open on this computer only, without sign-in (python app.py).",
                      className="pathway-header__user", id=ids.SIGNED_IN_AS)
    who = html.Span(f"Signed in as {user.name} ({ROLE_WORDS.get(user.role, user.role)})", id=ids.SIGNED_IN_AS)
    if user.how == "proxy":
        return html.P(who, className="pathway-header__user")
    return html.Form([who, dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                      html.Button("Sign out", type="submit", id=ids.SIGN_OUT, className="btn btn-light btn-sm ms-2")],
                     method="POST", action=SIGN_OUT, className="pathway-header__user")


def shell() -> html.Div:
    """The layout around dash.page_container (called per request, so it reads the registry then)."""
    navigation = dbc.Nav(
        [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"],
                                 id={"type": ids.NAV_LINK_TYPE, "page": page["path"]}))
         for page in _pages()],
        className="flex-wrap",
    )
    return html.Div([
        html.A("Skip to main content", href=f"#{ids.MAIN}", className="pathway-skip-link"),
        # The filter bar writes the query string here; Dash pages' own Location follows it.
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        html.Header(dbc.Container([
            html.A("Perinatal Pathway Analytics", href="/", className="pathway-header__title"),
            html.P("Perinatal and infant mental health pathway, from preconception to age one",
                   className="pathway-header__tagline"),
            signed_in_bar(),
        ]), className="pathway-header"),
        html.Nav(dbc.Container(navigation), id=ids.NAV, className="pathway-nav",
                 **{"aria-label": "Dashboard pages"}),
        # New filters re-render the page: the old one is dimmed under a spinner meanwhile.
        html.Main(dbc.Container(loading(dash.page_container)), id=ids.MAIN, tabIndex="-1"),
        html.Footer(dbc.Container([
            html.P("Counts from 1 to 7 are shown as * and other counts are rounded to the nearest 5 "
                   "(NHS England's disclosure rules). Percentages and intervals over fewer than 1,000 use "
                   "the unrounded counts, over 1,000 or more the shown ones, and are shown to one "
                   "decimal place only from 4,000."),
            html.P("Only aggregate figures are shown and downloaded: no person-level record leaves the warehouse."),
            html.P("Map boundaries: Source: Office for National Statistics licensed under the Open Government "
                   "Licence v.3.0. Contains OS data © Crown copyright and database right 2024.",
                   className="pathway-attribution"),
        ]), className="pathway-footer"),
    ])


def navigation_state(pathname: str | None, search: str | None, page_paths: list[str]) -> tuple[list[str], list[bool]]:
    """Each navigation link keeps the current filters; the current page's link is marked active."""
    search = search or ""
    hrefs = [f"{path}{search}" for path in page_paths]
    current = (pathname or "/").rstrip("/") or "/"
    return hrefs, [(path.rstrip("/") or "/") == current for path in page_paths]


@callback(
    Output({"type": ids.NAV_LINK_TYPE, "page": ALL}, "href"),
    Output({"type": ids.NAV_LINK_TYPE, "page": ALL}, "active"),
    Input(ids.URL, "pathname"),
    Input(ids.URL, "search"),
    State({"type": ids.NAV_LINK_TYPE, "page": ALL}, "id"),
)
def keep_filters_in_navigation(pathname, search, link_ids):
    return navigation_state(pathname, search, [link["page"] for link in link_ids])
