"""The page shell every view sits in: skip link, NHS header, navigation, the page and the footer."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html

from pathway.web import ids
from pathway.web.components.figure_card import loading


def _pages() -> list[dict]:
    return sorted(dash.page_registry.values(), key=lambda page: (page.get("order") or 0, page["name"]))


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
        ]), className="pathway-header"),
        html.Nav(dbc.Container(navigation), id=ids.NAV, className="pathway-nav",
                 **{"aria-label": "Dashboard pages"}),
        # New filters re-render the page: the old one is dimmed under a spinner meanwhile.
        html.Main(dbc.Container(loading(dash.page_container)), id=ids.MAIN, tabIndex="-1"),
        html.Footer(dbc.Container([
            html.P("Counts from 1 to 7 are shown as * and other counts are rounded to the nearest 5 "
                   "(NHS England's disclosure rules); percentages and intervals use the unrounded counts."),
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
