"""Small-area lookups: recognising their columns, the best-fit ICB of each local authority,
and the list of authorities split across ICBs (contract section 1, table `areas`)."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import shared_file
from pathway.ingest.area_lookup import (AREAS_COLUMNS, AreaLookupError, LookupColumns,
                                        derive_areas, is_small_area_lookup,
                                        recognise_lookup_columns)

ONS_HEADERS = ["LSOA11CD", "LAD22CD", "LAD22NM", "ICB22CD", "ICB22NM"]
ONS_COLUMNS = LookupColumns(lsoa_code="LSOA11CD", la_code="LAD22CD", la_name="LAD22NM",
                            icb_code="ICB22CD", icb_name="ICB22NM")


def lookup(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ONS_HEADERS)


# Riverside (E07000001): 3 small areas in North ICB, 1 in South ICB.
# Hilltop (E07000002): 2 small areas, both in South ICB.
RIVERSIDE_AND_HILLTOP = [
    ("E01000001", "E07000001", "Riverside", "E54000001", "North ICB"),
    ("E01000002", "E07000001", "Riverside", "E54000001", "North ICB"),
    ("E01000003", "E07000001", "Riverside", "E54000001", "North ICB"),
    ("E01000004", "E07000001", "Riverside", "E54000002", "South ICB"),
    ("E01000005", "E07000002", "Hilltop", "E54000002", "South ICB"),
    ("E01000006", "E07000002", "Hilltop", "E54000002", "South ICB"),
]


# ---- recognising a lookup --------------------------------------------------------------
def test_ons_upper_case_headers_are_recognised():
    assert is_small_area_lookup(ONS_HEADERS)
    assert recognise_lookup_columns(ONS_HEADERS) == ONS_COLUMNS


def test_geographr_lower_case_headers_with_year_suffixes_are_recognised():
    headers = ["lsoa11_name", "lsoa11_code", "sicbl22_name", "sicbl22_code", "sicbl22_code_h",
               "icb22_name", "icb22_code", "icb22_code_h", "ltla22_name", "ltla22_code"]
    assert recognise_lookup_columns(headers) == LookupColumns(
        lsoa_code="lsoa11_code", la_code="ltla22_code", la_name="ltla22_name",
        icb_code="icb22_code", icb_name="icb22_name",  # the ONS E54 code, not NHS "QYG"
        sub_icb_code="sicbl22_code", sub_icb_name="sicbl22_name")


def test_2021_lsoa_lookup_with_region_and_spaced_headers_is_recognised():
    headers = ["\ufeffLSOA21CD", "SICBL24CD", "SICBL24CDH", "ICB24CD", "ICB24CDH", "ICB24NM",
               "Local Authority Code", "Local authority name", "RGN24CD", "RGN24NM"]
    columns = recognise_lookup_columns(headers)
    assert (columns.lsoa_code, columns.la_code, columns.la_name) == (
        "\ufeffLSOA21CD", "Local Authority Code", "Local authority name")
    assert (columns.icb_code, columns.sub_icb_code) == ("ICB24CD", "SICBL24CD")
    assert (columns.region_code, columns.region_name) == ("RGN24CD", "RGN24NM")


def test_lower_tier_authority_is_preferred_to_upper_tier():
    headers = ["lsoa11_code", "utla23_code", "utla23_name", "lad22_code", "lad22_name",
               "icb22_code"]
    columns = recognise_lookup_columns(headers)
    assert (columns.la_code, columns.la_name) == ("lad22_code", "lad22_name")


def test_lookup_without_local_authority_is_not_a_small_area_lookup():
    # The 2024 lookup as geographr ships it: LSOA, sub-ICB and ICB, but no local authority.
    assert not is_small_area_lookup(["lsoa21_name", "lsoa21_code", "sicbl24_name", "sicbl24_code",
                                     "sicbl24_code_nhs", "icb24_name", "icb24_code",
                                     "icb24_code_nhs"])


def test_contract_tables_are_not_small_area_lookups():
    assert not is_small_area_lookup(["area_code", "area_name", "icb_code", "icb_name"])
    assert not is_small_area_lookup(["pregnancy_id", "person_id", "area_code", "booking_date"])


def test_user_mapping_names_the_columns_of_an_unusual_file():
    headers = ["Small area", "District", "District name", "Board", "Board name"]
    assert not is_small_area_lookup(headers)
    columns = recognise_lookup_columns(headers, {"lsoa_code": "small area", "area_code": "District",
                                                 "area_name": "District name",
                                                 "icb_code": "Board", "icb_name": "Board name"})
    assert columns == LookupColumns(lsoa_code="Small area", la_code="District",
                                    la_name="District name", icb_code="Board",
                                    icb_name="Board name")


def test_user_mapping_overrides_a_recognised_column():
    columns = recognise_lookup_columns(ONS_HEADERS + ["LAD22NM_CLEAN"], {"la_name": "LAD22NM_CLEAN"})
    assert columns.la_name == "LAD22NM_CLEAN"
    assert columns.la_code == "LAD22CD"


def test_mapping_to_a_column_the_file_lacks_names_the_column():
    with pytest.raises(AreaLookupError, match=r"la_code='District'.*no column 'District'"):
        recognise_lookup_columns(ONS_HEADERS, {"la_code": "District"})


def test_mapping_an_unknown_role_lists_the_roles():
    with pytest.raises(AreaLookupError, match=r"unknown role 'ward_code'.*lsoa_code, la_code"):
        recognise_lookup_columns(ONS_HEADERS, {"ward_code": "LAD22CD"})


def test_lookup_without_authority_names_says_what_to_map():
    with pytest.raises(AreaLookupError, match=r"no column recognised for la_name.*la_name=COLUMN"):
        recognise_lookup_columns(["LSOA11CD", "LAD22CD", "ICB22CD"])


# ---- best fit and split authorities ----------------------------------------------------
def test_authority_gets_the_icb_holding_most_of_its_small_areas():
    result = derive_areas(lookup(RIVERSIDE_AND_HILLTOP), ONS_COLUMNS)
    assert result.areas.to_dict("records") == [
        {"area_code": "E07000001", "area_name": "Riverside", "icb_code": "E54000001",
         "icb_name": "North ICB", "region_code": None, "region_name": None},
        {"area_code": "E07000002", "area_name": "Hilltop", "icb_code": "E54000002",
         "icb_name": "South ICB", "region_code": None, "region_name": None},
    ]
    assert list(result.areas.columns) == AREAS_COLUMNS


def test_split_authority_lists_each_icb_with_its_share():
    result = derive_areas(lookup(RIVERSIDE_AND_HILLTOP), ONS_COLUMNS)
    # Riverside: 3 of 4 small areas in North (75%), 1 of 4 in South (25%).
    # Hilltop lies wholly in South, so it is not listed.
    assert result.split.to_dict("records") == [
        {"area_code": "E07000001", "area_name": "Riverside", "icb_code": "E54000001",
         "icb_name": "North ICB", "small_areas": 3, "share_pct": 75.0, "best_fit": True},
        {"area_code": "E07000001", "area_name": "Riverside", "icb_code": "E54000002",
         "icb_name": "South ICB", "small_areas": 1, "share_pct": 25.0, "best_fit": False},
    ]


def test_no_split_authorities_gives_an_empty_list_with_its_columns():
    result = derive_areas(lookup(RIVERSIDE_AND_HILLTOP[4:]), ONS_COLUMNS)
    assert len(result.areas) == 1
    assert result.split.empty
    assert list(result.split.columns) == ["area_code", "area_name", "icb_code", "icb_name",
                                          "small_areas", "share_pct", "best_fit"]


def test_tie_goes_to_the_lowest_icb_code_whatever_the_row_order():
    # 2 small areas in E54000009 and 2 in E54000003: a tie, so E54000003 (the lower code).
    rows = [
        ("E01000001", "E07000001", "Riverside", "E54000009", "West ICB"),
        ("E01000002", "E07000001", "Riverside", "E54000009", "West ICB"),
        ("E01000003", "E07000001", "Riverside", "E54000003", "East ICB"),
        ("E01000004", "E07000001", "Riverside", "E54000003", "East ICB"),
    ]
    forwards = derive_areas(lookup(rows), ONS_COLUMNS)
    backwards = derive_areas(lookup(rows[::-1]), ONS_COLUMNS)
    assert forwards.areas["icb_code"].tolist() == backwards.areas["icb_code"].tolist() == ["E54000003"]
    assert forwards.split["share_pct"].tolist() == [50.0, 50.0]


def test_a_small_area_listed_twice_counts_once():
    # E01000001 appears twice in North; counted once, North has 1 small area, South has 2,
    # so South wins (counting rows instead of small areas would tie 2-2 and give North).
    rows = [
        ("E01000001", "E07000001", "Riverside", "E54000001", "North ICB"),
        ("E01000001", "E07000001", "Riverside", "E54000001", "North ICB"),
        ("E01000002", "E07000001", "Riverside", "E54000002", "South ICB"),
        ("E01000003", "E07000001", "Riverside", "E54000002", "South ICB"),
    ]
    result = derive_areas(lookup(rows), ONS_COLUMNS)
    assert result.areas["icb_code"].tolist() == ["E54000002"]
    # 1 of 3 and 2 of 3 small areas
    assert result.split["small_areas"].tolist() == [2, 1]
    assert result.split["share_pct"].tolist() == pytest.approx([200 / 3, 100 / 3])


def test_region_is_fitted_and_names_take_the_most_common_spelling():
    frame = pd.DataFrame({
        "lsoa21_code": ["E01000001", "E01000002", "E01000003"],
        "lad24_code": ["E06000001"] * 3,
        "lad24_name": ["Hartlepool", "Hartlepool", "HARTLEPOOL"],
        "icb24_code": ["E54000050"] * 3,
        "icb24_name": ["NHS North East and North Cumbria"] * 3,
        "rgn24_code": ["E12000001", "E12000001", "E12000002"],
        "rgn24_name": ["North East", "North East", "North West"],
    })
    result = derive_areas(frame, recognise_lookup_columns(list(frame.columns)))
    # 2 of 3 rows spell it "Hartlepool"; 2 of 3 small areas lie in E12000001
    assert result.areas.to_dict("records") == [
        {"area_code": "E06000001", "area_name": "Hartlepool", "icb_code": "E54000050",
         "icb_name": "NHS North East and North Cumbria", "region_code": "E12000001",
         "region_name": "North East"},
    ]


def test_codes_are_trimmed_and_icb_name_may_be_absent():
    frame = pd.DataFrame({"LSOA11CD": [" E01000001 "], "LAD22CD": ["E07000001 "],
                          "LAD22NM": [" Riverside"], "ICB22CD": ["E54000001"]})
    result = derive_areas(frame, recognise_lookup_columns(list(frame.columns)))
    assert result.areas.iloc[0].to_dict() == {
        "area_code": "E07000001", "area_name": "Riverside", "icb_code": "E54000001",
        "icb_name": None, "region_code": None, "region_name": None}


def test_blank_authority_code_names_file_line_and_column():
    rows = [list(row) for row in RIVERSIDE_AND_HILLTOP]
    rows[1][1] = "  "  # the second data row is line 3 of the file
    rows[3][1] = ""
    with pytest.raises(AreaLookupError,
                       match=r"^lookup\.csv line 3, column LAD22CD: value required \(and 1 more rows\)$"):
        derive_areas(lookup([tuple(row) for row in rows]), ONS_COLUMNS, source_name="lookup.csv")


def test_authority_with_no_name_anywhere_is_an_error():
    rows = [("E01000001", "E07000001", "", "E54000001", "North ICB")]
    with pytest.raises(AreaLookupError, match=r"column LAD22NM: no name given for local authority 'E07000001'"):
        derive_areas(lookup(rows), ONS_COLUMNS, source_name="lookup.csv")


# ---- the published July 2022 lookup (../shared/data; fails in CI when absent) -------------
# SOURCE.md: 309 LAD22, 42 ICBs, 12 LADs split between two ICBs.
SPLIT_LADS_2022 = {"E07000244", "E06000060", "E07000099", "E07000089", "E07000216", "E07000214",
                   "E07000209", "E07000212", "E07000180", "E07000029", "E07000163", "E07000225"}


@pytest.fixture(scope="module")
def july_2022():
    path = shared_file("area-lookups-england/lsoa11_sicbl22_icb22_lad22_july2022.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert is_small_area_lookup(list(frame.columns))
    return derive_areas(frame, recognise_lookup_columns(list(frame.columns)), source_name=path.name)


def test_july_2022_lookup_gives_309_authorities_in_42_icbs(july_2022):
    assert len(july_2022.areas) == 309
    assert july_2022.areas["area_code"].is_unique
    assert july_2022.areas["icb_code"].nunique() == 42


def test_july_2022_lookup_lists_the_12_split_authorities(july_2022):
    assert set(july_2022.split["area_code"]) == SPLIT_LADS_2022
    # each of the 12 is split between exactly two ICBs, and its shares add up to 100%
    assert len(july_2022.split) == 24
    assert july_2022.split.groupby("area_code")["share_pct"].sum().tolist() == pytest.approx([100.0] * 12)


def test_july_2022_buckinghamshire_fits_its_own_icb(july_2022):
    bucks = july_2022.split[july_2022.split["area_code"] == "E06000060"]
    # 315 of Buckinghamshire's 319 LSOAs are in BOB ICB (98.7%), 4 in BLMK ICB
    assert bucks[["icb_code", "small_areas", "best_fit"]].values.tolist() == [
        ["E54000044", 315, True], ["E54000024", 4, False]]
    assert bucks["share_pct"].tolist() == pytest.approx([100 * 315 / 319, 100 * 4 / 319])


def test_july_2022_east_suffolk_tie_goes_to_the_lower_icb_code(july_2022):
    # East Suffolk's LSOAs split 73 / 73 between Norfolk and Waveney (E54000022) and
    # Suffolk and North East Essex (E54000023): a tie, so the lower code wins.
    suffolk = july_2022.split[july_2022.split["area_code"] == "E07000244"]
    assert suffolk["small_areas"].tolist() == [73, 73]
    east_suffolk = july_2022.areas.set_index("area_code").loc["E07000244"]
    assert (east_suffolk["area_name"], east_suffolk["icb_code"]) == ("East Suffolk", "E54000022")
