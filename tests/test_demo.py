"""The synthetic demo: reproducible files that meet the extract contract and carry the
planted service gaps (computed straight from the files), and a clean load through the loader."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from pathway.demo import PLANTED_GAPS, SCALES, build_demo, write_extracts
from pathway.demo.areas import county_areas, national_areas
from pathway.demo.population import pregnancies_per_area
from pathway.db import Warehouse
from pathway.resources import reference_dir

CONTRACT_COLUMNS = {
    "areas": ["area_code", "area_name", "icb_code", "icb_name", "region_code", "region_name"],
    "cohort": ["pregnancy_id", "person_id", "area_code", "booking_date", "edd", "birth_date",
               "outcome", "parent_age", "ethnic_group", "imd_decile"],
    "activity": ["activity_id", "pregnancy_id", "service", "activity_type", "activity_date",
                 "contact_code", "attendance", "tier", "referral_source",
                 "contact_mode", "subject", "infant_number"],
    "measures": ["measure_id", "pregnancy_id", "instrument", "score", "measure_date",
                 "timepoint", "service"],
}
RISK_FACTORS = ["rf_mental_health_history", "rf_domestic_abuse", "rf_substance_misuse",
                "rf_social_care", "rf_teenage_parent", "rf_asylum_or_migrant",
                "rf_learning_disability", "rf_previous_loss"]
CUTOFF = pd.Timestamp("2026-03-31")
NORTHMOOR, EASTFIELD, RIVERHOLME = "X60000001", "X60000002", "X60000003"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(reference_dir() / f"{name}.csv", dtype=str, keep_default_na=False)


def codes(code_list: str) -> set[str]:
    table = reference("codes")
    return set(table.loc[table["code_list"] == code_list, "code"])


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small demo written once, with its files read back as text (nothing parsed yet)."""
    folder = tmp_path_factory.mktemp("demo_small")
    paths = write_extracts(folder, seed=2024, scale="small")
    read = {path.stem: pd.read_csv(path, dtype=str, keep_default_na=False) for path in paths}
    return SimpleNamespace(paths=paths, **read)


@pytest.fixture(scope="module")
def journeys(small):
    """Activity with its pregnancy's area, IMD decile and birth date, and each row's tier."""
    cohort = small.cohort.assign(birth_date=pd.to_datetime(small.cohort["birth_date"]))
    default_tier = dict(zip(reference("services")["service"], reference("services")["default_tier"]))
    activity = small.activity.merge(
        cohort[["pregnancy_id", "area_code", "imd_decile", "birth_date"]], on="pregnancy_id")
    activity["activity_date"] = pd.to_datetime(activity["activity_date"])
    activity["tier"] = activity["tier"].where(activity["tier"] != "",
                                              activity["service"].map(default_tier))
    return activity


# ---- reproducibility --------------------------------------------------------------------
def test_same_seed_writes_byte_identical_files(small, tmp_path):
    again = write_extracts(tmp_path, seed=2024, scale="small")
    assert [sha256(p) for p in again] == [sha256(p) for p in small.paths]


def test_different_seed_writes_different_people_and_events(small, tmp_path):
    other = write_extracts(tmp_path, seed=7, scale="small")
    by_name = {p.name: sha256(p) for p in other}
    # The map is fixed; the people and what happens to them are not.
    assert by_name["areas.csv"] == sha256(small.paths[0])
    for path in small.paths[1:]:
        assert by_name[path.name] != sha256(path)


def test_files_come_in_load_order_named_for_their_tables(small):
    assert [p.name for p in small.paths] == ["areas.csv", "cohort.csv", "activity.csv", "measures.csv"]


def test_unknown_scale_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown demo scale 'huge': choose one of small, county, national"):
        write_extracts(Path("unused"), scale="huge")


# ---- the contract, section 1 -------------------------------------------------------------
def test_headers_are_the_contract_columns(small):
    for table, columns in CONTRACT_COLUMNS.items():
        expected = columns + (RISK_FACTORS + ["number_of_babies", "risk_identified_date"]
                              if table == "cohort" else [])
        assert list(getattr(small, table).columns) == expected


def test_codes_are_from_the_reference_lists(small):
    assert set(small.cohort["outcome"]) == codes("outcome")
    # The six groups, never NHS letters, in the main demo.
    assert set(small.cohort["ethnic_group"]) == {"White", "Mixed", "Asian", "Black", "Other", "Not stated"}
    services = set(reference("services")["service"])
    assert set(small.activity["service"]) <= services
    assert set(small.activity["activity_type"]) == codes("activity_type")
    assert set(small.activity["contact_code"]) - {""} == codes("contact_code")
    assert set(small.activity["attendance"]) == codes("attendance") | {""}
    assert set(small.activity["tier"]) <= codes("tier") | {""}
    assert set(small.measures["instrument"]) == set(reference("instruments")["instrument"])
    assert set(small.measures["timepoint"]) <= codes("timepoint")
    assert set(small.measures["service"]) <= services
    # contract v1.1: every mode, blank (unknown) among them; the birthing parent is blank
    assert set(small.activity["contact_mode"]) == codes("contact_mode") - {"face to face", "other"} | {""}
    assert set(small.activity["subject"]) == {"", "partner"}
    assert set(small.activity["infant_number"]) == {"", "2"}


def test_dates_are_iso_and_flags_are_true_or_false(small):
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for table, column in [("cohort", "booking_date"), ("cohort", "edd"), ("cohort", "birth_date"),
                          ("activity", "activity_date"), ("measures", "measure_date")]:
        values = getattr(small, table)[column]
        given = values[values != ""]
        assert given.str.match(iso).all(), (table, column)
        pd.to_datetime(given, format="%Y-%m-%d")  # raises on 2024-02-30 and the like
    for flag in RISK_FACTORS:
        assert set(small.cohort[flag]) == {"true", "false"}, flag


def test_numbers_are_in_their_ranges(small):
    ages = pd.to_numeric(small.cohort["parent_age"].replace("", None)).dropna()
    assert ages.between(10, 60).all()
    deciles = pd.to_numeric(small.cohort["imd_decile"].replace("", None)).dropna()
    assert set(deciles) == set(range(1, 11))
    ranges = reference("instruments").set_index("instrument")[["min_score", "max_score"]].astype(float)
    scores = small.measures.assign(score=small.measures["score"].astype(float)).join(ranges, on="instrument")
    assert scores["score"].between(scores["min_score"], scores["max_score"]).all()


def test_ids_are_unique_pseudonyms_never_nhs_numbers(small):
    assert small.cohort["pregnancy_id"].is_unique
    assert small.activity["activity_id"].is_unique
    assert small.measures["measure_id"].is_unique
    assert small.cohort["pregnancy_id"].str.fullmatch(r"P\d{7}").all()
    assert small.cohort["person_id"].str.fullmatch(r"M\d{7}").all()
    for table, column in [("cohort", "pregnancy_id"), ("cohort", "person_id"),
                          ("activity", "activity_id"), ("measures", "measure_id")]:
        assert not getattr(small, table)[column].str.fullmatch(r"\d{10}").any()


def test_every_event_belongs_to_a_pregnancy_and_every_pregnancy_to_an_area(small):
    pregnancies = set(small.cohort["pregnancy_id"])
    assert set(small.activity["pregnancy_id"]) <= pregnancies
    assert set(small.measures["pregnancy_id"]) <= pregnancies
    assert set(small.cohort["area_code"]) == set(small.areas["area_code"])
    # Synthetic codes: X, never a real ONS E/W/S/N prefix.
    for column in ["area_code", "icb_code", "region_code"]:
        assert small.areas[column].str.fullmatch(r"X\d{8}").all()


def test_birth_date_only_for_births_and_ongoing_pregnancies_booked_by_the_cutoff(small):
    cohort = small.cohort
    born = cohort["outcome"].isin(["live_birth", "stillbirth"])
    assert (cohort.loc[born, "birth_date"] != "").all()
    assert (cohort.loc[~born, "birth_date"] == "").all()
    ongoing = cohort[cohort["outcome"] == "ongoing"]
    assert len(ongoing) > 0
    assert (pd.to_datetime(ongoing["edd"]) > CUTOFF).all()
    assert (pd.to_datetime(ongoing["booking_date"]) <= CUTOFF).all()


def test_outcome_shares_are_near_the_brief(small):
    shares = small.cohort["outcome"].value_counts(normalize=True)
    ending = small.cohort[small.cohort["outcome"] != "ongoing"]["outcome"].value_counts(normalize=True)
    assert 0.01 < ending["loss"] < 0.03          # about 2% lost after booking
    assert ending.get("stillbirth", 0) < 0.012   # about 0.4%: a handful in 1,500
    assert shares["live_birth"] > 0.85


def test_calendar_is_fixed_and_follow_up_complete(small):
    births = pd.to_datetime(small.cohort["birth_date"].replace("", None)).dropna()
    assert births.min() >= pd.Timestamp("2022-04-01")
    assert births.max() <= pd.Timestamp("2025-03-31")
    # The data cut-off is the latest date of any event, so the default period is full.
    assert pd.to_datetime(small.activity["activity_date"]).max() == CUTOFF
    assert pd.to_datetime(small.measures["measure_date"]).max() <= CUTOFF


def test_edd_is_conception_plus_266_and_births_mostly_near_it(small):
    cohort = small.cohort[small.cohort["birth_date"] != ""]
    offset = (pd.to_datetime(cohort["birth_date"]) - pd.to_datetime(cohort["edd"])).dt.days
    assert offset.between(-14, 10).mean() > 0.8
    booked = small.cohort[small.cohort["booking_date"] != ""]
    gestation = (pd.to_datetime(booked["booking_date"])
                 - (pd.to_datetime(booked["edd"]) - pd.Timedelta(days=280))).dt.days
    # Most book by 12 weeks 6 days (day 90); some are late bookers.
    assert 0.75 < (gestation <= 90).mean() < 0.98


def test_pregnancies_per_area_are_scaled_to_the_small_total():
    # Small takes Northmoor, Eastfield and Riverholme (2,200 + 1,400 + 1,800 = 5,400 births a
    # year) and scales them to 1,500: 2,200/5,400 x 1,500 = 611.1, 1,400/5,400 x 1,500 = 388.9,
    # 1,800/5,400 x 1,500 = 500.
    small = SCALES["small"]
    assert list(pregnancies_per_area(small.areas(), small)) == [611, 389, 500]


def test_scales_have_the_shapes_the_brief_asks_for():
    county = county_areas()
    assert len(county) == 10
    assert len({a.icb_code for a in county}) == 2 and len({a.region_code for a in county}) == 1
    yearly = sum(a.births_per_year for a in county)
    assert 20_000 <= yearly * 3 <= 60_000
    national = national_areas()
    assert len(national) == 150 and len({a.area_code for a in national}) == 150
    assert len({a.area_name for a in national}) == 150
    assert len({a.icb_code for a in national}) == 42
    assert len({a.region_code for a in national}) == 7
    assert all(1000 <= a.births_per_year <= 15000 for a in national)
    assert 530_000 <= sum(a.births_per_year for a in national) <= 570_000
    assert SCALES["national"].births_from == date(2024, 4, 1)


def test_risk_factors_and_late_booking_are_commoner_in_deprived_deciles(small):
    cohort = small.cohort[small.cohort["imd_decile"] != ""]
    deprived = cohort["imd_decile"].astype(int) <= 3
    for flag in ["rf_domestic_abuse", "rf_social_care", "rf_substance_misuse"]:
        is_set = cohort[flag] == "true"
        assert is_set[deprived].mean() > is_set[~deprived].mean(), flag


def test_most_treated_women_improve(small):
    paired = (small.measures[small.measures["timepoint"].isin(["baseline", "end"])]
              .assign(score=lambda m: m["score"].astype(float))
              .pivot_table(index=["pregnancy_id", "service", "instrument"], columns="timepoint",
                           values="score", aggfunc="first").dropna())
    change = paired["end"] - paired["baseline"]
    instrument = paired.index.get_level_values("instrument")
    higher_is_better = instrument.isin(["PIRGAS", "KIPS"])
    # PIR-GAS and KIPS rise as the relationship improves; the other scores fall (LOAF's four
    # levels often stay level, so it is left out of the share).
    assert (change[~higher_is_better & (instrument != "LOAF")] < 0).mean() > 0.6
    assert (change[higher_is_better] > 0).mean() > 0.6
    assert (change[instrument == "LOAF"] > 0).mean() < 0.2


def test_data_quality_has_missed_contacts_and_events_outside_every_window(small, journeys):
    assert (journeys["attendance"] == "dna").sum() > 50
    two_years_on = (journeys["activity_date"] - journeys["birth_date"]).dt.days > 365 * 1.5
    assert two_years_on.sum() >= 1


# ---- the planted gaps --------------------------------------------------------------------
def test_planted_gaps_name_areas_present_at_every_scale():
    for gap in PLANTED_GAPS.values():
        for scale in SCALES.values():
            names = {a.area_code: a.area_name for a in scale.areas()}
            assert names[gap["area_code"]] == gap["area_name"]
        assert gap["gap"] and gap["shows_in"]


def test_eastfield_has_no_parent_infant_activity_while_others_do(journeys):
    rows = journeys[journeys["service"] == "parent_infant"].groupby("area_code").size()
    assert PLANTED_GAPS["no_parent_infant_team"]["area_code"] == EASTFIELD
    assert EASTFIELD not in rows.index
    assert rows[NORTHMOOR] > 20 and rows[RIVERHOLME] > 20


def test_riverholme_has_no_maternal_mh_activity_while_others_do(journeys):
    rows = journeys[journeys["service"] == "maternal_mh"].groupby("area_code").size()
    assert RIVERHOLME not in rows.index
    assert rows[NORTHMOOR] > 10 and rows[EASTFIELD] > 10


def test_riverholme_twelve_month_reviews_lag(small, journeys):
    births = small.cohort[small.cohort["outcome"] == "live_birth"].groupby("area_code").size()
    review = journeys[(journeys["contact_code"] == "twelve_month_review")
                      & (journeys["attendance"] == "attended")]
    day = (review["activity_date"] - review["birth_date"]).dt.days
    on_time = review[day <= 365].groupby("area_code")["pregnancy_id"].nunique() / births
    # Planted: 15% on time in Riverholme; elsewhere about 0.8 x 0.92 = 74%.
    assert on_time[RIVERHOLME] < 0.25
    assert on_time[NORTHMOOR] > 0.55 and on_time[EASTFIELD] > 0.55


def test_northmoor_reaches_its_most_deprived_families_far_less(small, journeys):
    reached = set(journeys.loc[journeys["tier"].isin(["targeted", "specialist"])
                               & journeys["activity_type"].isin(["screening", "assessment", "contact", "intervention"])
                               & (journeys["attendance"] == "attended"), "pregnancy_id"])
    cohort = small.cohort[small.cohort["imd_decile"] != ""].assign(
        reached=lambda c: c["pregnancy_id"].isin(reached),
        most_deprived=lambda c: c["imd_decile"].astype(int) <= 2,
        northmoor=lambda c: c["area_code"] == NORTHMOOR)
    reach = cohort.groupby(["northmoor", "most_deprived"])["reached"].mean()
    # Planted: Northmoor refers IMD 1-2 families at a fifth of the usual rate.
    assert reach[(True, True)] < 0.5 * reach[(False, True)]
    assert reach[(True, True)] < 0.6 * reach[(True, False)]
    # Elsewhere need drives reach, so the most deprived are reached at least as often.
    assert reach[(False, True)] > reach[(False, False)]


def test_twins_are_about_one_and_a_half_percent_with_contacts_for_each_baby(small, journeys):
    births = small.cohort[small.cohort["outcome"] == "live_birth"]
    twins = births[births["number_of_babies"] == "2"]
    # a demo assumption (about 1.5%, not confirmed against ONS multiple maternities)
    assert 0.007 < len(twins) / len(births) < 0.025
    second = journeys[journeys["infant_number"] == "2"]
    assert set(second["pregnancy_id"]) <= set(twins["pregnancy_id"])
    assert set(second["contact_code"]) >= {"new_birth_visit", "six_eight_week_review"}
    assert "antenatal_hv_contact" not in set(second["contact_code"])  # with the mother


def _women_seen(journeys, service, modes):
    seen = journeys[(journeys["service"] == service) & (journeys["attendance"] == "attended")
                    & journeys["activity_type"].isin(["contact", "assessment", "intervention"])
                    & (journeys["subject"] != "partner")]
    return seen.assign(counted=seen["contact_mode"].isin(modes)).groupby(
        ["area_code", "pregnancy_id"])["counted"].any()


def test_northmoor_sees_many_women_by_telephone_only(journeys):
    counted = _women_seen(journeys, "perinatal_mh", ["face_to_face", "video", ""])
    telephone_only = (~counted).groupby("area_code").mean()
    assert PLANTED_GAPS["telephone_follow_up"]["area_code"] == NORTHMOOR
    # planted: 45% of Northmoor's women by telephone only, 8% elsewhere
    assert telephone_only[NORTHMOOR] > 0.3
    assert telephone_only[EASTFIELD] < 0.2 and telephone_only[RIVERHOLME] < 0.2


def test_partners_are_assessed_in_some_areas_only(journeys):
    partners = journeys[journeys["subject"] == "partner"].groupby("area_code")["pregnancy_id"].nunique()
    assert PLANTED_GAPS["partners_seen_in_some_areas_only"]["area_code"] == EASTFIELD
    assert EASTFIELD not in partners.index
    assert partners[NORTHMOOR] >= 3 and partners[RIVERHOLME] >= 3


def test_riverholme_rarely_refers_families_with_a_risk_before_birth(small, journeys):
    flags = small.cohort[RISK_FACTORS].eq("true").any(axis=1)
    at_risk = small.cohort[flags & (small.cohort["outcome"] == "live_birth")]
    referrals = journeys[(journeys["activity_type"] == "referral")
                         & journeys["tier"].isin(["targeted", "specialist"])
                         & (journeys["activity_date"] < journeys["birth_date"])]
    referred = at_risk.assign(referred=at_risk["pregnancy_id"].isin(referrals["pregnancy_id"]))
    share = referred.groupby("area_code")["referred"].mean()
    assert PLANTED_GAPS["risk_not_referred_before_birth"]["area_code"] == RIVERHOLME
    assert share[RIVERHOLME] < 0.5 * share[NORTHMOOR]
    assert share[RIVERHOLME] < 0.5 * share[EASTFIELD]


# ---- Parquet for big files, and the real loader ------------------------------------------
def test_columnar_scale_writes_parquet_holding_the_same_rows(small, tmp_path, monkeypatch):
    monkeypatch.setitem(SCALES, "small_parquet", replace(SCALES["small"], name="small_parquet", columnar=True))
    paths = write_extracts(tmp_path, seed=2024, scale="small_parquet")
    assert [p.name for p in paths] == ["areas.csv", "cohort.csv", "activity.parquet", "measures.parquet"]
    activity = pd.read_parquet(paths[2])
    assert len(activity) == len(small.activity)
    assert list(activity.columns) == list(small.activity.columns)
    assert activity["activity_date"].astype(str).tolist() == small.activity["activity_date"].tolist()


def test_build_demo_loads_every_file_with_nothing_rejected(tmp_path):
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        warehouse.ensure_schema()
        summaries = build_demo(warehouse, seed=2024, scale="small", out_dir=tmp_path / "extracts")
        assert [s.outcome for s in summaries] == ["loaded"] * 4
        assert [s.rows_rejected for s in summaries] == [0] * 4
        files = {p.stem: len(pd.read_csv(p)) for p in (tmp_path / "extracts").glob("*.csv")}
        counts = warehouse.query(
            "SELECT (SELECT count(*) FROM areas) AS areas, (SELECT count(*) FROM cohort) AS cohort, "
            "(SELECT count(*) FROM activity) AS activity, (SELECT count(*) FROM measures) AS measures")
        assert counts.iloc[0].to_dict() == files
    finally:
        warehouse.dispose()
