"""Importing published national figures (the `benchmarks` table): NHS Maternity Statistics measure
files, Fingertips indicator exports (download and data-service layouts) and MHSDS performance files.

    from pathway.published import load_benchmark_file
    summary = load_benchmark_file(warehouse, "hosp-epis-stat-mat-msdscsv-2022-23.csv")

How published values are read (said again in every load summary and in the report's methods):
- a suppression mark ('*', 'c', '[c]', '~') is a suppressed figure: kept as a row with no value
  and suppressed = true, never read as zero;
- a blank or a 'not available' mark ('', '-', '..', ':', 'x', 'z', 'n/a') is a missing figure: kept
  with no value, suppressed = false;
- any other value that is not a number rejects its row (file, line, column and value in rejects);
- where a file gives counts (NHS Maternity Statistics), the percentage is worked out from them with
  a 95% Wilson interval; the publisher's 'Missing value' rows (and rows ref_benchmark_map lists as
  excluded) are left out of the denominator, and their count is kept in missing_excluded;
- where a file gives its own intervals (Fingertips), they are kept as published (ci_method
  'published': Fingertips intervals can be model-based, not Wilson).
Which published measure is which catalogue figure is reference data: data/reference/benchmark_map.csv.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from pathway import schema
from pathway.db import Warehouse, native_duckdb
from pathway.load_log import (LoadSummary, file_sha256, forget_earlier_rejects, next_load_id,
                              write_load_log)
from pathway.reference import read_table
from pathway.statistics import wilson_interval

SUPPRESSION_MARKS = {"*", "c", "[c]", "~"}
NOT_AVAILABLE_MARKS = {"", "-", "..", ":", "x", "[x]", "z", "[z]", "n/a", "na", "null"}
MISSING_TREATMENT = (
    "Suppressed values ('*') are kept as suppressed, never as zero; blank or not-available values as "
    "missing; published 'Missing value' categories are left out of percentage denominators.")

KEY = ["metric", "category", "population", "period", "org_level", "org_code"]
COLUMNS = [c.name for c in schema.benchmarks.columns]
NATIONAL_CODE = "E92000001"
REGION_PREFIXES = ("E12", "E40")


class BenchmarkRefused(Exception):
    """A whole published file is refused; the message names the file and says what is wrong."""


@dataclass(frozen=True)
class Layout:
    """A published file layout, recognised by its (normalised) header."""

    name: str
    title: str
    required: tuple[str, ...]
    read: Callable


def _key(header: str) -> str:
    """Header matching ignores case, spaces and punctuation: 'Lower CI 95.0 limit' = 'lowerci950limit'."""
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


# ---- public entry point -------------------------------------------------------------------

def load_benchmark_file(warehouse: Warehouse, path, *, display_name: str | None = None) -> LoadSummary:
    """Import one published file into `benchmarks` in one transaction, logged in load_log.

    Rows already there with the same metric, category, population, period, org level and org code
    are replaced (a corrected release), or counted unchanged when identical. Never raises for bad
    input: the file is refused and the refusal logged.
    """
    path = Path(path)
    name = display_name or path.name
    summary = LoadSummary(load_id=0, file_name=name, table="benchmarks", outcome="refused",
                          started_at=dt.datetime.now())
    warehouse.ensure_schema()
    try:
        raw, summary.encoding = _read_text_table(path, name)
        layout = recognise_layout(raw, name)
        with warehouse.connect() as conn:
            benchmark_map = read_table(conn, "benchmark_map")
        rows, rejects = layout.read(raw, name, benchmark_map, path)
        summary.rows_read, summary.rows_rejected = len(raw), len(rejects)
        summary.rejects = rejects
        if not len(rows):
            raise BenchmarkRefused(f"{name} ({layout.title}): no figure could be read from it"
                                   + (f"; first problem: line {rejects.iloc[0].line_number}, column "
                                      f"{rejects.iloc[0].column_name}: {rejects.iloc[0].reason}"
                                      if len(rejects) else ""))
        rows = rows.assign(source_file=name, layout=layout.name)
        with warehouse.begin() as conn:
            summary.load_id = next_load_id(conn)
            rows = rows.assign(load_id=summary.load_id)
            counts = _upsert(conn, warehouse, rows)
            summary.rows_loaded, summary.rows_replaced, summary.rows_unchanged = counts
            _write_rejects(conn, summary, file_sha256(path))
            suppressed = int(rows["suppressed"].sum())
            summary.message = (f"{layout.title}: {len(rows):,} figures"
                               f" ({suppressed:,} suppressed)" + _unmapped_note(layout, raw, rows)
                               + ". " + MISSING_TREATMENT)
            summary.outcome, summary.ended_at = "loaded", dt.datetime.now()
            write_load_log(conn, summary, file_sha256(path))
        return summary
    except BenchmarkRefused as refusal:
        summary.message = str(refusal)
    summary.outcome, summary.ended_at = "refused", dt.datetime.now()
    summary.rows_loaded = summary.rows_replaced = summary.rows_unchanged = 0
    with warehouse.begin() as conn:
        summary.load_id = next_load_id(conn)
        write_load_log(conn, summary, file_sha256(path))
    return summary


def recognise_layout(raw: pd.DataFrame, name: str) -> Layout:
    """The published layout whose columns the file has; refused, naming what is missing, if none."""
    present = {_key(c) for c in raw.columns}
    for layout in LAYOUTS:
        if set(layout.required) <= present:
            return layout
    nearest = max(LAYOUTS, key=lambda lay: len(set(lay.required) & present))
    missing = [c for c in nearest.required if c not in present]
    raise BenchmarkRefused(
        f"{name}: not a published layout the benchmarks import reads (NHS Maternity Statistics "
        f"measures, Fingertips export or data service, MHSDS performance); nearest is "
        f"{nearest.title}, which also needs column(s) {', '.join(missing)}")


# ---- reading -------------------------------------------------------------------------------

def _read_text_table(path: Path, name: str) -> tuple[pd.DataFrame, str]:
    if not path.exists() or path.is_dir():
        raise BenchmarkRefused(f"{name} cannot be read: there is no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
            encoding = "xlsx"
        else:
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                    sep=None, engine="python")
                encoding = "utf-8"
            except UnicodeDecodeError:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="windows-1252",
                                    sep=None, engine="python")
                encoding = "windows-1252"
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as error:
        raise BenchmarkRefused(f"{name} cannot be read as a table: {str(error).splitlines()[0]}") from None
    if frame.empty:
        raise BenchmarkRefused(f"{name} is empty: it has a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, encoding


def _column(raw: pd.DataFrame, key: str) -> str:
    return next(c for c in raw.columns if _key(c) == key)


class _Values:
    """Published values of one column, read as numbers with suppression and missing marks."""

    def __init__(self, raw: pd.DataFrame, key: str):
        self.column = _column(raw, key)
        text = raw[self.column].astype(str).str.strip()
        lowered = text.str.lower()
        self.suppressed = lowered.isin(SUPPRESSION_MARKS).to_numpy()
        self.missing = lowered.isin(NOT_AVAILABLE_MARKS).to_numpy()
        numbers = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
        self.numbers = numbers.where(~(self.suppressed | self.missing)).to_numpy(dtype=float)
        self.bad = np.isnan(self.numbers) & ~self.suppressed & ~self.missing
        self.text = text.to_numpy()


def _rejects(name: str, *values: _Values) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows whose value is neither a number nor a known mark: (rejects frame, bad-row mask)."""
    records, bad_rows = [], np.zeros(len(values[0].text), dtype=bool)
    for v in values:
        for i in np.flatnonzero(v.bad & ~bad_rows):
            records.append({"line_number": int(i) + 2, "column_name": v.column, "value": v.text[i],
                            "reason": f"{name} line {int(i) + 2}, column {v.column}: "
                                      f"{v.text[i]!r} is not a number or a suppression mark"})
        bad_rows |= v.bad
    frame = pd.DataFrame(records, columns=["line_number", "column_name", "value", "reason"])
    return frame.sort_values("line_number").reset_index(drop=True), bad_rows


def _figures(**columns) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    for column in COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    for column in ("category", "population"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    return frame[COLUMNS]


# ---- NHS Maternity Statistics --------------------------------------------------------------

MSDS_LEVELS = {"national": "national", "nhs england (region)": "region", "provider": "provider"}


def _read_msds(raw: pd.DataFrame, name: str, benchmark_map: pd.DataFrame, path: Path):
    """Counts per dimension category: each mapped figure sums its categories over the dimension's
    total less the excluded (missing) categories, with a Wilson interval."""
    value = _Values(raw, "value")
    rejects, bad = _rejects(name, value)
    data = pd.DataFrame({
        "period": raw[_column(raw, "period")].str.strip(),
        "dimension": raw[_column(raw, "dimension")].str.strip(),
        "org_level": raw[_column(raw, "orglevel")].str.strip().str.lower().map(MSDS_LEVELS)
                     .fillna("area"),
        "org_code": raw[_column(raw, "orgcode")].str.strip(),
        "org_name": raw[_column(raw, "orgname")].str.strip(),
        "measure": raw[_column(raw, "measure")].str.strip(),
        "count": value.numbers, "suppressed": value.suppressed,
    })[~bad]
    data.loc[data["org_level"] == "national", "org_code"] = "England"
    figures = []
    orgs = ["period", "org_level", "org_code", "org_name"]
    for entry in benchmark_map[benchmark_map["layout"] == "msds"].itertuples():
        rows = data[data["dimension"] == entry.indicator]
        if rows.empty:
            continue
        measures, excluded = _split(entry.measures), _split(entry.excluded)
        parts = rows.assign(
            numerator=rows["count"].where(rows["measure"].isin(measures), 0.0),
            missing_excluded=rows["count"].where(rows["measure"].isin(excluded), 0.0))
        # any hidden category makes the sums unknowable: the figure is suppressed
        result = parts.groupby(orgs, sort=False).agg(
            numerator=("numerator", "sum"), total=("count", "sum"),
            missing_excluded=("missing_excluded", "sum"), suppressed=("suppressed", "any"),
        ).reset_index()
        result["denominator"] = result["total"] - result["missing_excluded"]
        result.loc[result["suppressed"], ["numerator", "denominator"]] = np.nan
        figures.append(_figures(
            metric=entry.metric, category=_text(entry.category), period=result["period"],
            org_level=result["org_level"], org_code=result["org_code"], org_name=result["org_name"],
            indicator_id=entry.indicator, indicator_name=entry.label,
            numerator=result["numerator"], denominator=result["denominator"],
            suppressed=result["suppressed"], missing_excluded=result["missing_excluded"],
            note=_excluded_note(excluded)))
    if not figures:
        return _figures(), rejects
    out = pd.concat(figures, ignore_index=True)
    return _with_wilson(out), rejects


def _text(value) -> str:
    """A reference cell as text: blank (None or NaN) is ''."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()


def _split(text) -> list[str]:
    return [part.strip() for part in _text(text).split("|") if part.strip()]


def _excluded_note(excluded: list[str]) -> str:
    return ("denominator excludes: " + "; ".join(excluded)) if excluded else ""


def _with_wilson(frame: pd.DataFrame) -> pd.DataFrame:
    """pct and a 95% Wilson interval from the published counts, where both are known."""
    out = frame.copy()
    numerator = pd.to_numeric(out["numerator"], errors="coerce")
    denominator = pd.to_numeric(out["denominator"], errors="coerce")
    usable = numerator.notna() & denominator.notna() & (denominator > 0) & (numerator <= denominator)
    out["pct"] = np.where(usable, 100.0 * numerator / denominator.where(denominator > 0), np.nan)
    out["value"] = out["pct"]
    low, high = wilson_interval(numerator[usable], denominator[usable])
    out["ci_low"], out["ci_high"] = np.nan, np.nan
    out.loc[usable, "ci_low"], out.loc[usable, "ci_high"] = low, high
    out["ci_method"] = np.where(usable, "wilson", None)
    return out


# ---- Fingertips -----------------------------------------------------------------------------

def _fingertips_org_level(codes: pd.Series, area_types: pd.Series | None = None) -> pd.Series:
    level = pd.Series("area", index=codes.index)
    if area_types is not None:
        types = area_types.str.lower()
        level[types.str.contains("region")] = "region"
        level[types.str.strip() == "england"] = "national"
    level[codes.str.startswith(REGION_PREFIXES)] = "region"
    level[codes == NATIONAL_CODE] = "national"
    return level


def _fingertips_metric(ids: pd.Series, names: pd.Series, benchmark_map: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(catalogue figure, label) per row: by indicator id, else by a phrase in its name, else its own name."""
    metric, label = names.copy(), names.copy()
    mapped = pd.Series(False, index=ids.index)
    for entry in benchmark_map[benchmark_map["layout"] == "fingertips"].itertuples():
        indicator, phrase = _text(entry.indicator), _text(entry.indicator_name_contains)
        if indicator:
            hit = ids == indicator
        elif phrase:
            hit = names.str.lower().str.contains(phrase.lower(), regex=False)
        else:
            continue
        hit &= ~mapped
        metric[hit], label[hit] = entry.metric, entry.label
        mapped |= hit
    return metric, label


def _read_fingertips(raw: pd.DataFrame, name: str, benchmark_map: pd.DataFrame, path: Path,
                     *, data_service: bool = False):
    """One figure per indicator x area x period x category; Value and its published interval kept."""
    value, low, high = (_Values(raw, k) for k in (
        ("value", "lowerci", "upperci") if data_service
        else ("value", "lowerci950limit", "upperci950limit")))
    count, denominator = _Values(raw, "count"), _Values(raw, "denominator")
    rejects, bad = _rejects(name, value, low, high, count, denominator)
    get = lambda key, default="": (raw[_column(raw, key)].astype(str).str.strip()
                                   if key in {_key(c) for c in raw.columns}
                                   else pd.Series(default, index=raw.index))
    ids = get("indicatorid")
    codes = get("areacode")
    if data_service:
        indicator_names = _sibling_lookup(path, "indicators.csv", "IndicatorID", "IndicatorName")
        area_names = _sibling_lookup(path, "areas.csv", "AreaCode", "AreaName")
        names = ids.map(lambda i: indicator_names.get(i, f"Fingertips indicator {i}"))
        org_names = codes.map(lambda c: area_names.get(c, c))
        org_level = _fingertips_org_level(codes)
        period = get("year")
        category_type, category = get("categorytype"), get("category")
    else:
        names = get("indicatorname")
        org_names = get("areaname")
        org_level = _fingertips_org_level(codes, get("areatype"))
        period = get("timeperiod")
        category_type, category = get("categorytype"), get("category")
    note = get("valuenote")
    metric, label = _fingertips_metric(ids, names, benchmark_map)
    sex, age = get("sex"), get("age")
    population = (sex + ", " + age).str.strip(", ")
    # A blank Value with a note saying so is suppressed by the publisher, not missing.
    suppressed = value.suppressed | (np.isnan(value.numbers) & note.str.lower()
                                     .str.contains("suppress").to_numpy())
    frame = _figures(
        metric=metric, category=np.where(category_type != "", category_type + ": " + category, ""),
        population=population, period=period, org_level=org_level, org_code=codes,
        org_name=org_names, indicator_id=ids, indicator_name=label,
        numerator=count.numbers, denominator=denominator.numbers, value=value.numbers,
        ci_low=low.numbers, ci_high=high.numbers, suppressed=suppressed, note=note)
    # Value is a percentage where the map says so, or where it is Count / Denominator x 100.
    is_mapped = metric != names
    share = 100.0 * frame["numerator"] / frame["denominator"].where(frame["denominator"] > 0)
    is_pct = is_mapped | ((share - frame["value"]).abs() < 0.5)
    frame["pct"] = frame["value"].where(is_pct)
    published_ci = frame["ci_low"].notna() & frame["ci_high"].notna()
    frame["ci_method"] = np.where(published_ci, "published", None)
    wilson_rows = is_pct & ~published_ci & frame["numerator"].notna() & frame["denominator"].notna() \
        & (frame["denominator"] > 0) & (frame["numerator"] <= frame["denominator"])
    if wilson_rows.any():
        lo, hi = wilson_interval(frame.loc[wilson_rows, "numerator"], frame.loc[wilson_rows, "denominator"])
        frame.loc[wilson_rows, "ci_low"], frame.loc[wilson_rows, "ci_high"] = lo, hi
        frame.loc[wilson_rows, "ci_method"] = "wilson"
    return frame[~bad].reset_index(drop=True), rejects


def _sibling_lookup(path: Path, file_name: str, key: str, value: str) -> dict:
    """Names from the data service's own metadata file beside the extract, when it is there."""
    sibling = path.parent / file_name
    if not sibling.exists():
        return {}
    try:
        frame = pd.read_csv(sibling, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        return dict(zip(frame[key].str.strip(), frame[value].str.strip()))
    except (KeyError, ValueError, OSError):
        return {}


# ---- MHSDS performance files (community mental health 4-week waits) -------------------------

MHSDS_LEVELS = {"england": "national", "provider": "provider"}


def _read_mhsds(raw: pd.DataFrame, name: str, benchmark_map: pd.DataFrame, path: Path):
    """One figure per measure x organisation x reporting period; counts, proportions or days."""
    value = _Values(raw, "measurevalue")
    rejects, bad = _rejects(name, value)
    start = pd.to_datetime(raw[_column(raw, "reportingperiodstart")], format="%d/%m/%Y", errors="coerce")
    end = pd.to_datetime(raw[_column(raw, "reportingperiodend")], format="%d/%m/%Y", errors="coerce")
    period = start.dt.strftime("%Y-%m-%d") + "/" + end.dt.strftime("%Y-%m-%d")
    breakdown = raw[_column(raw, "breakdown")].str.strip()
    measure_name = raw[_column(raw, "measurename")].str.strip()
    kind = measure_name.str.lower()
    is_pct = kind.str.startswith("proportion").to_numpy()
    is_count = kind.str.startswith("number").to_numpy()
    frame = _figures(
        metric=measure_name, period=period.fillna(""),
        org_level=breakdown.str.lower().map(MHSDS_LEVELS).fillna("area"),
        org_code=raw[_column(raw, "primarylevel")].str.strip(),
        org_name=raw[_column(raw, "primaryleveldescription")].str.strip(),
        indicator_id=raw[_column(raw, "measureid")].str.strip(), indicator_name=measure_name,
        value=value.numbers, pct=np.where(is_pct, value.numbers, np.nan),
        numerator=np.where(is_count, value.numbers, np.nan), suppressed=value.suppressed,
        note=breakdown)
    return frame[~bad].reset_index(drop=True), rejects


LAYOUTS = (
    Layout("msds", "NHS Maternity Statistics measures",
           ("period", "dimension", "orglevel", "orgcode", "orgname", "measure", "countof", "value"),
           _read_msds),
    Layout("fingertips", "Fingertips indicator export",
           ("indicatorid", "indicatorname", "areacode", "areaname", "areatype", "timeperiod", "value",
            "lowerci950limit", "upperci950limit", "count", "denominator"),
           _read_fingertips),
    Layout("fingertips_data_service", "Fingertips data service extract",
           ("indicatorid", "areacode", "year", "value", "lowerci", "upperci", "count", "denominator"),
           lambda raw, name, m, path: _read_fingertips(raw, name, m, path, data_service=True)),
    Layout("mhsds", "MHSDS performance measures",
           ("reportingperiodstart", "reportingperiodend", "breakdown", "primarylevel",
            "primaryleveldescription", "measureid", "measurename", "measurevalue"),
           _read_mhsds),
)


def latest_published(rows: pd.DataFrame, *, region_code: str | None = None,
                     region_name: str | None = None, area_code: str | None = None,
                     category: str = "") -> list[dict]:
    """The latest published England, region and area figure among `rows` (the benchmarks
    metric's rows for one measure), each a dict with its `level`: what the report and the
    coverage view set beside the local figure. A region matches by code or by the start of
    its name (NHS Maternity Statistics uses NHS England region codes, ONS lists do not)."""
    if rows.empty:
        return []
    rows = rows[(rows["category"].fillna("") == category) & rows["pct"].notna()]
    region_upper = (region_name or "").upper()
    in_region = (rows["org_level"] == "region") & (
        (rows["org_code"] == (region_code or "\0"))
        | (rows["org_name"].fillna("").str.upper().str.startswith(region_upper)
           if region_upper else False))
    picks = []
    for level, match in (("national", rows["org_level"] == "national"), ("region", in_region),
                         ("area", rows["org_code"] == (area_code or "\0"))):
        found = rows[match]
        if len(found):
            picks.append({"level": level, **found.sort_values("period").iloc[-1].to_dict()})
    return picks


def published_layout(headers: list[str]) -> Layout | None:
    """The published layout whose columns the header holds, if any (the loader routes such files here)."""
    keys = {_key(h) for h in headers}
    return next((layout for layout in LAYOUTS if set(layout.required) <= keys), None)


def _unmapped_note(layout: Layout, raw: pd.DataFrame, rows: pd.DataFrame) -> str:
    if layout.name != "msds":
        return ""
    dimensions = set(raw[_column(raw, "dimension")].str.strip())
    used = set(rows["indicator_id"].dropna())
    skipped = sorted(dimensions - used)
    return (f"; {len(skipped)} dimensions with no catalogue figure in ref_benchmark_map were not "
            f"imported ({', '.join(skipped[:3])}{', ...' if len(skipped) > 3 else ''})") if skipped else ""


# ---- writing --------------------------------------------------------------------------------

def _upsert(conn, warehouse: Warehouse, rows: pd.DataFrame) -> tuple[int, int, int]:
    """Insert new figures, replace changed ones, count identical ones: (new, replaced, unchanged)."""
    duplicated = rows.duplicated(KEY, keep="last")
    rows = rows[~duplicated].reset_index(drop=True)
    result = conn.execute(sa.select(schema.benchmarks).where(
        schema.benchmarks.c.metric.in_(sorted(rows["metric"].unique().tolist()))))
    existing = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    compared = [c for c in COLUMNS if c not in ("load_id", "source_file", "layout")]
    merged = rows[KEY].merge(existing[KEY].assign(_there=True), on=KEY, how="left")
    there = merged["_there"].fillna(False).astype(bool).to_numpy()
    same = np.zeros(len(rows), dtype=bool)
    if there.any():
        values = [c for c in compared if c not in KEY]
        old = existing.set_index(KEY)[values]
        new = rows.set_index(KEY)[values]
        both = new[there]
        aligned = old.reindex(both.index)
        same_rows = (_comparable(both) == _comparable(aligned)).all(axis=1).to_numpy()
        same[np.flatnonzero(there)] = same_rows
    replaced = there & ~same
    stale = rows[replaced][KEY]
    if len(stale):
        conn.execute(sa.text(
            "delete from benchmarks where metric = :metric and category = :category and "
            "population = :population and period = :period and org_level = :org_level and "
            "org_code = :org_code"), stale.to_dict("records"))
    fresh = rows[~same]
    _insert(conn, warehouse, fresh)
    return int((~there).sum()), int(replaced.sum()), int(same.sum())


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        numbers = pd.to_numeric(out[column], errors="coerce")
        if numbers.notna().sum() == out[column].notna().sum() and out[column].dtype != bool:
            out[column] = numbers.round(9).fillna(-1e300)
        else:
            out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str)
    return out


def _insert(conn, warehouse: Warehouse, rows: pd.DataFrame) -> None:
    if not len(rows):
        return
    clean = rows[COLUMNS].copy()
    for column in ("numerator", "denominator", "pct", "ci_low", "ci_high", "value", "missing_excluded"):
        clean[column] = pd.to_numeric(clean[column], errors="coerce").astype(float)
    clean["suppressed"] = clean["suppressed"].astype(bool)
    clean["load_id"] = clean["load_id"].astype(int)
    if warehouse.is_duckdb:
        # The same transaction's DuckDB connection reads the frame directly (fast for 20k rows).
        duck = native_duckdb(conn)
        duck.register("benchmarks_incoming", clean)
        try:
            duck.execute(f"insert into benchmarks ({', '.join(COLUMNS)}) "
                         f"select {', '.join(COLUMNS)} from benchmarks_incoming")
        finally:
            duck.unregister("benchmarks_incoming")
        return
    records = clean.astype(object).where(clean.notna(), None).to_dict("records")
    conn.execute(schema.benchmarks.insert(), records)


def _write_rejects(conn, summary: LoadSummary, sha256: str | None) -> None:
    forget_earlier_rejects(conn, "benchmarks", sha256)
    if not len(summary.rejects):
        return
    conn.execute(schema.rejects.insert(), [
        {"load_id": summary.load_id, "file_name": summary.file_name, "table_name": "benchmarks",
         "line_number": int(r.line_number), "column_name": r.column_name, "value": r.value,
         "reason": r.reason, "record_id": None, "status": "rejected"}
        for r in summary.rejects.itertuples()])
