"""Coverage: reach by stage and tier, mandated contacts in their windows, mood screening and
specialist access against expected need and the national ambition, each with its 95% interval,
its comparison with all areas, and a funnel plot across areas."""

from __future__ import annotations

import dash
import pandas as pd

from pathway.published import MISSING_TREATMENT, latest_published
from pathway.statistics import compare_to_benchmark, funnel_limits
from pathway.web.components.charts import (NHS_BLUE, NHS_DARK_GREY, NHS_ORANGE, bars_with_interval, chart,
                                           horizontal_line, numbers, styled)
from pathway.web.components.figure_card import figure_card
from pathway.web.components.page import (area_label, area_names, page, period_words, stage_labels,
                                         stage_order, stage_words)
from pathway.web.components.summaries import one_area_or_pooled, percent_text, pooled
from pathway.web.components.tables import people_frame
from pathway.web.filters import metric_params, narrow, read_filters
from pathway.web.indicators import INDICATORS, definition_panel, metric_definition
from pathway.web.warehouse import areas, fetch_metric, reference_parameter

PATH = "/coverage"
dash.register_page(__name__, path=PATH, name="Coverage", title="Coverage - Perinatal Pathway Analytics",
                   order=1, description="Reach, mandated contacts, mood screening and specialist access")


def with_comparison(area_rows: pd.DataFrame, all_rows: pd.DataFrame, keys: list[str], numerator: str,
                    denominator: str, pct: str = "pct") -> pd.DataFrame:
    """The area's rows with benchmark_pct (all areas pooled) and comparison (higher/similar/lower)."""
    if area_rows is None or area_rows.empty:
        return area_rows
    benchmark = pooled(all_rows, keys, numerator, denominator)[[*keys, "pct"]] \
        .rename(columns={"pct": "benchmark_pct"})
    out = area_rows.drop(columns=[c for c in ("benchmark_pct", "comparison") if c in area_rows.columns]) \
        .merge(benchmark, on=keys, how="left") if keys else area_rows.assign(
            benchmark_pct=benchmark["benchmark_pct"].iloc[0] if len(benchmark) else float("nan"))
    out["comparison"] = compare_to_benchmark(pd.to_numeric(out[pct], errors="coerce"),
                                             pd.to_numeric(out["ci_low"], errors="coerce"),
                                             pd.to_numeric(out["ci_high"], errors="coerce"),
                                             pd.to_numeric(out["benchmark_pct"], errors="coerce"))
    return out


def all_areas_rows(name: str, filters: dict, area_result) -> pd.DataFrame:
    """Every area's rows for the benchmark: the area's own run already has them when area is 'all'."""
    if filters["area"] == "all":
        return area_result.frame
    everyone = fetch_metric(name, metric_params({**filters, "area": "all"}))
    return everyone.frame if everyone.ok else area_result.frame.iloc[0:0]


def _in_stage_order(frame: pd.DataFrame) -> pd.DataFrame:
    order = {stage: i for i, stage in enumerate(stage_order())}
    return frame.assign(_o=frame["stage"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")


def compared_words(comparison, against: str = "all areas") -> str:
    """'higher than all areas', 'similar to all areas', '' when not compared (grammar per word)."""
    if comparison in ("higher", "lower", "better", "worse"):
        return f"{comparison} than {against}"
    if comparison == "similar":
        return f"similar to {against}"
    return ""


def _words(frame: pd.DataFrame, label_columns: list[str], pct: str = "pct", against: str = "all areas") -> str:
    def label(column: str, value) -> str:
        return stage_words(value) if column == "stage" else str(value)

    def one(r) -> str:
        words = compared_words(getattr(r, "comparison", ""), against)
        return (", ".join(label(c, getattr(r, c)) for c in label_columns)
                + f" {percent_text(getattr(r, pct))}" + (f" ({words})" if words else ""))
    return "; ".join(one(r) for r in frame.itertuples())


def gaps_benchmark(rows: pd.DataFrame, filters: dict) -> pd.DataFrame:
    """The area's reach rows compared with the Service gaps benchmark of the same stage and tier (the
    reach standard or the median of all areas), so both views judge a cell the same way."""
    gaps = fetch_metric("service_gaps", metric_params(filters))
    if not gaps.ok or gaps.empty:
        return rows.assign(benchmark_pct=float("nan"), comparison="not compared")
    own = gaps.frame[gaps.frame["area_code"] == filters["area"]] if (gaps.frame["area_code"] == filters["area"]).any() \
        else gaps.frame
    bench = own.drop_duplicates(["stage", "tier"])[["stage", "tier", "benchmark_pct"]]
    out = rows.drop(columns=[c for c in ("benchmark_pct", "comparison") if c in rows.columns]) \
        .merge(bench, on=["stage", "tier"], how="left")
    out["comparison"] = compare_to_benchmark(pd.to_numeric(out["pct"], errors="coerce"),
                                             pd.to_numeric(out["ci_low"], errors="coerce"),
                                             pd.to_numeric(out["ci_high"], errors="coerce"),
                                             pd.to_numeric(out["benchmark_pct"], errors="coerce"))
    return out


def stage_reach_card(filters: dict, where: str):
    result = fetch_metric("stage_reach", metric_params(filters))
    if not result.ok or result.empty:
        return figure_card("coverage-stage-reach", "Reach by stage and tier", figure=None, table=None,
                           summary="", result=result)
    rows = one_area_or_pooled(result.frame, filters["area"], ["stage", "tier"], "reached", "cohort")
    if filters["area"] != "all":  # all areas is the benchmark's own population: nothing to compare with
        rows = gaps_benchmark(rows, filters)
    rows = _in_stage_order(narrow(rows, filters, ("stage", "tier")))
    shown = rows.drop(columns=[c for c in ("rows_hidden",) if c in rows.columns])
    return figure_card(
        "coverage-stage-reach", "Reach by stage and tier",
        figure=bars_with_interval(rows, x="stage", series="tier", x_labels=stage_labels(),
                                  y_title="% of births reached")
        if not rows.empty else None,
        table=people_frame(shown, "stage_reach" if filters["area"] != "all" else None),
        summary=f"Reach of {period_words(filters)} in {where}: "
                + _words(rows, ["stage", "tier"], against="the benchmark") + ".",
        source="Comparison (when one area or ICB is chosen): 'higher' or 'lower' when the 95% interval excludes "
               "the benchmark, the same benchmark as the Service gaps view (the median of all areas, or a reach "
               "standard where one is set and higher).",
        definition=metric_definition("stage_reach", period_words(filters),
                                     numerator="live births reached by an attended service of the tier in the stage",
                                     denominator="live births in the period with a year of follow-up"))


def mandated_contacts_card(filters: dict, where: str):
    result = fetch_metric("mandated_contacts", metric_params(filters))
    if not result.ok or result.empty:
        return figure_card("coverage-mandated-contacts", "Mandated health visitor contacts in their windows",
                           figure=None, table=None, summary="", result=result)
    rows = one_area_or_pooled(result.frame, filters["area"], ["contact_code"], "numerator", "denominator")
    if filters["area"] != "all":
        rows = with_comparison(rows, all_areas_rows("mandated_contacts", filters, result), ["contact_code"],
                               "numerator", "denominator")
    labels = {"antenatal_hv_contact": "Antenatal (from 28 weeks)", "new_birth_visit": "New birth visit (14 days)",
              "six_eight_week_review": "6-8 week review", "twelve_month_review": "12-month review",
              "twelve_month_review_by_15_months": "12-month review by 15 months"}
    shown = rows.drop(columns=[c for c in ("rows_hidden",) if c in rows.columns])
    return figure_card(
        "coverage-mandated-contacts", "Mandated health visitor contacts in their windows",
        figure=bars_with_interval(rows, x="contact_code", x_labels=labels, y_title="% of babies"),
        table=people_frame(shown, "mandated_contacts" if filters["area"] != "all" else None),
        summary=f"Mandated contacts in their windows for {period_words(filters)} in {where}: "
                + _words(rows.assign(contact_code=rows["contact_code"].map(lambda c: labels.get(c, c))),
                         ["contact_code"]) + ".",
        source="Each contact's window (for example the new birth visit within 14 days of birth) is the one OHID's "
               "health visitor service delivery metrics use, kept in the reference data. Counted per baby, as "
               "OHID counts children: twins count twice; the antenatal contact, with the mother, once per pregnancy.",
        definition=metric_definition("mandated_contacts", period_words(filters),
                                     numerator="babies with the contact attended in its window",
                                     denominator="babies born alive whose window has ended by the cut-off"))


def mood_screening_card(filters: dict, where: str):
    result = fetch_metric("mood_screening", metric_params(filters))
    if not result.ok or result.empty:
        return figure_card("coverage-mood-screening", "Mood screening", figure=None, table=None, summary="",
                           result=result)
    rows = one_area_or_pooled(result.frame, filters["area"], ["stage"], "screened", "cohort")
    if filters["area"] != "all":
        rows = with_comparison(rows, all_areas_rows("mood_screening", filters, result), ["stage"], "screened", "cohort")
    rows = _in_stage_order(rows)
    shown = rows.drop(columns=[c for c in ("rows_hidden",) if c in rows.columns])
    return figure_card(
        "coverage-mood-screening", "Mood screening (Whooley, GAD-2, EPDS or PHQ-9)",
        figure=bars_with_interval(rows, x="stage", x_labels=stage_labels(), y_title="% of births screened"),
        table=people_frame(shown, "mood_screening" if filters["area"] != "all" else None),
        summary=f"Births with a mood screen in {where}: " + _words(rows, ["stage"]) + ".",
        source="NICE CG192 recommends asking about mood at booking and in the postnatal period.",
        definition=metric_definition("mood_screening", period_words(filters),
                                     numerator="live births whose mother had a mood screening score in the stage",
                                     denominator="live births in the period"))


def specialist_access_cards(filters: dict, where: str, names: dict) -> list:
    result = fetch_metric("specialist_access", metric_params({**filters, "area": "all"}))
    title = ("Specialist perinatal mental health access against expected need (pathway measure: "
             "births whose mother was assessed or treated, conception to the first birthday)")
    if not result.ok or result.empty:
        return [figure_card("coverage-specialist-access", title, figure=None, table=None, summary="",
                            result=result)]
    frame = result.frame.copy()
    frame["area_name"] = frame["area_code"].map(lambda c: names.get(c, c))
    ambition = reference_parameter("national_ambition_pct")
    selected = frame if filters["area"] == "all" else frame[
        frame["area_code"].isin(_areas_of(filters["area"]) | {filters["area"]})]
    selected = selected if not selected.empty else frame
    benchmark = pooled(frame, [], "accessed", "live_births")
    bench_pct = float(benchmark["pct"].iloc[0]) if len(benchmark) else float("nan")
    selected = selected.assign(comparison=compare_to_benchmark(
        pd.to_numeric(selected["access_pct"], errors="coerce"), pd.to_numeric(selected["ci_low"], errors="coerce"),
        pd.to_numeric(selected["ci_high"], errors="coerce"), bench_pct))
    bars = bars_with_interval(selected, x="area_name", value="access_pct", y_title="% of live births",
                              reference_line=(ambition, f"National ambition {ambition:g}%") if ambition else None)
    table = people_frame(selected[["area_code", "area_name", "live_births", "accessed", "access_pct", "ci_low",
                                   "ci_high", "expected_need", "need_met_pct", "comparison"]], "specialist_access")
    cards = [figure_card(
        "coverage-specialist-access", title, figure=bars, table=table,
        summary=f"Share of live births whose mother was assessed or treated by a specialist perinatal service, "
                f"{where}: " + "; ".join(f"{r.area_name} {percent_text(r.access_pct)} ("
                                          + (f"{compared_words(r.comparison)}; " if compared_words(r.comparison) else "")
                                          + f"need met {percent_text(r.need_met_pct)})" for r in selected.itertuples())
                + (f". The dashed line is the NHS Long Term Plan national ambition of about {ambition:g}% of births."
                   if ambition else "."),
        source="Expected need: live births × specialist-need prevalence (Joint Commissioning Panel for Mental "
               "Health 2012, reference table prevalence). National ambition: NHS Long Term Plan (2019).",
        definition=definition_panel(INDICATORS["specialist_access"], period_words(filters)))]
    cards.append(funnel_card(frame, bench_pct, filters))
    return cards


def _areas_of(icb: str) -> set[str]:
    from pathway.web.warehouse import areas
    frame = areas()
    return set(frame.loc[frame["icb_code"] == icb, "area_code"])


def funnel_card(frame: pd.DataFrame, bench_pct: float, filters: dict):
    """Funnel plot: each area's access against its births, with 95% and 99.8% limits around all areas."""
    points = frame.dropna(subset=["access_pct", "live_births"]).copy()
    points["live_births"] = pd.to_numeric(points["live_births"], errors="coerce")
    figure = chart()
    if not points.empty and pd.notna(bench_pct):
        span = pd.Series(range(max(1, int(points["live_births"].min() * 0.8)),
                               int(points["live_births"].max() * 1.2) + 2,
                               max(1, int(points["live_births"].max() / 100))))
        limits = funnel_limits(span, bench_pct)
        for column, dash_style, name in (("lower_95", "dash", "95% limits"), ("upper_95", "dash", None),
                                         ("lower_998", "dot", "99.8% limits"), ("upper_998", "dot", None)):
            figure["data"].append({"type": "scatter", "x": numbers(limits["denominator"]), "y": numbers(limits[column].round(1)),
                                   "mode": "lines", "line": {"color": NHS_DARK_GREY, "dash": dash_style},
                                   "name": name or column, "showlegend": name is not None, "hoverinfo": "skip"})
        horizontal_line(figure, bench_pct, f"All areas {percent_text(bench_pct)}", dash=None)
        chosen = points["area_code"] == filters.get("area")
        figure["data"].append({"type": "scatter", "x": numbers(points.loc[~chosen, "live_births"]),
                               "y": numbers(points.loc[~chosen, "access_pct"]), "mode": "markers", "name": "Areas",
                               "marker": {"color": NHS_BLUE, "size": 9},
                               "text": points.loc[~chosen, "area_name"].tolist(),
                               "hovertemplate": "%{text}: %{y}% of %{x} births<extra></extra>"})
        if chosen.any():
            figure["data"].append({"type": "scatter", "x": numbers(points.loc[chosen, "live_births"]),
                                   "y": numbers(points.loc[chosen, "access_pct"]), "mode": "markers+text",
                                   "name": "Selected area", "text": points.loc[chosen, "area_name"].tolist(),
                                   "textposition": "top center",
                                   "marker": {"color": NHS_ORANGE, "size": 14, "symbol": "diamond"}})
    styled(figure, x_title="Live births", y_title="% accessing specialist care")
    table = people_frame(points[["area_code", "area_name", "live_births", "accessed", "access_pct"]], None) \
        if not points.empty else None
    outside = []
    if not points.empty and pd.notna(bench_pct):
        limits = funnel_limits(points["live_births"], bench_pct)
        for r, lo, hi in zip(points.itertuples(), limits["lower_998"], limits["upper_998"]):
            if r.access_pct < lo or r.access_pct > hi:
                outside.append(f"{r.area_name} ({'above' if r.access_pct > hi else 'below'})")
    return figure_card(
        "coverage-funnel", "Funnel plot: specialist access across areas", figure=figure if table is not None else None,
        table=table, summary=(f"Each area's specialist access against its number of births, with control limits "
                              f"around the all-areas figure of {percent_text(bench_pct)}. Outside the 99.8% limits: "
                              + (", ".join(outside) if outside else "none") + "."),
        source="Funnel limits at 95% and 99.8% around the all-areas figure, by the method OHID's Fingertips "
               "profiles use (the PHEindicatormethods R package).")


CONTACT_LABELS = {"antenatal_hv_contact": "Antenatal contact from 28 weeks",
                  "new_birth_visit": "New birth visit within 14 days",
                  "six_eight_week_review": "6-8 week review by 8 weeks",
                  "twelve_month_review": "12-month review by 12 months",
                  "twelve_month_review_by_15_months": "12-month review by 15 months"}


def local_figures(filters: dict) -> list[tuple[str, str, float | None]]:
    """(catalogue figure, label, local pct) for every figure a published benchmark can map to."""
    figures = []
    births = fetch_metric("births", metric_params(filters))
    if births.ok and not births.empty:
        row = one_area_or_pooled(births.frame, filters["area"], [], "booked_by_13_weeks", "booking_known")
        pct = row["booked_by_13_weeks_pct"] if "booked_by_13_weeks_pct" in row else row.get("pct")
        figures.append(("births.booked_by_13_weeks", "Booked by 12 weeks 6 days",
                        _first_number(pct)))
    contacts = fetch_metric("mandated_contacts", metric_params(filters))
    if contacts.ok and not contacts.empty:
        rows = one_area_or_pooled(contacts.frame, filters["area"], ["contact_code"], "numerator", "denominator")
        for row in rows.itertuples():
            figures.append((f"mandated_contacts.{row.contact_code}",
                            CONTACT_LABELS.get(row.contact_code, row.contact_code), _first_number([row.pct])))
    return figures


def _first_number(values) -> float | None:
    numbers = pd.to_numeric(pd.Series(list(values) if values is not None else []), errors="coerce").dropna()
    return float(numbers.iloc[0]) if len(numbers) else None


def published_benchmarks_card(filters: dict, where: str):
    """The local figure beside the latest England and region published values, naming file and period."""
    title = "Against published national figures"
    published = fetch_metric("benchmarks")
    if not published.ok:
        return figure_card("coverage-published", title, figure=None, table=None, summary="", result=published)
    region_code, region_name = _region_of(filters["area"])
    rows = []
    for figure, label, local_pct in local_figures(filters):
        picks = latest_published(published.frame[published.frame["metric"] == figure],
                                 region_code=region_code, region_name=region_name)
        for pick in picks:
            level = "England" if pick["level"] == "national" else region_name.title()
            rows.append({"figure": label, "this area": percent_text(local_pct), "published": level,
                         # a published figure at its publisher's precision (one decimal), not ours
                         "published value": f"{pick['pct']:.1f}%",
                         "95% CI": f"{percent_text(pick['ci_low'])} to {percent_text(pick['ci_high'])}",
                         "compared": _against(local_pct, pick["ci_low"], pick["ci_high"]),
                         "period": pick["period"], "file": pick["source_file"]})
    table = pd.DataFrame(rows)
    summary = (f"{where} beside published figures: " + "; ".join(
        f"{r['figure']} {r['this area']} against {r['published']} {r['published value']} ({r['period']})"
        for r in rows) + "." if rows else "")
    return figure_card("coverage-published", title, figure=None, table=table, summary=summary,
                       empty_text="No published figures are loaded for these measures yet.",
                       empty_hint="To set England and region values beside these figures, download the NHS "
                                  "Maternity Statistics or OHID Fingertips file and load it with: "
                                  "pathway load --table benchmarks FILE (or on the Data page, as table 'benchmarks').",
                       source="Published files imported with pathway load --table benchmarks (NHS Maternity "
                              "Statistics, OHID Fingertips). " + MISSING_TREATMENT)


def _against(local_pct, low, high) -> str:
    """Whether the published interval holds the local figure: within, or the local figure is higher or lower."""
    if local_pct is None or pd.isna(low) or pd.isna(high):
        return "not compared"
    return "within its interval" if low <= local_pct <= high else ("higher" if local_pct > high else "lower")


def _region_of(area: str) -> tuple[str | None, str | None]:
    """The (code, name) of the region the area or ICB lies in, when it lies in one."""
    rows = areas()
    found = rows[(rows["area_code"] == area) | (rows["icb_code"] == area)]
    regions = found[["region_code", "region_name"]].dropna(subset=["region_name"]).drop_duplicates()
    return (regions.iloc[0]["region_code"], str(regions.iloc[0]["region_name"])) if len(regions) == 1 \
        else (None, None)


# ---- perinatal_access (contract v1.1): NHS England's measure beside the pathway measure ------
ACCESS_COUNTS = ("Counts women of any pregnancy outcome in contact with the specialist community "
                 "perinatal team or a mother and baby unit, face to face or by video, in the 12 months "
                 "to each month end, from conception to 24 months after birth (NHS England's MHS91), "
                 "per 100 live births of the same 12 months.")


def perinatal_access_card(filters: dict, where: str):
    """The MHS91-shaped rolling 12 months, month by month, against the ambition and beside the
    pathway measure (specialist_access), each saying what it counts."""
    title = "Perinatal mental health access as NHS England counts it (rolling 12 months)"
    area = filters["area"]
    result = fetch_metric("perinatal_access", {"area": area} if area != "all" else {})
    if not result.ok or result.empty:
        return figure_card("coverage-perinatal-access", title, figure=None, table=None, summary="",
                           result=result)
    frame = result.frame
    if area != "all" and (frame["area_code"] == area).any():
        rows = frame[frame["area_code"] == area].assign(rate=lambda f: f["access_rate_per_100_births"])
    else:
        # all areas: summed from the counts shown (each woman counts in one area, her first
        # contact's); a month resting on a hidden count is hidden (contract 7.4). A rate, not a
        # proportion: women of any outcome may outnumber the births.
        counts = frame[["accessed", "mode_unknown", "telephone_or_text_only", "live_births"]] \
            .apply(pd.to_numeric, errors="coerce")
        by_month = counts.groupby(frame["month"], sort=False)
        rows = by_month.sum().where(by_month.count() == by_month.size().to_numpy()[:, None]).reset_index()
        rows["rate"] = 100.0 * rows["accessed"] / rows["live_births"].where(rows["live_births"] > 0)
    rows = rows.sort_values("month")
    ambition = reference_parameter("perinatal_access_ambition_per_100_births")
    pathway_pct = _pathway_access_pct(filters)
    figure = chart([{"type": "scatter", "x": rows["month"].tolist(), "y": numbers(rows["rate"]),
                     "mode": "lines+markers", "name": "NHS England's measure (MHS91 shape), per 100 births",
                     "line": {"color": NHS_BLUE}, "marker": {"size": 7}}])
    if ambition:
        horizontal_line(figure, ambition, f"Long Term Plan ambition {ambition:g} per 100 births")
    if pathway_pct is not None:
        horizontal_line(figure, pathway_pct, f"Pathway measure (specialist access) {percent_text(pathway_pct)}",
                        colour=NHS_ORANGE, dash="dot")
    styled(figure, x_title="12 months ending", y_title="Women per 100 live births")
    latest = rows.iloc[-1]
    unknown = pd.to_numeric(pd.Series([latest.get("mode_unknown")]), errors="coerce").iloc[0]
    phone = pd.to_numeric(pd.Series([latest.get("telephone_or_text_only")]), errors="coerce").iloc[0]
    summary = (f"In the 12 months to {latest['month']}, {where}: "
               f"{_count_words(latest['accessed'])} women in contact, {_rate_words(latest['rate'])} per 100 "
               f"live births against the ambition of {ambition:g}" if ambition else "")
    summary += (f"; the pathway measure (specialist access, {period_words(filters)}) is "
                f"{percent_text(pathway_pct)}" if pathway_pct is not None else "")
    summary += (f". Seen only by telephone or text (not counted): {_count_words(phone)}. "
                f"Counted by contacts of unknown mode: {_count_words(unknown)}"
                + (" (comparable with the published figure only when this is 0)." if unknown != 0 else "."))
    table = people_frame(rows[[c for c in ("area_code", "month", "window_start", "month_end", "accessed",
                                           "mode_unknown", "telephone_or_text_only", "live_births",
                                           "access_rate_per_100_births", "rate_ci_low", "rate_ci_high")
                               if c in rows.columns]], "perinatal_access" if area != "all" else None)
    return figure_card(
        "coverage-perinatal-access", title, figure=figure, table=table, summary=summary,
        source=ACCESS_COUNTS + " The pathway measure beside it counts live births of the period whose "
               "mother had an attended assessment or treatment by the perinatal team, maternal mental "
               "health service or a mother and baby unit, in any mode, from conception to the first "
               "birthday. Ambition: NHS Long Term Plan (reference table parameters).")


def partner_involvement_card(filters: dict, where: str, names: dict):
    """Of women with specialist access, those whose partner was assessed or seen, by area."""
    title = "Partners seen, of women with specialist perinatal access"
    result = fetch_metric("partner_involvement", metric_params({**filters, "area": "all"}))
    if not result.ok or result.empty:
        return figure_card("coverage-partners", title, figure=None, table=None, summary="", result=result)
    frame = result.frame.assign(area_name=lambda f: f["area_code"].map(lambda c: names.get(c, c)))
    if filters["area"] != "all":
        chosen = frame[frame["area_code"].isin(_areas_of(filters["area"]) | {filters["area"]})]
        frame = chosen if not chosen.empty else frame
    summary = (f"Women with specialist access whose partner had an attended assessment or contact, "
               f"conception to the first birthday, {period_words(filters)}: " + "; ".join(
                   f"{r.area_name} {percent_text(r.partner_seen_pct)} of "
                   f"{'*' if pd.isna(r.accessed) else f'{int(r.accessed):,}'}" for r in frame.itertuples()) + ".")
    return figure_card(
        "coverage-partners", title,
        figure=bars_with_interval(frame, x="area_name", value="partner_seen_pct", y_title="% of women with access"),
        table=people_frame(frame[["area_code", "area_name", "accessed", "partner_seen", "partner_seen_pct",
                                  "ci_low", "ci_high"]], "partner_involvement"),
        summary=summary,
        source="The NHS Long Term Plan offers partners of women in specialist perinatal care an assessment. "
               "A partner's contact is one recorded with subject 'partner'.")


def _pathway_access_pct(filters: dict) -> float | None:
    """specialist_access for the filter's area, from the all-areas run the specialist card made."""
    result = fetch_metric("specialist_access", metric_params({**filters, "area": "all"}))
    if not result.ok or result.empty:
        return None
    frame = result.frame
    if filters["area"] != "all" and not (frame["area_code"] == filters["area"]).any():
        frame = frame[frame["area_code"].isin(_areas_of(filters["area"]))]   # an ICB: its areas
    row = one_area_or_pooled(frame, filters["area"], [], "accessed", "live_births")
    value = row["access_pct"].iloc[0] if "access_pct" in row.columns else row["pct"].iloc[0]
    return None if pd.isna(value) else float(value)


def _count_words(value) -> str:
    return "*" if value is None or pd.isna(value) else f"{int(value):,}"


def _rate_words(value) -> str:
    return "*" if value is None or pd.isna(value) else f"{float(value):.1f}"


def coverage_body(filters: dict) -> list:
    names = area_names()
    where = area_label(filters, names)
    return [stage_reach_card(filters, where), mandated_contacts_card(filters, where),
            mood_screening_card(filters, where), *specialist_access_cards(filters, where, names),
            perinatal_access_card(filters, where), partner_involvement_card(filters, where, names),
            published_benchmarks_card(filters, where)]


def layout(**query):
    filters, problems = read_filters(query)
    return page("Coverage", "Who is reached, by which tier of service, at each stage of the pathway; the "
                "mandated contacts; mood screening; and specialist access against expected need.",
                filters, problems, coverage_body(filters), path=PATH,
                show=("area", "period", "stage", "tier"))
