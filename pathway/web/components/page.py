"""The frame of every page (heading, introduction, ignored-filter notices, filter bar) and the
labels pages show for codes (stages, tiers, services), read from the sourced reference tables."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from dash import html

from pathway.reference import short_label
from pathway.web.components.filter_bar import ALL_FILTERS, filter_bar
from pathway.web.components.messages import notices
from pathway.web.components.report_download import report_buttons
from pathway.web.warehouse import kept, reference_table, resolved_period

TITLE_SUFFIX = " - Perinatal Pathway Analytics"


def page(title: str, introduction: str, filters: Mapping[str, str], problems: list[str], body: Any, *,
         path: str, show: Iterable[str] = ALL_FILTERS) -> html.Div:
    return html.Div([
        html.H1(title),
        period_heading(filters, names=area_names()),
        html.P(introduction, className="pathway-lede"),
        notices(problems),
        filter_bar(filters, show=show, page_path=path) if show else None,
        report_buttons(),
        html.Div(body, className="pathway-page-body"),
    ])


def _labels(table: str, column: str, label_column: str = "label") -> dict[str, str]:
    return dict(kept(("labels", table, column, label_column), lambda: _read_labels(table, column, label_column)))


def _read_labels(table: str, column: str, label_column: str) -> dict[str, str]:
    frame = reference_table(table)
    if frame.empty or column not in frame.columns:
        return {}
    return {code: short_label(label or code) for code, label in zip(frame[column], frame[label_column])}


def stage_labels() -> dict[str, str]:
    """Each stage in words, as ref_stages names it before any bracket ("Pregnancy" for
    antenatal), the report's words too; a stage without a label keeps its code, capitalised."""
    named = _labels("stages", "stage")
    return {stage: named.get(stage) or stage.capitalize() for stage in _stage_order()}


def stage_words(stage) -> str:
    """One stage in words (stage_labels), or the value itself when it is no stage."""
    return stage_labels().get(stage, str(stage))


def _stage_order() -> list[str]:
    return list(kept(("order", "stages"), _read_stage_order))


def _read_stage_order() -> list[str]:
    frame = reference_table("stages")
    if frame.empty:
        return []
    return list(frame.sort_values("sort_order")["stage"])


def stage_order() -> list[str]:
    """Stages in pathway order (preconception to infant), from ref_stages."""
    return _stage_order()


def service_labels() -> dict[str, str]:
    return _labels("services", "service")


def tier_order() -> list[str]:
    return list(kept(("order", "tiers"), _read_tier_order))


def _read_tier_order() -> list[str]:
    frame = reference_table("codes")
    if frame.empty:
        return []
    tiers = frame[(frame["code_list"] == "tier") & (frame["code"] == frame["canonical"])]
    return list(tiers["code"])


def area_label(filters: Mapping[str, str], names: Mapping[str, str]) -> str:
    area = filters.get("area", "all")
    return "all areas" if area == "all" else names.get(area, area)


def long_date(day) -> str:
    """A date as people write it: 1 July 2024."""
    return f"{day.day} {day:%B %Y}"


def period_heading(filters: Mapping[str, str], names: Mapping[str, str] | None = None) -> html.P:
    """The line under every view's heading: the area, the births period and the data cut-off, as dates."""
    where = area_label(filters, names or {})
    resolved = resolved_period(filters)
    if resolved is None:
        text = f"{where[:1].upper()}{where[1:]}: {period_words(filters)}."
    else:
        text = (f"{where[:1].upper()}{where[1:]}: births from {long_date(resolved['from'])} to "
                f"{long_date(resolved['to'])}; data up to {long_date(resolved['as_at'])} (the cut-off).")
    return html.P(text, className="pathway-period", id="page-period")


def period_words(filters: Mapping[str, str]) -> str:
    """The births period in words, with its dates (the defaults worked out when no dates are chosen)."""
    resolved = resolved_period(filters)
    if resolved is not None:
        return f"births from {long_date(resolved['from'])} to {long_date(resolved['to'])}"
    if filters.get("from") and filters.get("to"):
        return f"births from {filters['from']} to {filters['to']}"
    if filters.get("from"):
        return f"births from {filters['from']}"
    if filters.get("to"):
        return f"births up to {filters['to']}"
    return "births in the last 12 months with complete follow-up"


def area_names() -> dict[str, str]:
    """Area and ICB codes to names, for headings and hover text."""
    return dict(kept(("names", "areas"), _read_area_names))


def _read_area_names() -> dict[str, str]:
    from pathway.web.warehouse import areas

    frame = areas()
    names = dict(zip(frame["area_code"], frame["area_name"]))
    with_icb = frame.dropna(subset=["icb_code"])
    names.update({code: name or code for code, name in zip(with_icb["icb_code"], with_icb["icb_name"])})
    return names
