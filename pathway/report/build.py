"""Building one area's report: run the catalogue metrics (suppressed, as people may see them),
set them beside published benchmarks and the median of the loaded areas, and write the HTML.

Every figure comes from pathway.metrics.run_metric with suppress=True; counts are printed as
pathway.disclosure.format_for_people prints them ('*' for hidden). Metrics not yet in the
catalogue (equity, service_gaps, economic_case) give a 'not available' section, not an error.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from html import escape
from typing import Any, Mapping

import numpy as np
import pandas as pd

from pathway import catalogue
from pathway.db import Warehouse
from pathway.disclosure import SUPPRESSED_MARK, at_most_one_place, format_for_people
from pathway.metrics import MetricError, economic_assumptions, resolve_parameters, run_metric
from pathway.report import economic, template
from pathway.published import MISSING_TREATMENT, latest_published
from pathway.reference import short_label
from pathway.report.charts import Bar, bar_chart
from pathway.statistics import compare_to_benchmark

GAPS_IN_SUMMARY = 3


class ReportError(RuntimeError):
    """A report cannot be made (unknown area, no data); the message names the area."""


# ---- the data behind one report ---------------------------------------------------------------

@dataclass
class ReportContext:
    """What every area's report shares: the warehouse, the period and all-areas results.

    One context serves a whole monthly pack, so all-areas figures (the medians) run once.
    """

    warehouse: Warehouse
    params: dict[str, Any]
    binds: dict[str, Any] = field(default_factory=dict)
    _results: dict[tuple, pd.DataFrame] = field(default_factory=dict)
    _published: dict[str, pd.DataFrame] = field(default_factory=dict)
    _reference: dict[str, pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def open(cls, warehouse: Warehouse, params: Mapping[str, Any] | None = None) -> "ReportContext":
        given = {k: v for k, v in dict(params or {}).items() if v not in (None, "") and k != "area"}
        context = cls(warehouse=warehouse, params=given)
        try:
            binds = resolve_parameters(warehouse, catalogue.METRICS["stage_reach"], given)
        except MetricError as error:
            raise ReportError(str(error)) from None
        context.binds = binds
        # Every metric describes the same births: the period is fixed once for the report.
        context.params = {"from": binds["date_from"].isoformat(), "to": binds["date_to"].isoformat(),
                          "as_at": binds["as_at"].isoformat()}
        return context

    def metric(self, name: str, area: str, **extra) -> pd.DataFrame:
        """One metric, suppressed, for this report's period (each run once per context)."""
        key = (name, area, tuple(sorted(extra.items())))
        if key not in self._results:
            params = {**self.params, "area": area, **extra}
            metric = catalogue.METRICS[name]
            params = {k: v for k, v in params.items() if metric.parameter(k) is not None}
            self._results[key] = run_metric(self.warehouse, name, params, suppress=True)
        return self._results[key]

    def all_areas(self, name: str, **extra) -> pd.DataFrame:
        return self.metric(name, "all", **extra)

    def published(self, metric: str) -> pd.DataFrame:
        """Imported benchmark rows for one catalogue figure (empty when none were loaded)."""
        if metric not in self._published:
            self._published[metric] = run_metric(self.warehouse, "benchmarks", {"metric": metric})
        return self._published[metric]

    def reference(self, name: str) -> pd.DataFrame:
        if name not in self._reference:
            self._reference[name] = self.warehouse.query(f"select * from ref_{_allowed_reference(name)}")
        return self._reference[name]

    def label(self, table: str, key: str, code: str) -> str:
        frame = self.reference(table)
        found = frame.loc[frame[key] == code, "label"]
        return str(found.iloc[0]) if len(found) and found.iloc[0] else str(code).replace("_", " ")


# Code columns of the answers and the reference table naming each code in words (the label
# before any bracket: "Pregnancy", not "Pregnancy (conception to the day before birth ...)").
_CODES_IN_WORDS = {"service": ("services", "service"), "stage": ("stages", "stage"),
                   "contact_code": ("contact_windows", "contact_code"),
                   "condition": ("economic_conditions", "condition"),
                   "instrument": ("instruments", "instrument")}
# service_gaps' flag (contract section 5)
_FLAG_WORDS = {"below_benchmark": "Below benchmark", "no_service": "No service", "ok": "OK",
               "no_cohort": "No births to judge"}


def _allowed_reference(name: str) -> str:
    from pathway.schema import REFERENCE_TABLES

    if name not in REFERENCE_TABLES:
        raise ValueError(f"unknown reference table {name!r}")
    return name


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    region_code: str | None
    region_name: str | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


def find_area(warehouse: Warehouse, code: str) -> Area:
    """The area (or ICB) a report is for; ReportError naming the code if it is not loaded."""
    code = str(code).strip()
    rows = warehouse.query(
        "select area_code, area_name, icb_code, icb_name, region_code, region_name from areas "
        "where area_code = :code or icb_code = :code order by area_code", {"code": code})
    if rows.empty:
        raise ReportError(f"area {code}: not an area or ICB code in the loaded areas table; "
                          "load the areas extract or check the code")
    first = rows.iloc[0]
    if first.area_code == code:
        return Area(code, str(first.area_name), first.region_code, first.region_name)
    return Area(code, str(first.icb_name or code), first.region_code, first.region_name)


# ---- public entry point ------------------------------------------------------------------------

def build_report(warehouse: Warehouse, area: str, params: Mapping[str, Any] | None = None,
                 fmt: str = "html", *, context: ReportContext | None = None) -> bytes:
    """One area's report as bytes: a self-contained HTML file, or (fmt='pdf') an A4 PDF of it.

    params: from, to, as_at (the metrics' common parameters); other keys are ignored.
    Raises ReportError, naming the area, when the area is unknown or has no births in the period.
    """
    if fmt not in ("html", "pdf"):
        raise ValueError(f"report format {fmt!r}: choose html or pdf")
    warehouse.ensure_schema()
    context = context or ReportContext.open(warehouse, params)
    html_text = render_html(context, find_area(warehouse, area))
    if fmt == "html":
        return html_text.encode("utf-8")
    from pathway.report.pdf import print_pdf

    return print_pdf(html_text)


def render_html(context: ReportContext, area: Area) -> str:
    report = _AreaReport(context, area)
    return report.html()


# ---- the report's sections -------------------------------------------------------------------

class _AreaReport:
    def __init__(self, context: ReportContext, area: Area):
        self.context, self.area = context, area
        self.births = context.metric("births", area.code)
        live = pd.to_numeric(self.births.get("live_births"), errors="coerce")
        # 0 live births (not hidden: hidden means 1 to 7) is an area with no data for the period.
        if self.births.empty or (live.fillna(-1) == 0).all():
            raise ReportError(
                f"area {area.label}: no live births with complete follow-up between "
                f"{context.params['from']} and {context.params['to']} (data cut-off "
                f"{context.params['as_at']}); load its cohort and activity extracts or choose "
                "another period")
        self.sources: list[str] = []

    # -- helpers
    def has(self, name: str) -> bool:
        return name in catalogue.METRICS

    def people(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """The answer as printed: disclosure's formatting, and codes in words."""
        shown = format_for_people(frame, frame.attrs.get("disclosure") or catalogue.METRICS[name].disclosure)
        for column, (table, key) in _CODES_IN_WORDS.items():
            if column in shown.columns:
                shown[column] = [short_label(self.context.label(table, key, code))
                                 if isinstance(code, str) and code != "all" else code for code in shown[column]]
        if "flag" in shown.columns:
            shown["flag"] = shown["flag"].map(lambda flag: _FLAG_WORDS.get(flag, flag))
        return shown

    def benchmark_marks(self, metric: str, category: str = "") -> tuple[dict[str, float], list[dict]]:
        """England, region and the area's own published values for one figure (latest period)."""
        picks = latest_published(self.context.published(metric), region_code=self.area.region_code,
                                 region_name=self.area.region_name, area_code=self.area.code,
                                 category=category)
        marks = {}
        for pick in picks:
            name = {"national": "England", "region": str(pick["org_name"]).title(),
                    "area": "This area, published"}[pick["level"]]
            marks[f"{name} {pick['period']} ({pick['source_file']})"] = float(pick["pct"])
        return marks, picks

    def median_of_areas(self, frame: pd.DataFrame, keys: list[str], pct: str) -> pd.DataFrame:
        shown = frame[~frame["area_code"].isin(["all"])].copy()
        shown[pct] = pd.to_numeric(shown[pct], errors="coerce")
        return shown.groupby(keys, dropna=False)[pct].median().rename("median_pct").reset_index()

    # -- the document
    def html(self) -> str:
        area = self.area
        sections = [self.cover(), self.summary(), self.coverage(), self.flow(), self.outcomes(),
                    self.risk_pathway(), self.equity(), self.service_gaps(), self.economic_case(), self.assumptions(),
                    self.methods()]
        title = f"Perinatal and infant mental health pathway: {area.label}"
        return template.page(escape(title), area.label, "\n".join(sections))

    def cover(self) -> str:
        context, area = self.context, self.area
        loads = context.warehouse.query(
            "select file_name, table_name, ended_at from load_log where outcome = 'loaded' "
            "order by load_id")
        extracts = loads[loads["table_name"] != "benchmarks"]
        published = loads[loads["table_name"] == "benchmarks"]
        rows = [("Area", area.label), ("Region", area.region_name or "not recorded"),
                ("Births", f"live births from {context.params['from']} to {context.params['to']}"),
                ("Data cut-off", f"{context.params['as_at']} (events after it are not counted)"),
                ("Produced", dt.date.today().isoformat()),
                ("Local data", _file_list(extracts) or "none recorded in the load log"),
                ("Benchmarks", _file_list(published) or
                 "none loaded (pathway load --table benchmarks FILE)")]
        meta = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
        return (f"<header><h1>Perinatal and infant mental health pathway</h1>"
                f"<p><strong>{escape(area.label)}</strong>: report for public health and "
                f"commissioning teams</p><dl class='meta'>{meta}</dl></header>")

    # -- summary
    def summary(self) -> str:
        births = self.people(self.births, "births").iloc[0]
        key = [("Live births in the period", births["live_births"]),
               ("Booked by 12 weeks 6 days", _pct_text(births["booked_by_13_weeks_pct"],
                                                        self.births.iloc[0]))]
        access = self.context.metric("specialist_access", self.area.code)
        if len(access):
            shown = self.people(access, "specialist_access").iloc[0]
            key.append(("Specialist perinatal mental health access",
                        _pct_text(shown["access_pct"], access.iloc[0], pct="access_pct")))
        mood = self.context.metric("mood_screening", self.area.code)
        for shown, raw in zip(self.people(mood, "mood_screening").itertuples(), mood.itertuples()):
            key.append((f"Mood screening, {shown.stage} stage", _pct_text(shown.pct, raw._asdict())))
        key += self._v11_key_figures()
        table = "".join(f"<tr><td>{escape(k)}</td><td class='num'>{escape(str(v))}</td></tr>"
                        for k, v in key)
        gaps = self.largest_gaps()
        if gaps:
            gap_list = "<ol class='gaps'>" + "".join(f"<li>{escape(g['text'])}</li>" for g in gaps) + "</ol>"
        else:
            gap_list = "<p>No stage, tier, service or mandated contact is clearly below the loaded areas.</p>"
        return (f"<section class='summary' id='summary'><h2>Summary</h2>"
                f"<p>The pathway runs from preconception through pregnancy and the first eight "
                f"weeks after birth to the baby's first birthday. These are the live births of "
                f"{escape(self.area.name)} from {self.context.params['from']} to "
                f"{self.context.params['to']}, followed to {self.context.params['as_at']}.</p>"
                f"<table class='keyfigures'><tr><th>Figure</th><th>This area</th></tr>{table}</table>"
                f"<h3>The three largest gaps</h3>{gap_list}"
                f"<p class='source'>Gaps: {escape(self.gap_source)}. Counts of 1 to "
                f"{self.context.warehouse.settings.disclosure.suppress_below - 1} are shown as "
                f"{SUPPRESSED_MARK}; other counts are rounded to the nearest "
                f"{self.context.warehouse.settings.disclosure.round_to}.</p></section>")

    def largest_gaps(self) -> list[dict]:
        """The biggest gaps in plain words: service_gaps when the catalogue has it, else
        stage_reach against the median of all areas; plus mandated contacts and services
        with no activity at all, against the loaded areas."""
        candidates: list[dict] = []
        if self.has("service_gaps"):
            self.gap_source = ("service_gaps (stage reach per service and tier against a standard "
                               "or the median of all areas), mandated contacts against the median "
                               "of the loaded areas")
            for by in ("service", "tier"):
                try:
                    frame = self.context.metric("service_gaps", self.area.code, by=by)
                except (MetricError, FileNotFoundError):
                    continue
                candidates += self._service_gap_rows(frame)
        else:
            self.gap_source = ("stage reach against the median of all loaded areas (service_gaps is "
                               "not available), mandated contacts against the same median")
            candidates += self._reach_gaps()
        candidates += self._contact_gaps()
        candidates += self._absent_services()
        best: dict[str, dict] = {}
        for gap in sorted(candidates, key=lambda g: -g["score"]):
            best.setdefault(gap["key"], gap)
        return sorted(best.values(), key=lambda g: -g["score"])[:GAPS_IN_SUMMARY]

    def _service_gap_rows(self, frame: pd.DataFrame) -> list[dict]:
        out = []
        for row in frame.itertuples():
            if row.flag not in ("no_service", "below_benchmark"):
                continue
            stage = short_label(self.context.label("stages", "stage", row.stage))
            service = getattr(row, "service", "all")
            who = (self.context.label("services", "service", service) if service not in (None, "all")
                   else f"{row.tier} services")
            benchmark = _float(row.benchmark_pct)
            if row.flag == "no_service":
                text = (f"{who[0].upper() + who[1:]}, {stage.lower()} stage: no service. None "
                        f"of the {_count(row.cohort)} live births was reached, where the "
                        f"benchmark is {_fmt_pct(benchmark)}.")
                # ranked by the people the gap leaves out, as the benchmark would reach them
                score = (benchmark or 0) / 100 * (_float(row.cohort) or 0)
            else:
                gap = _float(row.gap_pp)
                text = (f"{who[0].upper() + who[1:]} in the {stage.lower()} stage reach "
                        f"{_fmt_pct(_float(row.pct))} of live births against a benchmark of "
                        f"{_fmt_pct(benchmark)}" + (f" ({at_most_one_place(gap)} points below" if gap else " (below")
                        + (f"; about {_count(row.unmet)} families unmet)." if not _is_hidden(row.unmet)
                           else ")."))
                score = _float(row.unmet) or (gap or 0) / 100 * (_float(row.cohort) or 0)
            out.append({"key": f"service:{service}" if service not in (None, "all") else
                        f"tier:{row.stage}:{row.tier}", "text": text, "score": score})
        return out

    def _reach_gaps(self) -> list[dict]:
        local = self.context.metric("stage_reach", self.area.code)
        medians = self.median_of_areas(self.context.all_areas("stage_reach"), ["stage", "tier"], "pct")
        merged = local.merge(medians, on=["stage", "tier"], how="left")
        out = []
        for row in merged.itertuples():
            median, pct = _float(row.median_pct), _float(row.pct)
            stage = short_label(self.context.label("stages", "stage", row.stage)).lower()
            if median is None or median <= 0:
                continue
            people = (_float(row.cohort) or 0) / 100
            if pct == 0:
                out.append({"key": f"tier:{row.stage}:{row.tier}", "score": median * people,
                            "text": f"No {row.tier} service reached any live birth in the {stage} "
                                    f"stage, where the median area reaches {_fmt_pct(median)}."})
            elif pct is not None and _float(row.ci_high) is not None and row.ci_high < median:
                out.append({"key": f"tier:{row.stage}:{row.tier}", "score": (median - pct) * people,
                            "text": f"{row.tier.capitalize()} services in the {stage} stage reach "
                                    f"{_fmt_pct(pct)} of live births against a median of "
                                    f"{_fmt_pct(median)} across the loaded areas "
                                    f"({at_most_one_place(median - pct)} points below)."})
        return out

    def _contact_gaps(self) -> list[dict]:
        local = self.context.metric("mandated_contacts", self.area.code)
        medians = self.median_of_areas(self.context.all_areas("mandated_contacts"), ["contact_code"], "pct")
        out = []
        for row in local.merge(medians, on="contact_code", how="left").itertuples():
            median, pct, high = _float(row.median_pct), _float(row.pct), _float(row.ci_high)
            if None in (median, pct, high) or high >= median:
                continue
            label = self.context.label("contact_windows", "contact_code", row.contact_code)
            people = (_float(row.denominator) or 0) / 100
            out.append({"key": f"contact:{row.contact_code}", "score": (median - pct) * people,
                        "text": f"{label}: {_fmt_pct(pct)} of live births (95% CI "
                                f"{_fmt_pct(row.ci_low)} to {_fmt_pct(high)}) against a median of "
                                f"{_fmt_pct(median)} across the loaded areas ({at_most_one_place(median - pct)} "
                                f"points below)."})
        return out

    def _absent_services(self) -> list[dict]:
        """Targeted and specialist services with no referral, assessment or treatment here while
        other areas have some: a service the area does not have."""
        steps = ["referred", "assessed", "treated"]
        local = self.context.metric("referral_funnel", self.area.code)
        others = self.context.all_areas("referral_funnel")
        others = others[others["area_code"] != self.area.code]
        services = self.context.reference("services")
        out = []
        for row in local.itertuples():
            tier = services.loc[services["service"] == row.service, "default_tier"]
            if tier.empty or tier.iloc[0] == "universal":
                continue
            if any(_is_hidden(getattr(row, s)) or getattr(row, s) != 0 for s in steps):
                continue
            theirs = others[others["service"] == row.service][steps]
            active = int((theirs.isna() | (theirs.fillna(0) > 0)).any(axis=1).sum())
            if not active:
                continue
            label = self.context.label("services", "service", row.service)
            # A whole missing team outranks any shortfall in a service that exists.
            out.append({"key": f"service:{row.service}", "score": 1e9 + active,
                        "text": f"{label}: no activity at all. No family was referred, assessed "
                                f"or treated by this service in the period, while {active} of "
                                f"the other loaded areas have one."})
        return out

    # -- coverage
    def coverage(self) -> str:
        parts = ["<section id='coverage'><h2>Coverage of universal contacts and screening</h2>"]
        # booking by 12 weeks 6 days, against NHS Maternity Statistics
        births = self.births.iloc[0]
        marks, picks = self.benchmark_marks("births.booked_by_13_weeks")
        all_births = self.context.all_areas("births")
        median = pd.to_numeric(all_births["booked_by_13_weeks_pct"], errors="coerce").median()
        marks = {**marks, "Median of the loaded areas": median}
        shown = self.people(self.births, "births").iloc[0]
        bars = [Bar("Booked by 12 weeks 6 days", _float(births["booked_by_13_weeks_pct"]),
                    _float(births["ci_low"]), _float(births["ci_high"]),
                    _shown_pct(shown["booked_by_13_weeks_pct"]), marks)]
        parts.append("<h3>Antenatal booking by 12 weeks 6 days</h3>")
        parts.append(_figure(bar_chart(bars, title="Booked by 12 weeks 6 days (% of pregnancies)"),
                             "Pregnancies of the period's live births booked at or before 90 days' "
                             "gestation (edd − 280 days); benchmark: NHS Maternity Statistics "
                             "deliveries by gestation at booking."))
        parts.append(self._comparison_table(
            [("Booked by 12 weeks 6 days", shown["booked_by_13_weeks"], shown["booking_known"],
              shown["booked_by_13_weeks_pct"], births, "booked_by_13_weeks_pct", picks, median)]))
        # mandated contacts, against Fingertips / OHID
        contacts = self.context.metric("mandated_contacts", self.area.code)
        medians = self.median_of_areas(self.context.all_areas("mandated_contacts"),
                                       ["contact_code"], "pct").set_index("contact_code")["median_pct"]
        bars, rows = [], []
        for raw, shown in zip(contacts.to_dict("records"), self.people(contacts, "mandated_contacts").to_dict("records")):
            label = self.context.label("contact_windows", "contact_code", raw["contact_code"])
            marks, picks = self.benchmark_marks(f"mandated_contacts.{raw['contact_code']}")
            median = medians.get(raw["contact_code"], np.nan)
            bars.append(Bar(label, _float(raw["pct"]), _float(raw["ci_low"]), _float(raw["ci_high"]),
                            _shown_pct(shown["pct"]), {**marks, "Median of the loaded areas": median}))
            rows.append((label, shown["numerator"], shown["denominator"], shown["pct"], raw, "pct",
                         picks, median))
        parts.append("<h3>Mandated health visitor contacts</h3>")
        parts.append(_figure(bar_chart(bars, title="Mandated contacts on time (% of babies)"),
                             "Windows from ref_contact_windows; counted per baby as OHID counts "
                             "children (twins twice; the antenatal contact once per pregnancy); "
                             "benchmarks: OHID health visitor service delivery metrics (Fingertips) "
                             "where loaded."))
        parts.append(self._comparison_table(rows))
        # mood screening and specialist access
        mood = self.context.metric("mood_screening", self.area.code)
        mood_medians = self.median_of_areas(self.context.all_areas("mood_screening"), ["stage"],
                                            "pct").set_index("stage")["median_pct"]
        bars = [Bar(f"Mood screening, {shown['stage'].lower()}", _float(raw["pct"]), _float(raw["ci_low"]),
                    _float(raw["ci_high"]), _shown_pct(shown["pct"]),
                    {"Median of the loaded areas": mood_medians.get(raw["stage"], np.nan)})
                for raw, shown in zip(mood.to_dict("records"),
                                      self.people(mood, "mood_screening").to_dict("records"))]
        access = self.context.metric("specialist_access", self.area.code)
        ambition = self.context.reference("parameters")
        ambition = ambition.loc[ambition["name"] == "national_ambition_pct", "value"]
        reference = (("National ambition (NHS Long Term Plan), % of births", float(ambition.iloc[0]))
                     if len(ambition) else None)
        if len(access):
            raw, shown = access.iloc[0], self.people(access, "specialist_access").iloc[0]
            access_median = pd.to_numeric(self.context.all_areas("specialist_access")["access_pct"],
                                          errors="coerce").median()
            bars.append(Bar("Specialist perinatal MH access", _float(raw["access_pct"]),
                            _float(raw["ci_low"]), _float(raw["ci_high"]),
                            _shown_pct(shown["access_pct"]),
                            {"Median of the loaded areas": access_median}))
        parts.append("<h3>Mood screening and specialist access</h3>")
        parts.append(_figure(bar_chart(bars, title="Screening and specialist access (% of live births)",
                                       reference=reference),
                             "Mood screening: a Whooley, GAD-2, EPDS or PHQ-9 score in the stage. "
                             "Specialist access: assessed or treated by a specialist perinatal "
                             "service from conception to the first birthday."))
        if len(access):
            parts.append(_table(self.people(access, "specialist_access"),
                                {"live_births": "Live births", "accessed": "Accessed",
                                 "access_pct": "Access %", "ci_low": "95% CI low",
                                 "ci_high": "95% CI high", "expected_need": "Expected specialist need",
                                 "need_met_pct": "Need met %"}))
        # published prevalence of all perinatal mental health conditions (Fingertips 94103)
        marks, picks = self.benchmark_marks("prevalence.perinatal_mental_health")
        if picks:
            parts.append("<h3>Expected need: perinatal mental health prevalence (published)</h3>")
            parts.append(_published_table(picks))
        parts.append("</section>")
        return "".join(parts)

    def _comparison_table(self, rows: list[tuple]) -> str:
        header = ("<tr><th>Figure</th><th>Numerator</th><th>Denominator</th><th>This area %</th>"
                  "<th>95% CI</th><th>England (published)</th><th>Region (published)</th>"
                  "<th>Median of loaded areas</th><th>Compared with England</th></tr>")
        body = []
        for label, numerator, denominator, pct_shown, raw, pct_column, picks, median in rows:
            by_level = {p["level"]: p for p in picks}
            england = by_level.get("national")
            comparison = ""
            if england is not None:
                comparison = str(compare_to_benchmark(_float(raw[pct_column]), _float(raw["ci_low"]),
                                                      _float(raw["ci_high"]), float(england["pct"])))
                comparison = {"higher": "higher than England", "lower": "lower than England",
                              "similar": "similar to England"}.get(comparison, comparison)
            interval = ("" if _is_hidden_text(pct_shown) or _float(raw["ci_low"]) is None
                        else f"{at_most_one_place(raw['ci_low'])} to {at_most_one_place(raw['ci_high'])}")
            body.append(
                "<tr>" + "".join(f"<td>{escape(str(v))}</td>" if i == 0 else f"<td class='num'>{escape(str(v))}</td>"
                                 for i, v in enumerate([
                                     label, numerator, denominator, pct_shown, interval,
                                     _published_cell(england), _published_cell(by_level.get("region")),
                                     _fmt_pct(median), comparison or "no England figure loaded"]))
                + "</tr>")
        return f"<table>{header}{''.join(body)}</table>"

    # -- pathway flow and waiting times
    def flow(self) -> str:
        reach = self.context.metric("stage_reach", self.area.code)
        medians = self.median_of_areas(self.context.all_areas("stage_reach"), ["stage", "tier"], "pct")
        merged = reach.merge(medians, on=["stage", "tier"], how="left")
        shown = self.people(reach, "stage_reach")
        bars = [Bar(f"{people['stage']} · {raw['tier']}", _float(raw["pct"]), _float(raw["ci_low"]),
                    _float(raw["ci_high"]), _shown_pct(people["pct"]),
                    {"Median of the loaded areas": raw["median_pct"]})
                for raw, people in zip(merged.to_dict("records"), shown.to_dict("records"))]
        parts = ["<section id='flow'><h2>Pathway flow and waiting times</h2>",
                 "<h3>Reach by stage and tier</h3>",
                 _figure(bar_chart(bars, title="Live births reached, by stage and tier (%)"),
                         "Reach: at least one attended screening, assessment, contact or "
                         "intervention of the tier in the stage (ref_stages windows)."),
                 _table(shown, {"stage": "Stage", "tier": "Tier", "reached": "Reached",
                                "cohort": "Live births", "pct": "%", "ci_low": "95% CI low",
                                "ci_high": "95% CI high"})]
        funnel = self.context.metric("referral_funnel", self.area.code)
        parts += ["<h3>Referral funnel by service</h3>",
                  _table(self.people(funnel, "referral_funnel"),
                         {"service": "Service", "screened": "Screened",
                          "screen_positive": "Screen positive", "referred": "Referred",
                          "assessed": "Assessed", "treated": "Treated", "completed": "Completed"})]
        waits = self.context.metric("waiting_times", self.area.code)
        waits_people = self.people(waits, "waiting_times")
        with_referrals = [i for i, v in enumerate(waits["referrals"]) if _is_hidden(v) or v > 0]
        bars = [Bar(self.context.label("services", "service", waits.iloc[i]["service"]),
                    _float(waits.iloc[i]["seen_within_28_days_pct"]), _float(waits.iloc[i]["ci_low"]),
                    _float(waits.iloc[i]["ci_high"]),
                    _shown_pct(waits_people.iloc[i]["seen_within_28_days_pct"]))
                for i in with_referrals]
        parts += ["<h3>Waiting times from referral</h3>",
                  _figure(bar_chart(bars, title="Referrals seen within 28 days (%)"),
                          "Days from referral to the first attended assessment, contact or "
                          "intervention with the same service."),
                  _table(waits_people.iloc[with_referrals] if with_referrals else waits_people.iloc[0:0],
                         {"service": "Service", "referrals": "Referrals", "seen": "Seen",
                          "median_days": "Median days", "p90_days": "90th percentile days",
                          "seen_within_28_days_pct": "Seen within 28 days %",
                          "ci_low": "95% CI low", "ci_high": "95% CI high"}),
                  "</section>"]
        return "".join(parts)

    def outcomes(self) -> str:
        frame = self.context.metric("outcomes", self.area.code)
        return ("<section id='outcomes'><h2>Outcomes</h2>"
                "<p>First baseline and last end score of the same pregnancy, service and "
                "instrument; reliable change and caseness from ref_instruments.</p>"
                + _table(self.people(frame, "outcomes"),
                         {"service": "Service", "instrument": "Instrument", "paired": "Paired",
                          "mean_baseline": "Mean baseline", "mean_end": "Mean end",
                          "reliable_improvement_pct": "Reliable improvement %",
                          "reliable_deterioration_pct": "Reliable deterioration %",
                          "cases_at_baseline": "Cases at baseline", "recovered_pct": "Recovered %",
                          "mean_change": "Mean change"})
                + "</section>")

    # -- contract v1.1: NHS England's access count, the risk pathway, partners
    def _v11_key_figures(self) -> list[tuple[str, str]]:
        rows = []
        access = self.context.metric("perinatal_access", self.area.code, months="1")
        if len(access):
            latest = access.iloc[-1]
            rows.append((f"Perinatal access as NHS England counts it (MHS91 shape), 12 months to "
                         f"{latest['month']}, per 100 live births",
                         _number_text(latest["access_rate_per_100_births"])))
            rows.append(("Women seen only by telephone or text (not counted by NHS England)",
                         _count(latest["telephone_or_text_only"])))
        risk = self.context.metric("risk_pathway", self.area.code)
        any_row = risk[risk["risk_factor"] == "any"]
        if len(any_row):
            shown = self.people(any_row, "risk_pathway").iloc[0]
            rows.append(("Families with a risk recorded referred before birth",
                         _pct_text(shown["referred_antenatal_pct"], any_row.iloc[0],
                                   pct="referred_antenatal_pct",
                                   interval=("referred_antenatal_ci_low", "referred_antenatal_ci_high"))))
        partners = self.context.metric("partner_involvement", self.area.code)
        if len(partners):
            shown = self.people(partners, "partner_involvement").iloc[0]
            rows.append(("Women with specialist access whose partner was seen",
                         _pct_text(shown["partner_seen_pct"], partners.iloc[0], pct="partner_seen_pct")))
        return rows

    def risk_pathway(self) -> str:
        head = "<section id='risk-pathway'><h2>Risk pathway</h2>"
        frame = self.context.metric("risk_pathway", self.area.code)
        if frame.empty:
            return head + _unavailable("risk_pathway") + "</section>"
        shown = self.people(frame, "risk_pathway").assign(
            risk_factor=lambda f: f["risk_factor"].map(_risk_factor_words))
        access = self.context.metric("perinatal_access", self.area.code)
        specialist = self.context.metric("specialist_access", self.area.code)
        parts = [head,
                 "<p>The parent-infant partnership model takes referrals on the basis of risk "
                 "identified in pregnancy, so help can start before birth. For live births and "
                 "ongoing pregnancies of the period with each risk factor recorded: referred to a "
                 "targeted or specialist service before birth, seen by one before birth, seen by "
                 "the parent-infant team by the first birthday, and the median days from the risk "
                 "being recorded (the booking date when not given) to being seen.</p>",
                 _table(shown, {"risk_factor": "Risk factor", "at_risk": "Families",
                                "referred_antenatal_pct": "Referred before birth %",
                                "seen_antenatal_pct": "Seen before birth %",
                                "parent_infant_seen_pct": "Parent-infant team %",
                                "median_days_to_seen": "Median days to seen"})]
        if len(access) and len(specialist):
            latest = access.iloc[-1]
            pathway_pct = self.people(specialist, "specialist_access").iloc[0]["access_pct"]
            parts.append(
                "<h3>Two access figures, counted differently</h3>"
                f"<p>NHS England's measure (MHS91 shape): {escape(_number_text(latest['access_rate_per_100_births']))} "
                f"women per 100 live births in the 12 months to {escape(str(latest['month']))} (women of any "
                "pregnancy outcome in contact with the perinatal team or a mother and baby unit, face to "
                "face or by video, conception to 24 months after birth); the ambition is "
                f"{escape(_number_text(latest['ambition_per_100_births']))}. The pathway measure: "
                f"{escape(_shown_pct(pathway_pct))} of the period's live births whose mother was assessed or "
                "treated by the perinatal team, maternal mental health service or a mother and baby unit, "
                f"in any mode, from conception to the first birthday. Women seen only by telephone or text: "
                f"{escape(_count(latest['telephone_or_text_only']))}; counted by contacts of unknown mode: "
                f"{escape(_count(latest['mode_unknown']))}.</p>")
        return "".join(parts) + "</section>"

    # -- sections that rest on metrics a colleague adds
    def equity(self) -> str:
        head = "<section id='equity'><h2>Equity</h2>"
        if not self.has("equity"):
            return head + _unavailable("equity") + "</section>"
        try:
            frame = self.context.metric("equity", self.area.code)
        except (MetricError, FileNotFoundError) as error:
            return head + _unavailable("equity", str(error)) + "</section>"
        shown = self.people(frame, "equity")
        parts = [head, "<p>Specialist perinatal mental health access by group, with the rate "
                       "ratio against the reference group; the published England mix of "
                       "deliveries (NHS Maternity Statistics) beside each group where loaded.</p>"]
        for dimension in ("imd_quintile", "ethnic_group", "age_band", "risk_factors"):
            rows = frame[(frame["dimension"] == dimension) & (frame["group"] != "all")]
            if rows.empty:
                continue
            people = shown.loc[rows.index]
            bars = [Bar(str(raw["group"]), _float(raw["pct"]), _float(raw["ci_low"]),
                        _float(raw["ci_high"]), _shown_pct(p["pct"]))
                    for raw, p in zip(rows.to_dict("records"), people.to_dict("records"))]
            mix = self.context.published(f"equity.{dimension}")
            england = mix[mix["org_level"] == "national"] if len(mix) else mix
            people = people.copy()
            if len(england):
                latest = england[england["period"] == england["period"].max()]
                share = dict(zip(latest["category"], latest["pct"]))
                people["england_mix"] = [_fmt_pct(share.get(str(g))) if str(g) in share else ""
                                         for g in people["group"]]
                note = f" England mix: {latest['source_file'].iloc[0]}, {latest['period'].iloc[0]}."
            else:
                note = ""
            title = dimension.replace("_", " ").replace("imd", "IMD")
            parts.append(f"<h3>By {escape(title)}</h3>")
            parts.append(_figure(bar_chart(bars, title=f"Access by {title} (% of live births)"),
                                 f"Reference group: {escape(str(rows['reference_group'].iloc[0]))}.{escape(note)}"))
            parts.append(_table(people, {"group": "Group", "cohort": "Live births", "reached": "Reached",
                                         "pct": "%", "ci_low": "95% CI low", "ci_high": "95% CI high",
                                         "rate_ratio": "Rate ratio", "england_mix": "England share of deliveries %"}))
        return "".join(parts) + "</section>"

    def service_gaps(self) -> str:
        head = "<section id='service-gaps'><h2>Service gaps</h2>"
        if not self.has("service_gaps"):
            return head + _unavailable("service_gaps") + "</section>"
        try:
            frame = self.context.metric("service_gaps", self.area.code, by="service")
        except (MetricError, FileNotFoundError) as error:
            return head + _unavailable("service_gaps", str(error)) + "</section>"
        shown = self.people(frame, "service_gaps")
        flagged = shown[frame["flag"].isin(["no_service", "below_benchmark"])]
        intro = (f"<p>{len(flagged)} of {len(frame)} stage and service rows are below their "
                 "benchmark or have no service. The benchmark is a standard from reference data "
                 "where one is set, else the median of all areas.</p>")
        return head + intro + _table(flagged if len(flagged) else shown, {
            "stage": "Stage", "tier": "Tier", "service": "Service", "reached": "Reached",
            "cohort": "Live births", "pct": "%", "benchmark_pct": "Benchmark %",
            "benchmark_source": "Benchmark from", "gap_pp": "Gap (points)", "unmet": "Unmet (people)",
            "flag": "Flag"}) + "</section>"

    def economic_case(self) -> str:
        head = "<section id='economic-case'><h2>Economic case</h2>"
        if not self.has("economic_case"):
            return head + _unavailable("economic_case") + "</section>"
        try:
            frame = self.context.metric("economic_case", self.area.code)
        except (MetricError, FileNotFoundError) as error:
            return head + _unavailable("economic_case", str(error)) + "</section>"
        try:
            steps = economic_assumptions(self.context.warehouse, {**self.context.params, "area": self.area.code})
        except (MetricError, FileNotFoundError):
            steps = None
        conditions = self.context.reference("economic_conditions")
        parameters = self.context.reference("parameters")
        deflators = self.context.reference("deflators")
        body = economic.section(
            frame, dict(zip(conditions["condition"], conditions["label"])), self.area.label,
            {str(n): float(v) for n, v in zip(parameters["name"], parameters["value"])},
            {str(y): float(v) for y, v in zip(deflators["price_year"], deflators["index_value"])}, steps)
        return head + body + "</section>"

    # -- assumptions and methods
    def assumptions(self) -> str:
        parts = ["<section id='assumptions' class='annex'><h2>Assumptions and their sources</h2>"]
        for name, key, value in (("prevalence", "label", "per_1000_mid"),
                                 ("economic_conditions", "label", "per_1000_mid"),
                                 ("costs", "label", "cost_per_case"), ("condition_services", "condition", "service"),
                                 ("unit_costs", "label", "cost"), ("deflators", "price_year", "index_value"),
                                 ("parameters", "description", "value"),
                                 ("contact_windows", "label", "window_end_offset_days"),
                                 ("instruments", "label", "case_threshold")):
            frame = self.context.reference(name)
            if frame.empty:
                continue
            keep = list(dict.fromkeys(c for c in (key, value, "price_year", "status", "rationale", "source")
                                      if c in frame.columns))
            shown = frame[keep].copy()
            if pd.api.types.is_numeric_dtype(shown[value]):
                # each value at its own precision: 0.72 is not 0.7
                shown[value] = [economic.assumption_value(v) for v in shown[value]]
            parts.append(f"<h3>ref_{name}</h3>")
            parts.append(_table(shown, {c: c.replace("_", " ").capitalize() for c in keep}))
        mapping = self.context.reference("benchmark_map")
        if len(mapping):
            parts.append("<h3>Published measures used as benchmarks (ref_benchmark_map)</h3>")
            parts.append(_table(mapping[["metric", "category", "label", "source"]],
                                {"metric": "Figure", "category": "Group", "label": "Published measure",
                                 "source": "Source"}))
        return "".join(parts) + "</section>"

    def methods(self) -> str:
        stages = self.context.reference("stages").sort_values("sort_order")
        policy = self.context.warehouse.settings.disclosure
        used = ["births", "stage_reach", "mandated_contacts", "mood_screening", "specialist_access",
                "referral_funnel", "waiting_times", "outcomes", "equity", "service_gaps",
                "economic_case", "benchmarks"]
        definitions = "".join(
            f"<tr><td>{escape(m.title)}</td><td>{escape(m.description)}</td><td>{escape(m.source)}</td></tr>"
            for name in used if (m := catalogue.METRICS.get(name)) is not None)
        windows = _table(stages[["stage", "start_anchor", "start_offset_days", "end_anchor",
                                 "end_offset_days", "label", "source"]],
                         {"stage": "Stage", "start_anchor": "Starts at", "start_offset_days": "Offset (days)",
                          "end_anchor": "Ends at", "end_offset_days": "Offset (days)", "label": "Window",
                          "source": "Source"})
        return (
            "<section id='methods' class='annex'><h2>Methods annex</h2>"
            "<h3>Pathway stages (ref_stages)</h3>"
            "<p>Each event is placed on the pathway by its date relative to its pregnancy's "
            "conception (worked out from the estimated date of delivery, or the birth date where "
            "that is missing: contract section 2) and birth date, in these windows.</p>" + windows +
            "<h3>Definitions (metric catalogue)</h3>"
            f"<table><tr><th>Figure</th><th>Definition</th><th>Source</th></tr>{definitions}</table>"
            "<h3>Statistics</h3><ul>"
            "<li>Every proportion has a 95% Wilson score interval (OHID Public Health Data "
            "Science technical guidance), worked out with the proportion from the unrounded "
            "counts below a denominator of 1,000 and from the shown counts from 1,000 up, so "
            "that no hidden or rounded count can be worked back (contract 7.4); one decimal "
            "place is shown only from a denominator of 4,000.</li>"
            "<li>Comparison with a benchmark: similar when the area's 95% interval contains the "
            "benchmark value, otherwise higher or lower (Fingertips convention). Benchmarks are "
            "the published England and region values (file and period named beside each) and the "
            "median of the loaded areas.</li>"
            "<li>Published percentages are worked out from published counts with a Wilson "
            "interval where a file gives counts (NHS Maternity Statistics); Fingertips values "
            "keep their published intervals, which may be model-based. "
            + escape(MISSING_TREATMENT) + "</li>"
            f"<li>Disclosure control: counts from 1 to {policy.suppress_below - 1} are shown as "
            f"{SUPPRESSED_MARK}, other counts are rounded to the nearest {policy.round_to}, and a "
            "percentage, interval or statistic resting on a hidden count is hidden too; hidden "
            "cells cannot be worked back from totals in the same table (secondary suppression). "
            "Published benchmark figures are shown as their publisher released them.</li>"
            "</ul></section>")


# ---- formatting --------------------------------------------------------------------------------

def _risk_factor_words(code: str) -> str:
    return "Any risk factor" if code == "any" else str(code).removeprefix("rf_").replace("_", " ").capitalize()


def _number_text(value) -> str:
    number = _float(value)
    return SUPPRESSED_MARK if number is None else f"{number:.1f}"


def _float(value) -> float | None:
    try:
        if value is None or value is pd.NA or _is_hidden_text(value):
            return None
        number = float(value)
        return None if math.isnan(number) else number
    except (TypeError, ValueError):
        return None


def _is_hidden(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _is_hidden_text(value) -> bool:
    return isinstance(value, str) and value.strip() == SUPPRESSED_MARK


def _count(value) -> str:
    return SUPPRESSED_MARK if _is_hidden(value) else f"{int(value):,}"


def _fmt_pct(value) -> str:
    number = _float(value)
    return "" if number is None else f"{at_most_one_place(number)}%"


def _shown_pct(text) -> str:
    text = "" if text is None else str(text)
    return SUPPRESSED_MARK if text == SUPPRESSED_MARK else (f"{text}%" if text else "")


def _pct_text(shown_pct, raw, pct: str = "pct", interval: tuple[str, str] = ("ci_low", "ci_high")) -> str:
    """'83.3% (95% CI 80.1 to 86.0)', or '*' when hidden."""
    text = str(shown_pct)
    if text == SUPPRESSED_MARK or text == "":
        return text or "not measurable"
    low, high = _float(raw[interval[0]]), _float(raw[interval[1]])
    return f"{text}%" + (f" (95% CI {at_most_one_place(low)} to {at_most_one_place(high)})"
                         if low is not None and high is not None else "")


def _published_cell(pick: dict | None) -> str:
    if pick is None:
        return "not loaded"
    interval = ""
    if pick.get("ci_low") is not None and not pd.isna(pick.get("ci_low")):
        interval = f" ({pick['ci_low']:.1f} to {pick['ci_high']:.1f})"
    return f"{pick['pct']:.1f}%{interval}, {pick['period']}, {pick['source_file']}"


def _interval(pick: dict) -> str:
    low, high = _float(pick.get("ci_low")), _float(pick.get("ci_high"))
    return "" if low is None or high is None else f"{low:.1f} to {high:.1f}"


def _published_table(picks: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{escape(str(p['org_name']))}</td><td>{escape(str(p['period']))}</td>"
        f"<td class='num'>{p['pct']:.1f}%</td><td class='num'>{_interval(p)}</td>"
        f"<td>{escape(str(p.get('ci_method') or ''))}</td><td>{escape(str(p['source_file']))}</td></tr>"
        for p in picks)
    return ("<table><tr><th>Organisation</th><th>Period</th><th>%</th><th>95% CI</th>"
            f"<th>Interval</th><th>Published file</th></tr>{rows}</table>")


def _file_list(loads: pd.DataFrame) -> str:
    return "; ".join(f"{r.file_name} ({r.table_name}, loaded {str(r.ended_at)[:10]})"
                     for r in loads.itertuples())


def _figure(svg: str, caption: str) -> str:
    if not svg:
        return "<p class='unavailable'>No rows to chart.</p>"
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _unavailable(name: str, why: str = "") -> str:
    reason = f": {why}" if why else ": the metric is not in this installation's catalogue yet"
    return f"<p class='unavailable'>{escape(name)} not available{escape(reason)}.</p>"


def _table(frame: pd.DataFrame, columns: dict[str, str], *, numbers_as_money: bool = False) -> str:
    present = [c for c in columns if c in frame.columns]
    if frame.empty:
        return "<p class='unavailable'>No rows for this area and period.</p>"
    head = "".join(f"<th>{escape(columns[c])}</th>" for c in present)
    body = []
    for row in frame[present].itertuples(index=False):
        cells = []
        for value in row:
            text = _cell(value)
            numeric = _float(value) is not None or text == SUPPRESSED_MARK
            cells.append(f"<td class='num'>{escape(text)}</td>" if numeric else f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _cell(value) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        return f"{value:,.0f}" if abs(value) >= 1000 else (f"{value:.1f}" if not float(value).is_integer() else f"{value:.0f}")
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return str(value)
