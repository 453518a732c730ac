"""Empty states, errors and notices in words: never a blank chart or a traceback."""

from __future__ import annotations

from dash import html

NO_DATA = "No data for this filter."


def empty_state(text: str = NO_DATA, hint: str | None = None) -> html.Div:
    children = [html.P(text, className="pathway-empty__text")]
    if hint:
        children.append(html.P(hint, className="pathway-empty__hint"))
    return html.Div(children, className="pathway-empty", role="status")


def error_state(text: str) -> html.Div:
    """A failure the reader can act on (e.g. the database is not reachable), in words."""
    return html.Div([html.Strong("This could not be shown. "), text],
                    className="alert alert-danger pathway-error", role="alert")


def notices(problems: list[str]) -> html.Div | None:
    """Filter values in the URL that were ignored, one sentence each."""
    if not problems:
        return None
    return html.Div([html.Strong("Some filters were ignored: "), html.Ul([html.Li(p) for p in problems])],
                    className="alert alert-warning pathway-notice", role="status")
