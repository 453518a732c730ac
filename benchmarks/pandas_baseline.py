"""The metric catalogue written the way an analyst would in pandas: the baseline the SQL is timed
against, and an independent reading of the contract the benchmark checks the SQL with.

The raw tables (areas, cohort, risk factors, activity, measures, ref_*, rejects, load log,
benchmarks) are read once into DataFrames (RawTables.read, not timed); each metric then works
from them alone, placing events on the pathway itself, never from the journey tables the SQL
uses. Each function takes the RawTables and the binds pathway.metrics.resolve_parameters worked
out (area, date_from, date_to, as_at, ...) and returns the unsuppressed answer, one row per grain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from pathway import catalogue
from pathway.db import Warehouse, native_duckdb
from pathway.statistics import wilson_interval, xmr_chart

REACHING_TYPES = ("screening", "assessment", "contact", "intervention")
SEEN_TYPES = ("assessment", "contact", "intervention")
SPECIALIST_SERVICES = ("perinatal_mh", "maternal_mh", "mbu")


@dataclass
class RawTables:
    areas: pd.DataFrame
    cohort: pd.DataFrame
    risk_factors: pd.DataFrame
    activity: pd.DataFrame
    measures: pd.DataFrame
    ref: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    load_log: pd.DataFrame
    benchmarks: pd.DataFrame

    @classmethod
    def read(cls, warehouse: Warehouse) -> "RawTables":
        from pathway.schema import REFERENCE_TABLES

        with warehouse.connect() as conn:
            def table(sql: str) -> pd.DataFrame:
                if warehouse.is_duckdb:
                    return native_duckdb(conn).execute(sql).df()
                return warehouse.query(sql, conn=conn)

            dates = ["booking_date", "edd", "birth_date"]
            cohort = table("select * from cohort")
            for column in dates:
                cohort[column] = pd.to_datetime(cohort[column])
            activity = table("select * from activity")
            activity["activity_date"] = pd.to_datetime(activity["activity_date"])
            measures = table("select * from measures")
            measures["measure_date"] = pd.to_datetime(measures["measure_date"])
            return cls(
                areas=table("select * from areas"),
                cohort=cohort,
                risk_factors=table("select * from cohort_risk_factors"),
                activity=activity,
                measures=measures,
                ref={name: table(f"select * from ref_{name}") for name in REFERENCE_TABLES},
                rejects=table("select * from rejects"),
                load_log=table("select * from load_log"),
                benchmarks=table("select * from benchmarks"),
            )

    def parameter(self, name: str) -> float:
        found = self.ref["parameters"]
        return float(found.loc[found["name"] == name, "value"].iloc[0])


# ---- the shared steps, written out -------------------------------------------------------
def ts(value) -> pd.Timestamp:
    return pd.Timestamp(value)


def areas_for(t: RawTables, area: str) -> pd.DataFrame:
    """area_code -> report_code for the area parameter: itself, its ICB's areas, or all."""
    a = t.areas
    if area == "all":
        return pd.DataFrame({"area_code": a["area_code"], "report_code": a["area_code"]})
    own = a[a["area_code"] == area][["area_code"]].assign(report_code=area)
    icb = a[(a["icb_code"] == area) & (a["icb_code"] != a["area_code"])][["area_code"]]
    return pd.concat([own, icb.assign(report_code=area)]).drop_duplicates()


def reporting_codes(t: RawTables, area: str) -> list[str]:
    return sorted(areas_for(t, area)["report_code"].unique())


def pregnancy_dates(t: RawTables) -> pd.DataFrame:
    c = t.cohort
    due = c["edd"].fillna(c["birth_date"])
    return pd.DataFrame({
        "pregnancy_id": c["pregnancy_id"],
        "area_code": c["area_code"],
        "due_date": due,
        "conception_date": due - pd.to_timedelta(t.parameter("conception_days_before_edd"), "D"),
        "pathway_birth_date": c["birth_date"].fillna(c["edd"]),
    })


def live_births(t: RawTables, b: dict, follow_up_days: int | None) -> pd.DataFrame:
    """Live births of the period in the selected areas (with report_code), follow-up ended."""
    c = t.cohort
    births = c[(c["outcome"] == "live_birth") & c["birth_date"].notna()]
    births = births[(births["birth_date"] >= ts(b["date_from"])) & (births["birth_date"] <= ts(b["date_to"]))]
    if follow_up_days is not None:
        births = births[births["birth_date"] + pd.to_timedelta(follow_up_days, "D") <= ts(b["as_at"])]
    return births.merge(areas_for(t, b["area"]), on="area_code")


def placed(t: RawTables, events: pd.DataFrame, date_column: str) -> pd.DataFrame:
    """Events with their pregnancy's dates and pathway stage ('outside' when in none)."""
    out = events.merge(pregnancy_dates(t).drop(columns="area_code"), on="pregnancy_id")
    out["stage"] = "outside"
    for _, s in t.ref["stages"].iterrows():
        anchor = {"conception": "conception_date", "birth": "pathway_birth_date"}
        start = out[anchor[s["start_anchor"]]] + pd.to_timedelta(s["start_offset_days"], "D")
        end = out[anchor[s["end_anchor"]]] + pd.to_timedelta(s["end_offset_days"], "D")
        out.loc[(out[date_column] >= start) & (out[date_column] <= end), "stage"] = s["stage"]
    return out


def activity_of(t: RawTables, pregnancies: pd.Series) -> pd.DataFrame:
    a = t.activity[t.activity["pregnancy_id"].isin(pregnancies)]
    default_tier = t.ref["services"].set_index("service")["default_tier"]
    a = a.assign(tier=a["tier"].fillna(a["service"].map(default_tier)))
    return placed(t, a, "activity_date")


def measures_of(t: RawTables, pregnancies: pd.Series) -> pd.DataFrame:
    return placed(t, t.measures[t.measures["pregnancy_id"].isin(pregnancies)], "measure_date")


def reach_follow_up(t: RawTables, measure: str) -> int:
    stages = t.ref["stages"]
    if measure in ("stage_reach", "specialist_access"):
        return int(stages.loc[stages["end_anchor"] == "birth", "end_offset_days"].max())
    if measure == "mood_screening":
        mask = (stages["end_anchor"] == "birth") & stages["stage"].isin(["antenatal", "postnatal"])
        return int(stages.loc[mask, "end_offset_days"].max())
    if measure in ("births", "waiting_times"):
        return 0
    windows = t.ref["contact_windows"].set_index("contact_code")
    return int(windows.loc[measure.split(".", 1)[1], "follow_up_days"])


def pathway_days(t: RawTables) -> int:
    return reach_follow_up(t, "stage_reach")


def pct(numerator, denominator):
    numerator = np.asarray(numerator, float)
    denominator = np.asarray(denominator, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, 100.0 * numerator / denominator, np.nan)


def grid(**levels) -> pd.DataFrame:
    """Every combination of the given levels (the rows a metric shows, zeros included)."""
    index = pd.MultiIndex.from_product(list(levels.values()), names=list(levels))
    return index.to_frame(index=False)


def tiers(t: RawTables) -> list[str]:
    codes = t.ref["codes"]
    return sorted(codes.loc[codes["code_list"] == "tier", "canonical"].unique())


def reaching(t: RawTables, events: pd.DataFrame, as_at) -> pd.DataFrame:
    return events[(events["attendance"] == "attended") & events["activity_type"].isin(REACHING_TYPES)
                  & (events["stage"] != "outside") & (events["activity_date"] <= ts(as_at))]


def with_counts(frame: pd.DataFrame, counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.merge(counts, on=keys, how="left")
    value_columns = [c for c in counts.columns if c not in keys]
    out[value_columns] = out[value_columns].fillna(0).astype(int)
    return out


# ---- the metrics --------------------------------------------------------------------------
def births(t: RawTables, b: dict) -> pd.DataFrame:
    c = t.cohort.merge(areas_for(t, b["area"]), on="area_code")
    c["when"] = c["birth_date"].fillna(c["edd"])
    c = c[(c["when"] >= ts(b["date_from"])) & (c["when"] <= ts(b["date_to"])) & (c["when"] <= ts(b["as_at"]))]
    lmp = pd.to_timedelta(t.parameter("lmp_days_before_edd"), "D")
    gestation = (c["booking_date"] - (c["edd"] - lmp)).dt.days
    c["booked"] = gestation <= t.parameter("booking_by_13_weeks_max_days")
    c["live"] = (c["outcome"] == "live_birth") & c["birth_date"].notna()
    grain = b.get("grain", "whole")
    if grain == "whole":
        label = f"{b['date_from']}/{b['date_to']}"
        c["period"] = label
        periods = [label]
    else:
        freq = {"month": "M", "quarter": "Q", "year": "Y"}[grain]
        c["period"] = c["when"].dt.to_period(freq).astype(str).str.replace("Q", "-Q")
        periods = pd.period_range(ts(b["date_from"]), ts(b["date_to"]), freq=freq).astype(str)
        periods = [p.replace("Q", "-Q") for p in periods]
    counts = c.groupby(["report_code", "period"]).agg(
        live_births=("live", "sum"), pregnancies=("pregnancy_id", "size"),
        booked_by_13_weeks=("booked", "sum")).reset_index().rename(columns={"report_code": "area_code"})
    out = with_counts(grid(area_code=reporting_codes(t, b["area"]), period=periods), counts,
                      ["area_code", "period"])
    out["booked_by_13_weeks_pct"] = pct(out["booked_by_13_weeks"], out["pregnancies"])
    return out


def stage_reach(t: RawTables, b: dict) -> pd.DataFrame:
    cohort = live_births(t, b, b["follow_up_days"])
    events = reaching(t, activity_of(t, cohort["pregnancy_id"]), b["as_at"])
    events = events.merge(cohort[["pregnancy_id", "report_code"]], on="pregnancy_id")
    reached = (events.groupby(["report_code", "stage", "tier"])["pregnancy_id"].nunique()
               .rename("reached").reset_index().rename(columns={"report_code": "area_code"}))
    sizes = cohort.groupby("report_code").size().rename("cohort").reset_index()
    out = grid(area_code=reporting_codes(t, b["area"]), stage=list(t.ref["stages"]["stage"]),
               tier=tiers(t))
    out = with_counts(out, reached, ["area_code", "stage", "tier"])
    out = with_counts(out, sizes.rename(columns={"report_code": "area_code"}), ["area_code"])
    out["pct"] = pct(out["reached"], out["cohort"])
    return out


def mandated_contacts(t: RawTables, b: dict) -> pd.DataFrame:
    cohort = live_births(t, b, None)
    events = activity_of(t, cohort["pregnancy_id"])
    events = events[(events["attendance"] == "attended") & events["activity_type"].isin(REACHING_TYPES)
                    & (events["activity_date"] <= ts(b["as_at"]))]
    anchors = {"edd": "due_date", "birth": "pathway_birth_date"}
    rows = []
    for _, w in t.ref["contact_windows"].iterrows():
        eligible = cohort[cohort["birth_date"] + pd.to_timedelta(w["follow_up_days"], "D") <= ts(b["as_at"])]
        e = events[events["contact_code"] == w["source_contact_code"]]
        start = e[anchors[w["window_start_anchor"]]] + pd.to_timedelta(w["window_start_offset_days"], "D")
        end = e[anchors[w["window_end_anchor"]]] + pd.to_timedelta(w["window_end_offset_days"], "D")
        on_time = set(e.loc[(e["activity_date"] >= start) & (e["activity_date"] <= end), "pregnancy_id"])
        for code, births_of_area in eligible.groupby("report_code"):
            rows.append({"area_code": code, "contact_code": w["contact_code"],
                         "denominator": len(births_of_area),
                         "numerator": int(births_of_area["pregnancy_id"].isin(on_time).sum())})
    counts = pd.DataFrame(rows, columns=["area_code", "contact_code", "denominator", "numerator"])
    out = with_counts(grid(area_code=reporting_codes(t, b["area"]),
                           contact_code=list(t.ref["contact_windows"]["contact_code"])),
                      counts, ["area_code", "contact_code"])
    out["pct"] = pct(out["numerator"], out["denominator"])
    return out


def mood_screening(t: RawTables, b: dict) -> pd.DataFrame:
    cohort = live_births(t, b, b["follow_up_days"])
    instruments = t.ref["instruments"]
    screens = set(instruments.loc[instruments["is_mood_screen"].astype(bool), "instrument"])
    m = measures_of(t, cohort["pregnancy_id"])
    m = m[m["instrument"].isin(screens) & m["stage"].isin(["antenatal", "postnatal"])
          & (m["measure_date"] <= ts(b["as_at"]))]
    m = m.merge(cohort[["pregnancy_id", "report_code"]], on="pregnancy_id")
    screened = (m.groupby(["report_code", "stage"])["pregnancy_id"].nunique().rename("screened")
                .reset_index().rename(columns={"report_code": "area_code"}))
    sizes = cohort.groupby("report_code").size().rename("cohort").reset_index()
    out = grid(area_code=reporting_codes(t, b["area"]), stage=["antenatal", "postnatal"])
    out = with_counts(out, screened, ["area_code", "stage"])
    out = with_counts(out, sizes.rename(columns={"report_code": "area_code"}), ["area_code"])
    out["pct"] = pct(out["screened"], out["cohort"])
    return out


def specialist_accessed(t: RawTables, cohort: pd.DataFrame, as_at) -> set:
    e = activity_of(t, cohort["pregnancy_id"])
    e = e[(e["attendance"] == "attended") & e["activity_type"].isin(["assessment", "intervention"])
          & e["service"].isin(SPECIALIST_SERVICES) & e["stage"].isin(["antenatal", "postnatal", "infant"])
          & (e["activity_date"] <= ts(as_at))]
    return set(e["pregnancy_id"])


def specialist_access(t: RawTables, b: dict) -> pd.DataFrame:
    cohort = live_births(t, b, b["follow_up_days"])
    accessed = specialist_accessed(t, cohort, b["as_at"])
    cohort = cohort.assign(accessed=cohort["pregnancy_id"].isin(accessed))
    counts = (cohort.groupby("report_code").agg(live_births=("pregnancy_id", "size"),
                                                accessed=("accessed", "sum"))
              .reset_index().rename(columns={"report_code": "area_code"}))
    out = with_counts(pd.DataFrame({"area_code": reporting_codes(t, b["area"])}), counts, ["area_code"])
    prevalence = t.ref["prevalence"]
    per_1000 = prevalence.loc[prevalence["specialist_need"].astype(bool), f"per_1000_{b['need']}"].sum()
    out["access_pct"] = pct(out["accessed"], out["live_births"])
    out["expected_need"] = out["live_births"] * per_1000 / 1000.0
    out["need_met_pct"] = pct(out["accessed"], out["expected_need"])
    return out


def is_case(frame: pd.DataFrame, instruments: pd.DataFrame, score: str = "score") -> pd.Series:
    i = frame[["instrument"]].merge(instruments, on="instrument", how="left")
    threshold = i["case_threshold"].to_numpy(float)
    higher = i["higher_is_better"].fillna(False).astype(bool).to_numpy()
    s = frame[score].to_numpy(float)
    return pd.Series(np.where(higher, s <= threshold, s >= threshold), index=frame.index)


def referral_funnel(t: RawTables, b: dict) -> pd.DataFrame:
    cohort = live_births(t, b, b["follow_up_days"])
    a = activity_of(t, cohort["pregnancy_id"])
    a = a[(a["stage"] != "outside") & (a["activity_date"] <= ts(b["as_at"])) & a["service"].notna()]
    m = measures_of(t, cohort["pregnancy_id"])
    m = m[(m["stage"] != "outside") & (m["measure_date"] <= ts(b["as_at"])) & m["service"].notna()]
    attended = a["attendance"] == "attended"
    screens = m[m["timepoint"] == "screen"]
    positive = screens[is_case(screens, t.ref["instruments"])]
    key = ["pregnancy_id", "service"]
    screened = pd.concat([a.loc[attended & (a["activity_type"] == "screening"), key], screens[key]])
    treated = a[attended & (a["activity_type"] == "intervention")].groupby(key)["activity_date"].min()
    discharged = a[a["activity_type"] == "discharge"].groupby(key)["activity_date"].max()
    both = pd.concat([treated.rename("treated"), discharged.rename("discharged")], axis=1).dropna()
    completed = both[both["discharged"] >= both["treated"]].reset_index()[key]

    def per_area(pairs: pd.DataFrame, name: str) -> pd.DataFrame:
        pairs = pairs.drop_duplicates().merge(cohort[["pregnancy_id", "report_code"]], on="pregnancy_id")
        return (pairs.groupby(["report_code", "service"]).size().rename(name).reset_index()
                .rename(columns={"report_code": "area_code"}))

    out = grid(area_code=reporting_codes(t, b["area"]), service=list(t.ref["services"]["service"]))
    for name, pairs in (("screened", screened), ("screen_positive", positive[key]),
                        ("referred", a.loc[a["activity_type"] == "referral", key]),
                        ("assessed", a.loc[attended & (a["activity_type"] == "assessment"), key]),
                        ("treated", treated.reset_index()[key]), ("completed", completed)):
        out = with_counts(out, per_area(pairs, name), ["area_code", "service"])
    return out


def referral_waits(t: RawTables, cohort: pd.DataFrame, as_at, *, service=None,
                   referred_from=None, referred_to=None) -> pd.DataFrame:
    """Each referral (in a stage, by as_at) with the days to the first attended assessment,
    contact or intervention with the same service on or after it (NaN when not seen)."""
    a = activity_of(t, cohort["pregnancy_id"])
    a = a[(a["stage"] != "outside") & (a["activity_date"] <= ts(as_at))]
    if service is not None:
        a = a[a["service"] == service]
    referrals = a[a["activity_type"] == "referral"][["activity_id", "pregnancy_id", "service", "activity_date"]]
    if referred_from is not None:
        referrals = referrals[(referrals["activity_date"] >= ts(referred_from))
                              & (referrals["activity_date"] <= ts(referred_to))]
    seen = a[(a["attendance"] == "attended") & a["activity_type"].isin(SEEN_TYPES)][
        ["pregnancy_id", "service", "activity_date"]]
    pairs = referrals.merge(seen, on=["pregnancy_id", "service"], suffixes=("", "_seen"))
    pairs = pairs[pairs["activity_date_seen"] >= pairs["activity_date"]]
    first = pairs.groupby("activity_id")["activity_date_seen"].min()
    referrals = referrals.assign(days=(referrals["activity_id"].map(first) - referrals["activity_date"]).dt.days)
    return referrals.merge(cohort[["pregnancy_id", "report_code"]], on="pregnancy_id")


def waiting_times(t: RawTables, b: dict) -> pd.DataFrame:
    cohort = live_births(t, b, b["follow_up_days"])
    waits = referral_waits(t, cohort, b["as_at"])
    standard = t.parameter("waiting_time_standard_days")
    counts = waits.groupby(["report_code", "service"]).agg(
        referrals=("activity_id", "size"), seen=("days", "count"),
        median_days=("days", lambda d: d.quantile(0.5)), p90_days=("days", lambda d: d.quantile(0.9)),
        seen_within_28_days=("days", lambda d: int((d <= standard).sum()))).reset_index()
    counts = counts.rename(columns={"report_code": "area_code"})
    out = grid(area_code=reporting_codes(t, b["area"]), service=list(t.ref["services"]["service"]))
    out = out.merge(counts, on=["area_code", "service"], how="left")
    for column in ("referrals", "seen", "seen_within_28_days"):
        out[column] = out[column].fillna(0).astype(int)
    out["seen_within_28_days_pct"] = pct(out["seen_within_28_days"], out["referrals"])
    return out


def outcomes(t: RawTables, b: dict) -> pd.DataFrame:
    instruments = t.ref["instruments"]
    everyone = t.measures[t.measures["pregnancy_id"].isin(t.cohort["pregnancy_id"])]
    courses = everyone[everyone["timepoint"].isin(["baseline", "end"]) & everyone["service"].notna()]
    course_types = courses[["service", "instrument"]].drop_duplicates()
    course_types = course_types[course_types["instrument"].isin(instruments["instrument"])]

    cohort = live_births(t, b, b["follow_up_days"])
    m = measures_of(t, cohort["pregnancy_id"])
    m = m[m["timepoint"].isin(["baseline", "end"]) & m["service"].notna() & (m["stage"] != "outside")
          & (m["measure_date"] <= ts(b["as_at"]))]
    key = ["pregnancy_id", "service", "instrument"]
    ordered = m.sort_values(key + ["measure_date", "measure_id"])
    first_baseline = ordered[ordered["timepoint"] == "baseline"].groupby(key).head(1)
    last_end = ordered[ordered["timepoint"] == "end"].groupby(key).tail(1)
    pairs = first_baseline.merge(last_end, on=key, suffixes=("_b", "_e"))
    pairs = pairs[pairs["measure_date_e"] >= pairs["measure_date_b"]]
    pairs = pairs.merge(instruments, on="instrument").merge(cohort[["pregnancy_id", "report_code"]],
                                                            on="pregnancy_id")
    higher = pairs["higher_is_better"].astype(bool)
    improvement = np.where(higher, pairs["score_e"] - pairs["score_b"], pairs["score_b"] - pairs["score_e"])
    pairs["improved"] = improvement >= pairs["reliable_change"]
    pairs["deteriorated"] = -improvement >= pairs["reliable_change"]
    pairs["case_b"] = np.where(higher, pairs["score_b"] <= pairs["case_threshold"],
                               pairs["score_b"] >= pairs["case_threshold"])
    pairs["case_e"] = np.where(higher, pairs["score_e"] <= pairs["case_threshold"],
                               pairs["score_e"] >= pairs["case_threshold"])
    pairs["recovered"] = pairs["case_b"] & ~pairs["case_e"]
    counts = pairs.groupby(["report_code", "service", "instrument"]).agg(
        paired=("pregnancy_id", "size"), mean_baseline=("score_b", "mean"), mean_end=("score_e", "mean"),
        reliably_improved=("improved", "sum"), reliably_deteriorated=("deteriorated", "sum"),
        cases_at_baseline=("case_b", "sum"), recovered=("recovered", "sum")).reset_index()
    counts = counts.rename(columns={"report_code": "area_code"})
    out = pd.DataFrame({"area_code": reporting_codes(t, b["area"])}).merge(course_types, how="cross")
    out = out.merge(counts, on=["area_code", "service", "instrument"], how="left")
    for column in ("paired", "reliably_improved", "reliably_deteriorated", "cases_at_baseline", "recovered"):
        out[column] = out[column].fillna(0)
    measurable = out["instrument"].map(instruments.set_index("instrument")["reliable_change"]).notna()
    for column in ("reliably_improved", "reliably_deteriorated"):
        out[column] = out[column].where(measurable)
    out["reliable_improvement_pct"] = pct(out["reliably_improved"], out["paired"])
    out["reliable_deterioration_pct"] = pct(out["reliably_deteriorated"], out["paired"])
    out["recovered_pct"] = pct(out["recovered"], out["cases_at_baseline"])
    return out


# equity and trend share "reached by a reach measure"
def reached_by(t: RawTables, cohort: pd.DataFrame, b: dict) -> set:
    measure, as_at = b["measure"], b["as_at"]
    if measure == "specialist_access":
        return specialist_accessed(t, cohort, as_at)
    if measure == "stage_reach":
        e = reaching(t, activity_of(t, cohort["pregnancy_id"]), as_at)
        e = e[e["tier"] == b["tier"]]
        if b["stage"] != "any":
            e = e[e["stage"] == b["stage"]]
        return set(e["pregnancy_id"])
    if measure == "mood_screening":
        instruments = t.ref["instruments"]
        screens = set(instruments.loc[instruments["is_mood_screen"].astype(bool), "instrument"])
        m = measures_of(t, cohort["pregnancy_id"])
        stages = ["antenatal", "postnatal"] if b["stage"] == "any" else [b["stage"]]
        m = m[m["instrument"].isin(screens) & m["stage"].isin(stages) & (m["measure_date"] <= ts(as_at))]
        return set(m["pregnancy_id"])
    contact = measure.split(".", 1)[1]
    w = t.ref["contact_windows"].set_index("contact_code").loc[contact]
    e = activity_of(t, cohort["pregnancy_id"])
    e = e[(e["attendance"] == "attended") & e["activity_type"].isin(REACHING_TYPES)
          & (e["contact_code"] == w["source_contact_code"]) & (e["activity_date"] <= ts(as_at))]
    anchors = {"edd": "due_date", "birth": "pathway_birth_date"}
    start = e[anchors[w["window_start_anchor"]]] + pd.to_timedelta(w["window_start_offset_days"], "D")
    end = e[anchors[w["window_end_anchor"]]] + pd.to_timedelta(w["window_end_offset_days"], "D")
    return set(e.loc[(e["activity_date"] >= start) & (e["activity_date"] <= end), "pregnancy_id"])


def equity(t: RawTables, b: dict) -> pd.DataFrame:
    cohort = live_births(t, b, reach_follow_up(t, b["measure"]))
    reached = reached_by(t, cohort, b)
    groups = t.ref["equity_groups"]
    rf = t.risk_factors[t.risk_factors["pregnancy_id"].isin(cohort["pregnancy_id"])]
    present = rf.groupby("pregnancy_id")["present"].agg(
        lambda p: p.fillna(False).astype(bool).sum() if p.notna().any() else np.nan)
    values = {"imd_quintile": cohort["imd_decile"], "age_band": cohort["parent_age"],
              "risk_factors": cohort["pregnancy_id"].map(present)}
    people = []
    for dimension in groups["dimension"].unique():
        g = groups[groups["dimension"] == dimension]
        if dimension == "ethnic_group":
            group = cohort["ethnic_group"].where(cohort["ethnic_group"].isin(g["group_name"]))
        else:
            value = pd.to_numeric(values[dimension], errors="coerce").astype(float)
            group = pd.Series(None, index=cohort.index, dtype=object)
            for _, row in g.iterrows():
                inside = value.notna()
                if pd.notna(row["min_value"]):
                    inside &= value >= row["min_value"]
                if pd.notna(row["max_value"]):
                    inside &= value <= row["max_value"]
                group[inside] = row["group_name"]
        frame = pd.DataFrame({"pregnancy_id": cohort["pregnancy_id"], "dimension": dimension,
                              "group": group.fillna("Not known")})
        people += [frame, frame.assign(group="all")]
    flags = rf[rf["present"].fillna(False).astype(bool)]
    people.append(pd.DataFrame({"pregnancy_id": flags["pregnancy_id"], "dimension": "risk_factor",
                                "group": flags["risk_factor"]}))
    people = pd.concat(people)
    people["reached"] = people["pregnancy_id"].isin(reached)
    counts = people.groupby(["dimension", "group"]).agg(cohort=("pregnancy_id", "size"),
                                                        reached=("reached", "sum")).reset_index()
    shown = [groups[["dimension", "group_name"]].rename(columns={"group_name": "group"})]
    for dimension in groups["dimension"].unique():
        shown.append(pd.DataFrame({"dimension": [dimension, dimension], "group": ["Not known", "all"]}))
    shown.append(pd.DataFrame({"dimension": "risk_factor",
                               "group": sorted(t.risk_factors["risk_factor"].unique())}))
    out = with_counts(pd.concat(shown, ignore_index=True), counts, ["dimension", "group"])
    out["area_code"] = b["area"]
    out["pct"] = pct(out["reached"], out["cohort"])
    reference = groups[groups["is_reference"].astype(bool)].set_index("dimension")["group_name"]
    reference_dimension = out["dimension"].replace({"risk_factor": "risk_factors"})
    out["reference_group"] = reference_dimension.map(reference)
    reference_pct = out.set_index(["dimension", "group"])["pct"]
    against = [reference_pct.get((d, g), np.nan) for d, g in zip(reference_dimension, out["reference_group"])]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate_ratio"] = np.where(np.asarray(against, float) > 0, out["pct"] / np.asarray(against, float),
                                     np.nan)
    return out


def service_gaps(t: RawTables, b: dict) -> pd.DataFrame:
    everyone = live_births(t, {**b, "area": "all"}, b["follow_up_days"])
    events = reaching(t, activity_of(t, everyone["pregnancy_id"]), b["as_at"])
    events = events.merge(everyone[["pregnancy_id", "area_code"]], on="pregnancy_id",
                          suffixes=("_event", ""))
    if b["gaps_by"] == "tier":
        units = pd.DataFrame({"tier": tiers(t), "service": "all"})
        reached = events.groupby(["area_code", "stage", "tier"])["pregnancy_id"].nunique()
        reached = reached.rename("reached").reset_index().assign(service="all")
    else:
        services = t.ref["services"]
        units = pd.DataFrame({"tier": services["default_tier"], "service": services["service"]})
        reached = events.groupby(["area_code", "stage", "service"])["pregnancy_id"].nunique()
        reached = reached.rename("reached").reset_index().merge(units, on="service")
    cells = grid(area_code=list(t.areas["area_code"]), stage=list(t.ref["stages"]["stage"]))
    cells = cells.merge(units, how="cross")
    cells = with_counts(cells, reached[["area_code", "stage", "tier", "service", "reached"]],
                        ["area_code", "stage", "tier", "service"])
    sizes = everyone.groupby("area_code").size().rename("cohort").reset_index()
    cells = with_counts(cells, sizes, ["area_code"])
    judged = cells[cells["cohort"] > 0].assign(p=lambda f: 100.0 * f["reached"] / f["cohort"])
    medians = judged.groupby(["stage", "tier", "service"])["p"].median().rename("benchmark_pct").reset_index()
    standards = t.ref["reach_standards"].rename(columns={"standard_pct": "standard"})
    medians = medians.merge(standards[["stage", "tier", "standard"]], on=["stage", "tier"], how="left")
    medians.loc[medians["service"] != "all", "standard"] = np.nan
    medians["benchmark_pct"] = medians["standard"].fillna(medians["benchmark_pct"])
    selected = cells.merge(areas_for(t, b["area"]), on="area_code")
    out = (selected.groupby(["report_code", "stage", "tier", "service"])[["reached", "cohort"]].sum()
           .reset_index().rename(columns={"report_code": "area_code"}))
    out = out.merge(medians[["stage", "tier", "service", "benchmark_pct"]], on=["stage", "tier", "service"],
                    how="left")
    out["pct"] = pct(out["reached"], out["cohort"])
    out["gap_pp"] = out["benchmark_pct"] - out["pct"]
    shortfall = np.nan_to_num(out["benchmark_pct"] * out["cohort"] / 100 - out["reached"] + 1e-9, nan=0.0)
    out["unmet"] = np.floor(np.clip(shortfall, 0, None)).astype(int)
    _, high = wilson_interval(out["reached"], out["cohort"])
    out["flag"] = np.select([out["cohort"] == 0, (out["reached"] == 0) & (out["benchmark_pct"] > 0),
                             high < out["benchmark_pct"]], ["no_cohort", "no_service", "below_benchmark"],
                            default="ok")
    return out


def economic_case(t: RawTables, b: dict) -> pd.DataFrame:
    """Written out row by row, independently of pathway.economics (the cross-check)."""
    deflators = t.ref["deflators"].set_index("price_year")["index_value"].astype(float)
    price_year = b.get("price_year") or max(deflators.index)

    def setting(bind, name):
        return b.get(bind) if b.get(bind) is not None else t.parameter(name)

    effect = setting("effect", "effect_avoided_share")
    targets = {"specialist": setting("target_access_pct", "national_ambition_pct"),
               "targeted": setting("targeted_target_pct", "targeted_target_pct")}
    public_share = setting("public_share", "public_sector_share_of_cost")
    nhs_share = setting("nhs_social_care_share", "nhs_social_care_share_of_cost")

    def uplift(year):
        return deflators[price_year] / deflators[year]

    k = t.ref["economic_conditions"].sort_values("sort_order").merge(
        t.ref["costs"], left_on="cost_condition", right_on="condition", how="left", suffixes=("", "_cost"))
    k["per_1000"] = k[f"per_1000_{b['need']}"].astype(float)
    services = t.ref["services"].set_index("service")["default_tier"]
    mapping = t.ref["condition_services"].assign(tier=lambda m: m["service"].map(services))
    unit_costs = t.ref["unit_costs"].set_index("item")
    episode = {tier: unit_costs.loc[f"{tier}_episode", "cost"] * uplift(unit_costs.loc[f"{tier}_episode", "price_year"])
               for tier in ("specialist", "targeted")}

    cohort = live_births(t, b, b["follow_up_days"])
    a = activity_of(t, cohort["pregnancy_id"])
    a = a[(a["attendance"] == "attended") & a["activity_type"].isin(["assessment", "intervention"])
          & a["stage"].isin(["antenatal", "postnatal", "infant"]) & (a["activity_date"] <= ts(b["as_at"]))
          & a["service"].isin(mapping["service"])]
    a = a.merge(cohort[["pregnancy_id", "report_code"]], on="pregnancy_id")
    births_by_area = cohort.groupby("report_code").size()
    rows = []
    for area in reporting_codes(t, b["area"]):
        births_here = int(births_by_area.get(area, 0))
        here = a[a["report_code"] == area]
        by_tier = {tier: here.loc[here["service"].map(services) == tier, "pregnancy_id"].nunique()
                   for tier in ("specialist", "targeted")}
        extra = {tier: max(targets[tier] * births_here / 100.0 - by_tier[tier], 0.0) for tier in by_tier}
        for _, c in k.iterrows():
            costed = pd.notna(c["cost_per_case"])
            cost = c["cost_per_case"] * uplift(c["price_year"]) if costed else np.nan
            expected = births_here * c["per_1000"] / 1000.0
            treating = set(mapping.loc[mapping["condition"] == c["condition"], "service"])
            spend = extra_treated = extra_spend = 0.0
            for tier in ("specialist", "targeted"):
                tier_conditions = set(mapping.loc[mapping["tier"] == tier, "condition"])
                if c["condition"] not in tier_conditions:
                    continue
                share = c["per_1000"] / k.loc[k["condition"].isin(tier_conditions), "per_1000"].sum()
                spend += by_tier[tier] * share * episode[tier]
                extra_treated += extra[tier] * share
                extra_spend += extra[tier] * share * episode[tier]
            avoided = extra_treated * cost * effect
            avoided_public = avoided * public_share
            rows.append({
                "area_code": area, "condition": c["condition"], "live_births": births_here,
                "per_1000": c["per_1000"], "expected_cases": expected, "cost_per_case": cost,
                "cost_of_illness": expected * cost,
                "mother_cost": expected * c["mother_cost"] * uplift(c["price_year"]) if costed else np.nan,
                "child_cost": expected * c["child_cost"] * uplift(c["price_year"]) if costed else np.nan,
                "public_sector_cost": expected * cost * public_share,
                "nhs_social_care_cost": expected * cost * nhs_share,
                "treated": here.loc[here["service"].isin(treating), "pregnancy_id"].nunique(),
                "specialist_treated": by_tier["specialist"], "targeted_treated": by_tier["targeted"],
                "current_service_spend": spend, "target_access_pct": targets["specialist"],
                "targeted_target_pct": targets["targeted"], "extra_treated": extra_treated,
                "extra_spend": extra_spend, "avoided_cost": avoided, "avoided_public_cost": avoided_public,
                "net_benefit": avoided - extra_spend, "net_benefit_public": avoided_public - extra_spend,
                "roi_society": avoided / extra_spend if extra_spend else np.nan,
                "roi_public": avoided_public / extra_spend if extra_spend else np.nan,
                "effect": effect, "price_year": price_year})
    out = pd.DataFrame(rows)
    out["roi"] = out["roi_society"]
    return out


def trend(t: RawTables, b: dict) -> pd.DataFrame:
    measure = b["measure"]
    start = ts(b["date_from"]).to_period("M")
    months = pd.period_range(start, ts(b["date_to"]).to_period("M"), freq="M")
    out = grid(area_code=reporting_codes(t, b["area"]), month=[str(m) for m in months])
    if measure == "waiting_times":
        births_any_date = live_births(t, {**b, "date_from": "1900-01-01", "date_to": "2999-12-31"}, None)
        waits = referral_waits(t, births_any_date, b["as_at"], service=b["service"],
                               referred_from=b["date_from"], referred_to=b["date_to"])
        waits["month"] = waits["activity_date"].dt.to_period("M").astype(str)
        counts = waits.groupby(["report_code", "month"]).agg(
            denominator=("activity_id", "size"), numerator=("days", "count"),
            value=("days", "median")).reset_index().rename(columns={"report_code": "area_code"})
        out = out.merge(counts, on=["area_code", "month"], how="left")
        out[["numerator", "denominator"]] = out[["numerator", "denominator"]].fillna(0).astype(int)
    else:
        cohort = live_births(t, b, reach_follow_up(t, measure))
        cohort = cohort[cohort["birth_date"] <= ts(b["as_at"])]
        cohort = cohort.assign(month=cohort["birth_date"].dt.to_period("M").astype(str))
        if measure != "births":
            cohort["reached"] = cohort["pregnancy_id"].isin(reached_by(t, cohort, b))
        else:
            cohort["reached"] = False
        counts = cohort.groupby(["report_code", "month"]).agg(
            births=("pregnancy_id", "size"), reached=("reached", "sum")).reset_index()
        out = with_counts(out, counts.rename(columns={"report_code": "area_code"}), ["area_code", "month"])
        if measure == "births":
            out["numerator"], out["denominator"] = out["births"], np.nan
            out["value"] = out["births"].astype(float)
        else:
            out["numerator"], out["denominator"] = out["reached"], out["births"]
            out["value"] = pct(out["reached"], out["births"])
    improvement = {"births": None, "waiting_times": "down"}.get(measure, "up")
    charts = [xmr_chart(rows["value"].astype(float), improvement=improvement)
              for _, rows in out.groupby("area_code", sort=False)]
    limits = pd.concat(charts)[["mean", "upper_limit", "lower_limit", "special_cause"]]
    return pd.concat([out, limits], axis=1)


def data_quality(t: RawTables, b: dict) -> pd.DataFrame:
    tables = {"areas": t.areas, "cohort": t.cohort, "activity": t.activity, "measures": t.measures}
    columns = {
        "areas": ["area_code", "area_name", "icb_code", "icb_name", "region_code", "region_name"],
        "cohort": ["pregnancy_id", "person_id", "area_code", "booking_date", "edd", "birth_date",
                   "outcome", "parent_age", "ethnic_group", "imd_decile"],
        "activity": ["activity_id", "pregnancy_id", "service", "activity_type", "activity_date",
                     "contact_code", "attendance", "tier", "referral_source", "provider_code"],
        "measures": ["measure_id", "pregnancy_id", "instrument", "score", "measure_date", "timepoint",
                     "service"],
    }
    activity = placed(t, t.activity, "activity_date")
    measures = placed(t, t.measures, "measure_date")
    ranges = measures.merge(t.ref["instruments"], on="instrument")
    dates = pregnancy_dates(t).set_index("pregnancy_id")
    booking = t.cohort.set_index("pregnancy_id")["booking_date"]
    invalid = {
        ("activity", "activity_date"): int((activity["stage"] == "outside").sum()),
        ("measures", "measure_date"): int((measures["stage"] == "outside").sum()),
        ("measures", "score"): int(((ranges["score"] < ranges["min_score"])
                                    | (ranges["score"] > ranges["max_score"])).sum()),
        ("cohort", "booking_date"): int(((booking < dates["conception_date"])
                                         | (booking >= dates["pathway_birth_date"])).sum()),
    }
    waiting = t.rejects[t.rejects["status"].isin(["rejected", "waiting"])]
    quarantined = waiting.groupby(["table_name", "column_name"]).size()
    loaded = t.load_log[t.load_log["outcome"] == "loaded"].groupby("table_name")["ended_at"].max()
    rows = []
    for table, names in columns.items():
        frame = tables[table]
        for name in names:
            rows.append({"table": table, "column": name, "rows": len(frame),
                         "completeness_pct": 100.0 * frame[name].notna().sum() / len(frame) if len(frame) else np.nan,
                         "invalid": invalid.get((table, name), 0),
                         "quarantined": int(quarantined.get((table, name), 0)),
                         "last_load": loaded.get(table)})
    return pd.DataFrame(rows)


def benchmarks(t: RawTables, b: dict) -> pd.DataFrame:
    out = t.benchmarks
    for column, bind in (("metric", "metric"), ("org_level", "org_level"), ("period", "period")):
        chosen = b.get(bind) or "all"
        if chosen != "all":
            out = out[out[column] == chosen]
    return out[["metric", "category", "population", "period", "org_level", "org_code", "numerator",
                "denominator", "pct"]]


METRICS: dict[str, Callable[[RawTables, dict], pd.DataFrame]] = {
    "births": births, "stage_reach": stage_reach, "mandated_contacts": mandated_contacts,
    "mood_screening": mood_screening, "specialist_access": specialist_access,
    "referral_funnel": referral_funnel, "waiting_times": waiting_times, "outcomes": outcomes,
    "equity": equity, "service_gaps": service_gaps, "economic_case": economic_case, "trend": trend,
    "data_quality": data_quality, "benchmarks": benchmarks,
}
assert set(METRICS) == set(catalogue.METRICS), "every catalogue metric has a pandas baseline"

