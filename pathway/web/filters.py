"""The one filter parser: the URL query string (area or ICB, period, stage, tier, service) to metric params.

A page's layout receives the query string as keyword arguments; it calls filters_from_query and
hands the common parameters to run_metric. Bad values are dropped and described in words.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Mapping
from urllib.parse import parse_qs, urlencode

FILTER_NAMES = ("area", "from", "to", "stage", "tier", "service", "measure",
                # the economic scenario, so a copied link reproduces it
                "target", "targeted", "effect", "need", "price_year")
COMMON_METRIC_PARAMS = ("area", "from", "to")
ALL_AREAS = "all"

# Codes are bound as parameters, never formatted into SQL; the pattern only keeps the URL tidy.
# dots: measures such as mandated_contacts.new_birth_visit; slashes: price years such as 2023/24
_CODE = re.compile(r"^[A-Za-z0-9_\-./]{1,60}$")
_LABELS = {"area": "area", "from": "period from", "to": "period to", "stage": "stage",
           "tier": "tier", "service": "service", "measure": "measure", "target": "specialist target",
           "targeted": "targeted target", "effect": "effect", "need": "need", "price_year": "price year"}


def parse_query(query: str | Mapping[str, Any] | None) -> dict[str, str]:
    """A query string ('?area=X&from=...') or Dash's layout keyword arguments, as one value per name."""
    if query is None:
        return {}
    if isinstance(query, str):
        raw = {k: v for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
    else:
        raw = dict(query)
    out = {}
    for name, value in raw.items():
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        if value is None:
            continue
        out[str(name)] = str(value).strip()
    return out


def read_filters(query: str | Mapping[str, Any] | None) -> tuple[dict[str, str], list[str]]:
    """(filters, problems): the valid filter values, and one sentence per value that was ignored."""
    values = parse_query(query)
    filters: dict[str, str] = {"area": ALL_AREAS}
    problems: list[str] = []
    for name in FILTER_NAMES:
        value = values.get(name, "")
        if value == "" or (value == ALL_AREAS and name != "area"):
            continue  # 'all' stages, tiers or services is no filter
        if name in ("from", "to"):
            try:
                date.fromisoformat(value)
            except ValueError:
                problems.append(f"The {_LABELS[name]} date {value!r} is not a date (use YYYY-MM-DD); "
                                "it was ignored.")
                continue
        elif not _CODE.match(value):
            problems.append(f"The {_LABELS[name]} code {value!r} is not a valid code; it was ignored.")
            continue
        filters[name] = value
    if "from" in filters and "to" in filters and filters["from"] > filters["to"]:
        problems.append(f"The period starts ({filters['from']}) after it ends ({filters['to']}); "
                        "both dates were ignored.")
        del filters["from"], filters["to"]
    return filters, problems


def filters_from_query(query: str | Mapping[str, Any] | None) -> dict[str, str]:
    """The filter values in the URL, ready to narrow metrics: area (default 'all'), from, to, stage, tier, service."""
    return read_filters(query)[0]


def metric_params(filters: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    """The parameters every metric takes (area, from, to) plus any metric-specific ones."""
    params = {name: filters[name] for name in COMMON_METRIC_PARAMS if filters.get(name)}
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return params


def query_string(filters: Mapping[str, Any]) -> str:
    """The URL query string for these filters ('' when everything is at its default)."""
    pairs = [(name, str(filters[name])) for name in FILTER_NAMES
             if filters.get(name) not in (None, "") and not (name == "area" and filters[name] == ALL_AREAS)]
    return "?" + urlencode(pairs) if pairs else ""


def merge_query(current: str | None, changes: Mapping[str, Any]) -> str:
    """The current query string with some filters changed (None or '' clears one)."""
    values = parse_query(current)
    for name, value in changes.items():
        values[name] = "" if value is None else str(value)
    return query_string(values)


def narrow(frame, filters: Mapping[str, str], columns=("stage", "tier", "service")):
    """Rows of a metric frame matching the stage/tier/service filters (columns it lacks are ignored)."""
    for column in columns:
        wanted = filters.get(column)
        if wanted and column in frame.columns:
            frame = frame[frame[column] == wanted]
    return frame
