"""Small-area lookups (LSOA → sub-ICB → ICB → local authority) for the `areas` table:
recognise their columns, give each local authority the ICB that best fits its small areas,
and list the authorities split across ICBs (contract section 1, table `areas`).

Pure pandas, no database: the loader reads the file and writes the result.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import pandas as pd

AREAS_COLUMNS = ["area_code", "area_name", "icb_code", "icb_name", "region_code", "region_name"]
SPLIT_COLUMNS = ["area_code", "area_name", "icb_code", "icb_name", "small_areas", "share_pct",
                 "best_fit"]


class AreaLookupError(ValueError):
    """A small-area lookup cannot be used; the message names the file, line, column and value."""


@dataclass(frozen=True)
class LookupColumns:
    """Which of the file's own column names holds each part of the lookup."""

    lsoa_code: str
    la_code: str
    la_name: str
    icb_code: str
    icb_name: str | None = None
    sub_icb_code: str | None = None
    sub_icb_name: str | None = None
    region_code: str | None = None
    region_name: str | None = None

    def as_mapping(self) -> dict[str, str]:
        """role → file column, for the load summary (roles the file does not have left out)."""
        return {role: column for role, column in asdict(self).items() if column is not None}


@dataclass
class AreaLookupResult:
    areas: pd.DataFrame  # one row per local authority, the contract's `areas` columns
    split: pd.DataFrame  # one row per local authority × ICB, for each authority in more than one ICB


# ---- recognising the columns ----------------------------------------------------------
# Header matching is case-, space-, underscore- and hyphen-insensitive (contract section 1),
# and ONS puts the boundary year in the name (LAD22CD, lsoa11_code), so a year is allowed.
_YEAR = r"(?P<year>\d{2}|\d{4})?"
_CODE = r"(?:cd|code)"
_NAME = r"(?:nm|name)"

# Each role's name stems, most preferred first: a lower-tier LAD beats an upper-tier UTLA,
# the ONS region (E12) beats the NHS England region (E40). ONS's NHS-style codes
# (ICB22CDH, icb22_code_h, icb24_code_nhs) never match: the areas table keys on ONS codes.
_STEMS = {
    "lsoa": ["lsoa"],
    "la": ["lad", "ltla", "localauthoritydistrict", "lowertierlocalauthority", "la",
           "localauthority", "utla", "ctyua", "uppertierlocalauthority", "area"],
    "sub_icb": ["sicbl", "subicblocation", "subicb", "sicb", "loc", "ccg"],
    "icb": ["icb", "integratedcareboard"],
    "region": ["rgn", "region", "nhser", "nhsregion", "nhsenglandregion"],
}

ROLES = ("lsoa_code", "la_code", "la_name", "icb_code", "icb_name",
         "sub_icb_code", "sub_icb_name", "region_code", "region_name")
REQUIRED_ROLES = ("lsoa_code", "la_code", "la_name", "icb_code")
# What a user may call a role in a mapping: the areas table's own column names also work.
ROLE_ALIASES = {"area_code": "la_code", "area_name": "la_name",
                "small_area_code": "lsoa_code", "lad_code": "la_code", "lad_name": "la_name"}


def _normalise(header: object) -> str:
    return re.sub(r"[\s_\-]+", "", str(header).replace("\ufeff", "").strip().lower())


def _patterns(role: str) -> list[re.Pattern]:
    stem_group, part = role.rsplit("_", 1)
    suffix = _CODE if part == "code" else _NAME
    if role == "lsoa_code":
        suffix = f"{_CODE}?"  # a column called just "LSOA" or "lsoa11" holds codes
    return [re.compile(f"^{stem}{_YEAR}{suffix}$") for stem in _STEMS[stem_group]]


_ROLE_PATTERNS = {role: _patterns(role) for role in ROLES}


def _recognised(columns: list[str]) -> dict[str, str]:
    """role → column for every role some header fits: best stem, then latest year, then first."""
    found = {}
    for role, patterns in _ROLE_PATTERNS.items():
        candidates = []
        for position, column in enumerate(columns):
            normalised = _normalise(column)
            for preference, pattern in enumerate(patterns):
                match = pattern.match(normalised)
                if match:
                    year = int(match.group("year") or 0) % 100
                    candidates.append((preference, -year, position, column))
                    break
        if candidates:
            found[role] = min(candidates)[3]
    return found


def is_small_area_lookup(columns: list[str]) -> bool:
    """True when the headers hold a small-area code, a local authority code and an ICB code."""
    found = _recognised(list(columns))
    return all(role in found for role in ("lsoa_code", "la_code", "icb_code"))


def recognise_lookup_columns(columns: list[str], mapping: dict[str, str] | None = None
                             ) -> LookupColumns:
    """Which column holds each role; `mapping` (role → column name) overrides what is recognised.

    Roles: lsoa_code, la_code, la_name, icb_code, icb_name, sub_icb_code, sub_icb_name,
    region_code, region_name (area_code and area_name are accepted for la_code and la_name).
    """
    columns = list(columns)
    found = _recognised(columns)
    by_normalised = {_normalise(column): column for column in columns}
    for given_role, given_column in (mapping or {}).items():
        role = ROLE_ALIASES.get(given_role, given_role)
        if role not in ROLES:
            raise AreaLookupError(f"column mapping {given_role}={given_column!r}: unknown role "
                                  f"{given_role!r}; roles are {', '.join(ROLES)}")
        column = by_normalised.get(_normalise(given_column))
        if column is None:
            raise AreaLookupError(f"column mapping {given_role}={given_column!r}: the lookup has "
                                  f"no column {given_column!r} (its columns: {', '.join(columns)})")
        found[role] = column
    missing = [role for role in REQUIRED_ROLES if role not in found]
    if missing:
        raise AreaLookupError(
            f"small-area lookup: no column recognised for {', '.join(missing)} "
            f"(its columns: {', '.join(columns)}); map them, e.g. "
            + ", ".join(f"{role}=COLUMN" for role in missing))
    return LookupColumns(**{role: found.get(role) for role in ROLES})


# ---- deriving the areas ---------------------------------------------------------------
def derive_areas(frame: pd.DataFrame, columns: LookupColumns, *,
                 source_name: str = "small-area lookup") -> AreaLookupResult:
    """One row per local authority with its best-fit ICB, and the list of split authorities.

    Best fit is the ICB holding the most of the authority's distinct small areas; a tie goes
    to the lowest ICB code, so the answer never depends on row order. The region is fitted
    the same way. Each name is the one most rows give its code (ties: alphabetical first).
    Rows of `frame` are taken to be the file's lines in order after one header line.
    """
    lookup = _tidy(frame, columns, source_name)
    small_areas = lookup.drop_duplicates(["lsoa_code", "la_code", "icb_code"])

    la_by_icb = (small_areas.groupby(["la_code", "icb_code"]).size()
                 .rename("small_areas").reset_index())
    la_total = la_by_icb.groupby("la_code")["small_areas"].transform("sum")
    la_by_icb["share_pct"] = 100.0 * la_by_icb["small_areas"] / la_total
    la_by_icb = la_by_icb.sort_values(["la_code", "small_areas", "icb_code"],
                                      ascending=[True, False, True], ignore_index=True)
    la_by_icb["best_fit"] = ~la_by_icb["la_code"].duplicated()

    la_names = _most_common(lookup, "la_code", "la_name")
    icb_names = _most_common(lookup, "icb_code", "icb_name")
    best = la_by_icb[la_by_icb["best_fit"]].set_index("la_code")

    areas = pd.DataFrame({
        "area_code": best.index,
        "area_name": la_names.reindex(best.index).to_numpy(),
        "icb_code": best["icb_code"].to_numpy(),
        "icb_name": icb_names.reindex(best["icb_code"]).to_numpy(),
    })
    regions = _best_fit_region(lookup).reindex(best.index)
    areas["region_code"] = regions["region_code"].to_numpy()
    areas["region_name"] = regions["region_name"].to_numpy()

    unnamed = areas[areas["area_name"].isna()]
    if len(unnamed):
        raise AreaLookupError(f"{source_name}, column {columns.la_name}: no name given for "
                              f"local authority {unnamed['area_code'].iloc[0]!r}")

    split_codes = la_by_icb.loc[la_by_icb["la_code"].duplicated(), "la_code"].unique()
    split = la_by_icb[la_by_icb["la_code"].isin(split_codes)].rename(columns={"la_code": "area_code"})
    split.insert(1, "area_name", la_names.reindex(split["area_code"]).to_numpy())
    split.insert(3, "icb_name", icb_names.reindex(split["icb_code"]).to_numpy())

    return AreaLookupResult(areas=_with_none(areas[AREAS_COLUMNS]),
                            split=_with_none(split[SPLIT_COLUMNS].reset_index(drop=True)))


def _tidy(frame: pd.DataFrame, columns: LookupColumns, source_name: str) -> pd.DataFrame:
    """The lookup with role names as columns, text stripped, blanks missing, codes present."""
    tidy = pd.DataFrame(index=frame.index)
    for role, column in columns.as_mapping().items():
        if column not in frame.columns:
            raise AreaLookupError(f"{source_name}: no column {column!r} for {role}")
        values = frame[column].astype("string").str.strip()
        tidy[role] = values.mask(values == "")
    for role in ("icb_name", "region_code", "region_name"):
        if role not in tidy:
            tidy[role] = pd.Series(pd.NA, index=frame.index, dtype="string")
    for role in ("lsoa_code", "la_code", "icb_code"):
        blank = tidy[role].isna().to_numpy().nonzero()[0]
        if len(blank):
            more = f" (and {len(blank) - 1} more rows)" if len(blank) > 1 else ""
            raise AreaLookupError(f"{source_name} line {blank[0] + 2}, column "
                                  f"{getattr(columns, role)}: value required{more}")
    return tidy.reset_index(drop=True)


def _most_common(lookup: pd.DataFrame, key: str, value: str) -> pd.Series:
    """key → the value most rows give it (ties: alphabetical first); keys with none left out."""
    pairs = lookup[[key, value]].dropna()
    counted = pairs.value_counts().rename("rows").reset_index()
    counted = counted.sort_values([key, "rows", value], ascending=[True, False, True])
    return counted.drop_duplicates(key).set_index(key)[value]


def _best_fit_region(lookup: pd.DataFrame) -> pd.DataFrame:
    """la_code → region_code, region_name: the region holding most of its small areas."""
    with_region = lookup.dropna(subset=["region_code"]).drop_duplicates(
        ["lsoa_code", "la_code", "region_code"])
    counted = with_region.groupby(["la_code", "region_code"]).size().rename("small_areas").reset_index()
    counted = counted.sort_values(["la_code", "small_areas", "region_code"],
                                  ascending=[True, False, True]).drop_duplicates("la_code")
    region_names = _most_common(lookup, "region_code", "region_name")
    counted["region_name"] = region_names.reindex(counted["region_code"]).to_numpy()
    return counted.set_index("la_code")[["region_code", "region_name"]]


def _with_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain objects with None for missing, ready for a database insert."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype != bool and not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out
