"""Importing published benchmarks: NHS Maternity Statistics, Fingertips (export and data service)
and MHSDS layouts, suppression marks read as suppressed (never zero), and the benchmarks metric."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pathway.db import Warehouse
from pathway.metrics import run_metric
from pathway.published import load_benchmark_file

MISSING = "Missing value / Value outside reporting parameters"
MSDS_HEADER = "Period,Dimension,Org_Level,Org_Code,Org_Name,Measure,Count_Of,Value"
FINGERTIPS_HEADER = (
    "Indicator ID,Indicator Name,Parent Code,Parent Name,Area Code,Area Name,Area Type,Sex,Age,"
    "Category Type,Category,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,"
    "Lower CI 99.8 limit,Upper CI 99.8 limit,Count,Denominator,Value note,Recent Trend,"
    "Compared to England value or percentiles,Compared to Region value or percentiles,"
    "Time period Sortable,New data,Compared to goal")
DATA_SERVICE_HEADER = ("IndicatorId,Category,CategoryType,Age,Sex,Trend,Denominator,CategoryTypeId,"
                       "UpperCI,Value,Count,AreaCode,SexID,AgeID,Year,LowerCI,CategoryId")


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    w = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    w.ensure_schema()
    return w


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def msds_file(folder: Path, booked_value: str = "600") -> Path:
    booking = "GestAgeFormalAntenatalBookingGroup"
    rows = [
        # England: 600 + 200 booked by 90 days; 150 + 50 later; 25 missing
        f"2022-23,{booking},National,National,ALL SUBMITTERS,0 to 70 days,Deliveries,{booked_value}",
        f"2022-23,{booking},National,National,ALL SUBMITTERS,71 to 90 days,Deliveries,200",
        f"2022-23,{booking},National,National,ALL SUBMITTERS,91 to 140 days,Deliveries,150",
        f"2022-23,{booking},National,National,ALL SUBMITTERS,141+ days,Deliveries,50",
        f"2022-23,{booking},National,National,ALL SUBMITTERS,{MISSING},Deliveries,25",
        # a region: 90 + 30 of 90 + 30 + 30 = 150 (no missing row)
        f"2022-23,{booking},NHS England (Region),Y63,NORTH EAST AND YORKSHIRE COMMISSIONING REGION,0 to 70 days,Deliveries,90",
        f"2022-23,{booking},NHS England (Region),Y63,NORTH EAST AND YORKSHIRE COMMISSIONING REGION,71 to 90 days,Deliveries,30",
        f"2022-23,{booking},NHS England (Region),Y63,NORTH EAST AND YORKSHIRE COMMISSIONING REGION,91 to 140 days,Deliveries,30",
        # a provider with one category suppressed by the publisher
        f"2022-23,{booking},Provider,RXX,SMALL TRUST,0 to 70 days,Deliveries,40",
        f"2022-23,{booking},Provider,RXX,SMALL TRUST,71 to 90 days,Deliveries,*",
        f"2022-23,{booking},Provider,RXX,SMALL TRUST,91 to 140 days,Deliveries,10",
        # deprivation: quintile 1 = deciles 01 and 02; pseudo postcodes are not in the denominator
        "2022-23,DeprivationDecileAtBooking,National,National,ALL SUBMITTERS,01 - Most deprived,Deliveries,300",
        "2022-23,DeprivationDecileAtBooking,National,National,ALL SUBMITTERS,02,Deliveries,100",
        "2022-23,DeprivationDecileAtBooking,National,National,ALL SUBMITTERS,03,Deliveries,600",
        "2022-23,DeprivationDecileAtBooking,National,National,ALL SUBMITTERS,"
        "Pseudo postcode recorded (includes no fixed abode or resident overseas),Deliveries,40",
        "2022-23,BirthweightTermGroup,National,National,ALL SUBMITTERS,2500g and over,Babies,900",
    ]
    return write(folder / "hosp-epis-stat-mat-msdscsv-2022-23.csv", MSDS_HEADER, rows)


def benchmark(warehouse: Warehouse, **params) -> pd.DataFrame:
    return run_metric(warehouse, "benchmarks", params)


def one(frame: pd.DataFrame, **where) -> pd.Series:
    for column, value in where.items():
        frame = frame[frame[column] == value]
    assert len(frame) == 1, f"{len(frame)} rows match {where}"
    return frame.iloc[0]


# ---- NHS Maternity Statistics -------------------------------------------------------------

def test_msds_booking_by_12_weeks_6_days_is_counted_from_published_counts(warehouse, tmp_path):
    summary = load_benchmark_file(warehouse, msds_file(tmp_path))
    assert summary.outcome == "loaded", summary.message
    england = one(benchmark(warehouse, metric="births.booked_by_13_weeks"), org_level="national")
    # 600 + 200 booked by 90 days, of 600 + 200 + 150 + 50 = 1,000 with a known gestation;
    # the 25 'Missing value' deliveries are left out of the denominator and kept aside.
    assert (england.numerator, england.denominator, england.missing_excluded) == (800, 1000, 25)
    assert england.pct == pytest.approx(80.0)
    # Wilson 95% for 800/1000: centre (0.8 + z²/2000)/(1 + z²/1000) = 0.79885, half-width
    # z·sqrt(0.8·0.2/1000 + z²/4e6)/(1 + z²/1000) = 0.02477, so 77.41 to 82.36
    assert england.ci_low == pytest.approx(77.408, abs=1e-3)
    assert england.ci_high == pytest.approx(82.362, abs=1e-3)
    assert england.ci_method == "wilson"
    assert england.period == "2022-23" and england.source_file == "hosp-epis-stat-mat-msdscsv-2022-23.csv"


def test_msds_region_has_no_missing_row_so_its_whole_total_is_the_denominator(warehouse, tmp_path):
    load_benchmark_file(warehouse, msds_file(tmp_path))
    region = one(benchmark(warehouse, metric="births.booked_by_13_weeks", org_level="region"),
                 org_code="Y63")
    # 90 + 30 of 150
    assert (region.numerator, region.denominator, region.pct) == (120, 150, pytest.approx(80.0))


def test_a_suppressed_published_count_suppresses_the_figure_never_zero(warehouse, tmp_path):
    load_benchmark_file(warehouse, msds_file(tmp_path))
    provider = one(benchmark(warehouse, metric="births.booked_by_13_weeks", org_level="provider"),
                   org_code="RXX")
    assert bool(provider.suppressed) is True
    assert pd.isna(provider.numerator) and pd.isna(provider.pct) and pd.isna(provider.ci_low)


def test_msds_deprivation_deciles_make_the_equity_quintiles(warehouse, tmp_path):
    load_benchmark_file(warehouse, msds_file(tmp_path))
    quintile_1 = one(benchmark(warehouse, metric="equity.imd_quintile"), category="1")
    # deciles 01 + 02 = 400 of 300 + 100 + 600 = 1,000 (40 pseudo postcodes left out)
    assert (quintile_1.numerator, quintile_1.denominator, quintile_1.missing_excluded) == (400, 1000, 40)


def test_unmapped_msds_dimensions_are_named_in_the_summary_not_imported(warehouse, tmp_path):
    summary = load_benchmark_file(warehouse, msds_file(tmp_path))
    assert summary.rows_read == 16
    assert "BirthweightTermGroup" in summary.message
    assert "never as zero" in summary.message  # the treatment of missing values is said
    assert benchmark(warehouse, metric="BirthweightTermGroup").empty


def test_loading_the_same_file_twice_adds_nothing_and_a_correction_replaces(warehouse, tmp_path):
    first = load_benchmark_file(warehouse, msds_file(tmp_path))
    again = load_benchmark_file(warehouse, msds_file(tmp_path))
    assert again.rows_loaded == 0 and again.rows_replaced == 0
    assert again.rows_unchanged == first.rows_loaded
    corrected = load_benchmark_file(warehouse, msds_file(tmp_path, booked_value="700"))
    # only England's booking figure changed (700 + 200 of 1,100)
    assert (corrected.rows_loaded, corrected.rows_replaced) == (0, 1)
    england = one(benchmark(warehouse, metric="births.booked_by_13_weeks"), org_level="national")
    assert (england.numerator, england.denominator) == (900, 1100)
    log = warehouse.query("select table_name, outcome, rows_loaded, rows_replaced from load_log "
                          "order by load_id")
    assert log["table_name"].tolist() == ["benchmarks"] * 3
    assert log["rows_replaced"].tolist() == [0, 0, 1]


def test_a_value_that_is_not_a_number_is_rejected_by_line_and_column(warehouse, tmp_path):
    path = write(tmp_path / "msds.csv", MSDS_HEADER, [
        "2022-23,ComplexSocialFactorsInd,National,National,ALL SUBMITTERS,Y,Deliveries,70",
        "2022-23,ComplexSocialFactorsInd,National,National,ALL SUBMITTERS,N,Deliveries,lots",
    ])
    summary = load_benchmark_file(warehouse, path)
    assert summary.rows_rejected == 1
    reject = summary.rejects.iloc[0]
    assert (reject.line_number, reject.column_name, reject.value) == (3, "Value", "lots")
    stored = warehouse.query("select file_name, line_number, column_name, value from rejects")
    assert stored.iloc[0].tolist() == ["msds.csv", 3, "Value", "lots"]


def test_a_file_in_no_published_layout_is_refused_naming_what_is_missing(warehouse, tmp_path):
    path = write(tmp_path / "odd.csv", "Period,Dimension,Value", ["2022-23,TotalDeliveries,5"])
    summary = load_benchmark_file(warehouse, path)
    assert summary.outcome == "refused"
    assert "odd.csv" in summary.message and "orglevel" in summary.message
    assert warehouse.query("select outcome from load_log")["outcome"].tolist() == ["refused"]
    assert benchmark(warehouse).empty


# ---- Fingertips -----------------------------------------------------------------------------

def fingertips_row(indicator_id, name, code, area, area_type, value, low, high, count, denominator,
                   note="", category_type="", category=""):
    return ",".join(map(str, [
        indicator_id, name, "E92000001", "England", code, area, area_type, "Persons", "All ages",
        category_type, category, "2023/24", value, low, high, "", "", count, denominator, note,
        "", "", "", "20230000", "", ""]))


def test_fingertips_export_keeps_published_intervals_and_maps_health_visiting(warehouse, tmp_path):
    path = write(tmp_path / "fingertips.csv", FINGERTIPS_HEADER, [
        fingertips_row(90001, "New birth visits (NBVs) completed within 14 days", "E92000001",
                       "England", "England", 86.4, 86.2, 86.5, 120000, 138889),
        fingertips_row(90001, "New birth visits (NBVs) completed within 14 days", "E06000001",
                       "Hartlepool", "Counties & UAs", "", "", "", "", "",
                       note="Value suppressed for disclosure control"),
        fingertips_row(93085, "Smoking status at time of delivery", "E92000001", "England",
                       "England", 8.8, 8.7, 8.9, 50000, 568182),
    ])
    summary = load_benchmark_file(warehouse, path)
    assert summary.outcome == "loaded", summary.message
    rows = benchmark(warehouse)
    visit = one(rows, metric="mandated_contacts.new_birth_visit", org_level="national")
    # Fingertips intervals are kept as published (they may be model-based, not Wilson)
    assert (visit.pct, visit.ci_low, visit.ci_high, visit.ci_method) == (86.4, 86.2, 86.5, "published")
    hartlepool = one(rows, metric="mandated_contacts.new_birth_visit", org_code="E06000001")
    assert bool(hartlepool.suppressed) and pd.isna(hartlepool.pct) and hartlepool.org_level == "area"
    # an indicator with no catalogue figure keeps its own name; Count/Denominator x 100 is its value
    smoking = one(rows, metric="Smoking status at time of delivery")
    assert smoking.pct == pytest.approx(8.8)


def test_fingertips_data_service_layout_reads_its_own_column_order(warehouse, tmp_path):
    path = write(tmp_path / "healthdata.csv", DATA_SERVICE_HEADER, [
        # UpperCI comes before Value and LowerCI after Year in this layout
        '94103,"","",15-55 yrs,Female,Cannot be calculated,1000,,28.0,25.0,250,E92000001,2,332,2019,22.0,',
        '94103,"","",15-55 yrs,Female,Cannot be calculated,200,,*,*,*,E06000009,2,332,2019,*,',
    ])
    load_benchmark_file(warehouse, path)
    rows = benchmark(warehouse, metric="prevalence.perinatal_mental_health")
    england = one(rows, org_code="E92000001")
    assert (england.org_level, england.pct, england.ci_low, england.ci_high) == ("national", 25.0, 22.0, 28.0)
    assert (england.numerator, england.denominator) == (250, 1000)
    assert england.period == "2019" and england.ci_method == "published"
    blackpool = one(rows, org_code="E06000009")
    assert bool(blackpool.suppressed) and pd.isna(blackpool.numerator)


def test_benchmarks_metric_filters_by_level_and_period(warehouse, tmp_path):
    load_benchmark_file(warehouse, msds_file(tmp_path))
    assert len(benchmark(warehouse, metric="births.booked_by_13_weeks")) == 3
    assert len(benchmark(warehouse, metric="births.booked_by_13_weeks", org_level="national")) == 1
    assert benchmark(warehouse, metric="births.booked_by_13_weeks", period="2019-20").empty


# ---- the real published files (../shared/data; fails in CI when absent) ----------------------------

def test_real_msds_2022_23_england_booking_by_12_weeks_6_days(warehouse, shared_data):
    path = shared_data / "msds" / "hosp-epis-stat-mat-msdscsv-2022-23.csv"
    summary = load_benchmark_file(warehouse, path)
    assert summary.outcome == "loaded" and summary.rows_read == 15_785
    england = one(benchmark(warehouse, metric="births.booked_by_13_weeks"), org_level="national")
    # SOURCE.md: 0-70 days 323,930 + 71-90 days 142,160 = 466,090 of 528,675 with a known
    # gestation (91-140 days 42,765 and 141+ 19,820 added; 2,320 missing left out) = 88.16%
    assert (england.numerator, england.denominator, england.missing_excluded) == (466_090, 528_675, 2_320)
    assert england.pct == pytest.approx(88.162, abs=1e-3)


@pytest.mark.parametrize("year", ["2020-21", "2021-22"])
def test_real_msds_earlier_years_load(warehouse, shared_data, year):
    summary = load_benchmark_file(warehouse, shared_data / "msds" / f"hosp-epis-stat-mat-msdscsv-{year}.csv")
    assert summary.outcome == "loaded" and summary.rows_rejected == 0
    assert len(benchmark(warehouse, metric="births.booked_by_13_weeks", org_level="national", period=year)) == 1


def test_real_fingertips_94103_keeps_its_published_interval(warehouse, shared_data):
    path = shared_data / "fingertips-reference" / "perinatal_mh_prevalence_94103_northwest_2019.csv"
    assert load_benchmark_file(warehouse, path).rows_loaded == 27
    england = one(benchmark(warehouse, metric="prevalence.perinatal_mental_health"), org_level="national")
    # SOURCE.md: England 155,660 of 603,318 = 25.80% (95% CI 25.51-26.10)
    assert (england.numerator, england.denominator) == (155_660, 603_318)
    assert (england.pct, england.ci_low, england.ci_high) == (25.80061, 25.51076, 26.09728)
    assert "Perinatal mental health" in england.indicator_name


def test_real_mhsds_waits_read_star_as_suppressed(warehouse, shared_data):
    path = shared_data / "mhsds-4ww-waits" / "MHSDS_Data_4WW_AprPerf_2024_v2.csv"
    summary = load_benchmark_file(warehouse, path)
    assert summary.outcome == "loaded" and summary.rows_loaded == 19_958
    counts = warehouse.query(
        "select count(*) filter (where suppressed) as suppressed, "
        "count(*) filter (where suppressed and (value is not null or numerator is not null "
        "or pct is not null)) as suppressed_with_a_value, "
        "count(distinct period) as periods from benchmarks")
    # SOURCE.md: 12,477 of 19,958 rows are '*'; two reporting periods in one file
    assert counts.iloc[0].tolist() == [12_477, 0, 2]
    england = one(benchmark(warehouse, org_level="national", period="2024-02-01/2024-04-30"),
                  indicator_id="MRS01")
    assert england.numerator == 19_727


def test_import_and_reload_give_the_same_answers_on_both_backends(warehouse_url, tmp_path):
    warehouse = Warehouse(warehouse_url)
    warehouse.ensure_schema()
    first = load_benchmark_file(warehouse, msds_file(tmp_path))
    again = load_benchmark_file(warehouse, msds_file(tmp_path))
    # booking for England, the region and the provider (3) + five IMD quintiles for England (5)
    assert (first.rows_loaded, again.rows_unchanged, again.rows_loaded) == (8, 8, 0)
    england = one(benchmark(warehouse, metric="births.booked_by_13_weeks"), org_level="national")
    assert (england.numerator, england.denominator, england.pct) == (800, 1000, pytest.approx(80.0))
    warehouse.dispose()


# ---- routing through `pathway load` -------------------------------------------------------
def test_pathway_load_routes_table_benchmarks_and_recognised_layouts(warehouse, tmp_path):
    from pathway.ingest import load_file, load_files

    named = load_file(warehouse, msds_file(tmp_path), table="benchmarks")
    assert (named.outcome, named.table) == ("loaded", "benchmarks")
    # no --table, and a file name that is no contract table: the header gives it away
    (tmp_path / "again").mkdir()
    recognised = load_files(warehouse, [msds_file(tmp_path / "again")])[0]
    assert (recognised.outcome, recognised.table) == ("loaded", "benchmarks")
    assert recognised.rows_loaded == 0 and recognised.rows_unchanged == named.rows_loaded


def test_a_published_benchmark_load_needs_no_journey_rebuild(warehouse, tmp_path):
    # The file changes the data version (load 1) but feeds no journey table: the journey built
    # by the first metric run (after load 0 of the journey's tables) stays current, and the next
    # run neither rebuilds it nor asks for a rebuild for ever (it once recursed without end).
    import sqlalchemy as sa

    from pathway import answers

    assert load_benchmark_file(warehouse, msds_file(tmp_path)).outcome == "loaded"
    benchmark(warehouse)
    with warehouse.connect() as conn:
        first = conn.execute(sa.text("select built_at from journey_state")).scalar()
        version = answers.read_version(conn)
    assert (version.latest_load, version.latest_journey_load, version.built_after) == (1, 0, 0)
    assert version.journey_current
    assert len(benchmark(warehouse, metric="births.booked_by_13_weeks")) > 0
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select built_at from journey_state")).scalar() == first
