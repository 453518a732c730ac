"""The demo's synthetic places, its three scales and the service gaps planted in them.

Area codes start with X (X60 areas, X54 ICBs, X40 regions) so they can never be taken for
real ONS codes. Areas and their service profiles are fixed (independent of the seed), so
a planted gap is always in the same, named place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

# ---- the planted service gaps ---------------------------------------------------------
# The one place that says where each gap is; the generator asks these entries, so the
# documentation and the data cannot drift apart.
PLANTED_GAPS: dict[str, dict] = {
    "no_parent_infant_team": {
        "area_code": "X60000002",
        "area_name": "Eastfield",
        "service": "parent_infant",
        "gap": "No parent-infant relationship team: families at relational risk are never "
               "referred and the specialist tier loses its infant-stage work.",
        "shows_in": "zero parent_infant activity in Eastfield (every other area has some); "
                    "referral_funnel has nothing for parent_infant; stage_reach and "
                    "service_gaps show specialist reach in the infant stage below benchmark.",
    },
    "twelve_month_review_lag": {
        "area_code": "X60000003",
        "area_name": "Riverholme",
        "contact_code": "twelve_month_review",
        "on_time_share": 0.15,   # done by day 365 (elsewhere about 0.7)
        "missing_share": 0.25,   # never done
        "gap": "The health visiting 12-month review lags: most are done after the first "
               "birthday (day 365) or not at all.",
        "shows_in": "mandated_contacts.twelve_month_review about 15% in Riverholme against "
                    "about 70% elsewhere; twelve_month_review_by_15_months recovers only "
                    "part of the gap.",
    },
    "deprived_families_underserved": {
        "area_code": "X60000001",
        "area_name": "Northmoor",
        "imd_deciles": (1, 2),
        "reach_factor": 0.2,     # referral chance of IMD 1-2 families relative to others
        "gap": "Families in the most deprived fifth (IMD deciles 1-2) are referred to "
               "targeted and specialist services far less than other families, though "
               "their need is higher.",
        "shows_in": "equity by imd_quintile (rate_ratio of quintile 1 well below 1 in "
                    "Northmoor, above 1 elsewhere); targeted and specialist stage_reach among "
                    "IMD 1-2 a fraction of other areas'.",
    },
    "no_maternal_mh_service": {
        "area_code": "X60000003",
        "area_name": "Riverholme",
        "service": "maternal_mh",
        "gap": "No maternal mental health service: women after loss, stillbirth or birth "
               "trauma have no specialist psychological service.",
        "shows_in": "zero maternal_mh activity in Riverholme; referral_funnel and "
                    "waiting_times have nothing for maternal_mh there.",
    },
    # contract v1.1 findings ------------------------------------------------------------
    "risk_not_referred_before_birth": {
        "area_code": "X60000003",
        "area_name": "Riverholme",
        "delayed_share": 0.85,   # of antenatal referrals of families with a risk, made after birth
        "gap": "Families with a risk recorded in pregnancy are rarely referred before the baby "
               "is born: referrals wait until after birth, against the risk-based model.",
        "shows_in": "risk_pathway: referred before birth (any risk factor) a fraction of other "
                    "areas' in Riverholme, and fewer seen before birth; the Risk pathway page "
                    "shows the fall between risk identified and referred before birth.",
    },
    "telephone_follow_up": {
        "area_code": "X60000001",
        "area_name": "Northmoor",
        "service": "perinatal_mh",
        "telephone_share": 0.45,  # of the perinatal team's women seen by telephone only (elsewhere 0.08)
        "gap": "Northmoor's perinatal team sees many women by telephone only: they count in "
               "the pathway measure but not in NHS England's MHS91 access count.",
        "shows_in": "perinatal_access telephone_or_text_only well above other areas', and "
                    "perinatal_access per 100 births well below specialist_access.access_pct "
                    "in Northmoor.",
    },
    "partners_seen_in_some_areas_only": {
        "area_code": "X60000002",
        "area_name": "Eastfield",
        # areas whose perinatal and maternal services assess partners, and how often
        "partner_areas": ("X60000001", "X60000003", "X60000004", "X60000007", "X60000010"),
        "partner_share": 0.4,
        "gap": "Partners are assessed in some areas only: Eastfield (like Oakvale, Brackenford, "
               "Harrowdene and Fernleigh Coast) never sees a partner, though the Long Term Plan "
               "offers partners an assessment.",
        "shows_in": "partner_involvement 0% in Eastfield, about 40% of women with specialist "
                    "access in Northmoor and Riverholme.",
    },
}

# Not a gap but a documented feature of the demo: twins at about 1.5% of live births (a demo
# assumption, NOT CONFIRMED against ONS multiple-maternity rates), each baby with its own
# health visiting contacts, so mandated_contacts per baby counts them twice.
TWIN_SHARE = 0.015


def absent_services(area_code: str) -> frozenset[str]:
    """Services an area has no team for (a planted gap)."""
    return frozenset(gap["service"] for name, gap in PLANTED_GAPS.items()
                     if name.startswith("no_") and gap["area_code"] == area_code)


def twelve_month_lag(area_code: str) -> dict | None:
    gap = PLANTED_GAPS["twelve_month_review_lag"]
    return gap if gap["area_code"] == area_code else None


def risk_referral_delay(area_code: str) -> float:
    """Share of antenatal referrals of families with a risk an area makes after birth instead."""
    gap = PLANTED_GAPS["risk_not_referred_before_birth"]
    return float(gap["delayed_share"]) if gap["area_code"] == area_code else 0.0


def telephone_share(area_code: str) -> float:
    """Share of a perinatal team's women seen by telephone only."""
    gap = PLANTED_GAPS["telephone_follow_up"]
    return float(gap["telephone_share"]) if gap["area_code"] == area_code else 0.08


def partner_share(area_code: str) -> float:
    """Share of women seen by perinatal or maternal services whose partner is assessed too."""
    gap = PLANTED_GAPS["partners_seen_in_some_areas_only"]
    return float(gap["partner_share"]) if area_code in gap["partner_areas"] else 0.0


def underserved_deciles(area_code: str) -> tuple[tuple[int, ...], float]:
    """IMD deciles whose families an area under-refers, and how much (1.0 = not at all)."""
    gap = PLANTED_GAPS["deprived_families_underserved"]
    if gap["area_code"] == area_code:
        return tuple(gap["imd_deciles"]), float(gap["reach_factor"])
    return (), 1.0


# ---- areas ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoArea:
    """One synthetic upper-tier area and the profile its services are drawn from."""

    area_code: str
    area_name: str
    icb_code: str
    icb_name: str
    region_code: str
    region_name: str
    births_per_year: int
    deprivation: float      # skew of births toward IMD decile 1 (> 0) or 10 (< 0)
    diversity: float        # share of births to mothers not in the White group
    hv_timeliness: float    # health visiting on-time multiplier, 1 = typical
    screening: float        # share of contacts where the mood questions are asked
    access: float           # referral multiplier for targeted and specialist services
    wait_scale: float       # waiting-time multiplier, 1 = typical


_REGION_1 = ("X40000001", "North and Moors")
_ICB_1 = ("X54000001", "Moor and Coast ICB")
_ICB_2 = ("X54000002", "Vale and River ICB")

# code, name, ICB, births a year, deprivation, diversity, hv timeliness, screening, access, waits
_COUNTY = [
    ("X60000001", "Northmoor", _ICB_1, 2200, 0.30, 0.30, 1.00, 0.90, 1.05, 1.0),
    ("X60000002", "Eastfield", _ICB_1, 1400, -0.05, 0.06, 1.05, 0.85, 0.95, 1.3),
    ("X60000003", "Riverholme", _ICB_1, 1800, 0.10, 0.12, 1.00, 0.80, 1.00, 1.1),
    ("X60000004", "Kingsmere", _ICB_2, 1100, -0.20, 0.08, 1.10, 0.92, 1.10, 0.8),
    ("X60000005", "Oakvale", _ICB_2, 1300, -0.10, 0.10, 0.95, 0.88, 1.00, 0.9),
    ("X60000006", "Brackenford", _ICB_2, 1650, 0.05, 0.15, 0.90, 0.75, 0.90, 1.4),
    ("X60000007", "Millbridge", _ICB_2, 1200, 0.00, 0.10, 1.05, 0.90, 1.05, 1.0),
    ("X60000008", "Harrowdene", _ICB_2, 2400, 0.22, 0.45, 0.85, 0.82, 0.95, 1.6),
    ("X60000009", "Fernleigh Coast", _ICB_1, 1000, 0.12, 0.04, 1.00, 0.86, 0.85, 1.2),
    ("X60000010", "Westmarsh", _ICB_1, 1500, -0.05, 0.09, 1.08, 0.94, 1.15, 0.7),
]

_NAME_STARTS = ["North", "South", "East", "West", "Upper", "Lower", "Kings", "Queens",
                "Ash", "Oak", "Elm", "Birch", "Mill", "Stone", "Brook", "Marsh", "Fern",
                "Heather", "Thorn", "Wood", "Bright", "Cold", "Long", "Red"]
_NAME_ENDS = ["moor", "field", "ham", "ford", "bury", "wick", "dale", "ton", "mere",
              "vale", "holme", "leigh", "combe", "stead"]
_REGIONS = [_REGION_1, ("X40000002", "Northern Coast"), ("X40000003", "Midland Vales"),
            ("X40000004", "Eastern Fens"), ("X40000005", "Capital"),
            ("X40000006", "Southern Downs"), ("X40000007", "Western Shore")]

# National areas come from this fixed generator, not the demo seed: the seed varies the
# people, never the map.
_NATIONAL_LAYOUT_SEED = 20240401
NATIONAL_AREAS = 150
NATIONAL_ICBS = 42
NATIONAL_BIRTHS_PER_YEAR = 550_000


def county_areas() -> list[DemoArea]:
    return [DemoArea(code, name, icb[0], icb[1], *_REGION_1, births, *profile)
            for code, name, icb, births, *profile in _COUNTY]


def national_areas() -> list[DemoArea]:
    """The county's ten areas plus 140 generated ones: 150 areas, 42 ICBs, 7 regions."""
    rng = np.random.default_rng(_NATIONAL_LAYOUT_SEED)
    county = county_areas()
    taken = {area.area_name for area in county}
    names = [start + end for start in _NAME_STARTS for end in _NAME_ENDS]
    names = [name for name in rng.permutation(names) if name not in taken]
    extra = NATIONAL_AREAS - len(county)
    # English upper-tier authorities have roughly 1,000 to 15,000 births a year.
    births = np.clip(rng.lognormal(np.log(3300), 0.6, extra), 1000, 15000)
    births *= (NATIONAL_BIRTHS_PER_YEAR - sum(a.births_per_year for a in county)) / births.sum()
    births = np.clip(births, 1000, 15000).round().astype(int)
    icb_count = NATIONAL_ICBS - 2
    areas = list(county)
    for i in range(extra):
        icb_index = i % icb_count
        icb_lead = names[icb_index]
        region = _REGIONS[icb_index % len(_REGIONS)]
        areas.append(DemoArea(
            area_code=f"X6{len(areas) + 1:07d}",
            area_name=str(names[i]),
            icb_code=f"X54{icb_index + 3:06d}",
            icb_name=f"{icb_lead} and District ICB",
            region_code=region[0], region_name=region[1],
            births_per_year=int(births[i]),
            deprivation=float(rng.uniform(-0.25, 0.32)),
            diversity=float(rng.uniform(0.03, 0.5)),
            hv_timeliness=float(rng.uniform(0.8, 1.12)),
            screening=float(rng.uniform(0.7, 0.95)),
            access=float(rng.uniform(0.8, 1.2)),
            wait_scale=float(rng.uniform(0.7, 1.7)),
        ))
    return areas


# ---- scales ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoScale:
    """How big a demo to build and over which calendar (fixed, never today's date)."""

    name: str
    description: str
    area_count: int
    births_from: date
    births_to: date
    cutoff: date                    # the activity data cut-off
    total_births: int | None        # scale the areas' births to this total (None: as they are)
    columnar: bool                  # activity and measures as Parquet (else CSV)

    @property
    def years(self) -> float:
        return ((self.births_to - self.births_from).days + 1) / 365.25

    def areas(self) -> list[DemoArea]:
        return (national_areas() if self.area_count > len(_COUNTY) else county_areas())[:self.area_count]


SCALES: dict[str, DemoScale] = {
    "small": DemoScale("small", "3 areas, about 1,500 births over 3 years: for tests",
                       3, date(2022, 4, 1), date(2025, 3, 31), date(2026, 3, 31), 1500, False),
    "county": DemoScale("county", "10 areas in 2 ICBs, about 45,000 births over 3 years: "
                        "the dashboard's default", 10, date(2022, 4, 1), date(2025, 3, 31),
                        date(2026, 3, 31), None, False),
    "national": DemoScale("national", "150 areas in 42 ICBs and 7 regions, about 550,000 "
                          "births in one year: for benchmarks", NATIONAL_AREAS,
                          date(2024, 4, 1), date(2025, 3, 31), date(2026, 3, 31), None, True),
}
