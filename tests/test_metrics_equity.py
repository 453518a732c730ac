"""equity: a reach measure by deprivation, ethnic group, age band and risk factors, on a
hand-built cohort, on DuckDB and PostgreSQL.

Period 2023-01-01..2024-06-30, as_at 2024-12-31. Every birth below is a live birth on
2023-03-01 (EDD the same) unless said; 'accessed' = an attended perinatal MH assessment on
day 20 (postnatal, specialist), so specialist_access and stage_reach (specialist) agree.

Alpha (E06000001)
| id  | IMD decile | age | ethnic group | rf_ flags recorded                      | accessed |
| E1  | 1          | 18  | Asian        | domestic_abuse yes, previous_loss no    | yes |
| E2  | 2          | 19  | Asian        | domestic_abuse no                       | no: a DNA |
| E3  | 10         | 30  | White        | domestic_abuse no                       | yes |
| E4  | 9          | 25  | White        | none recorded                           | no  |
| E5  | blank      | -   | blank        | none recorded                           | yes |
| E6  | 5          | 34  | White        | domestic_abuse yes, substance_misuse yes| yes |
| E7  | 6          | 35  | Black        | substance_misuse no                     | no  |
| E8  | 3          | 24  | Mixed        | none recorded                           | yes |
| E9  | 10         | 40  | White        | previous_loss yes                       | no  |
| E10 | 4          | 20  | Not stated   | previous_loss blank                     | no  |
| E11 | 1          | 22  | Asian        | none; born 2024-03-01, so day 365 is after as_at: out of the
|     |            |     |              | specialist access cohort, in the new birth visit's (14 days)      |
Beta (E06000002): B1 decile 9, 28, White, domestic_abuse no, accessed; B2 decile 1, 22, Black,
domestic_abuse yes, not accessed.
New birth visits: E1 day 14 (on time), E2 day 15 (late), E11 day 10 (on time).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
import sqlalchemy as sa

from metric_fixtures import ALPHA, AREAS, BETA, ICB_AB, PERIOD, build_warehouse
from pathway import journey, schema
from pathway import metrics
from pathway.catalogue import METRICS
from pathway.disclosure import apply_disclosure
from pathway.metrics import MetricError, run_metric

BIRTH = dt.date(2023, 3, 1)
LATE_BIRTH = dt.date(2024, 3, 1)
Z95 = 1.959963984540054

PEOPLE = [
    # id, area, decile, age, ethnic group, flags {name: present}, accessed, birth
    ("E1", ALPHA, 1, 18, "Asian", {"rf_domestic_abuse": True, "rf_previous_loss": False}, True),
    ("E2", ALPHA, 2, 19, "Asian", {"rf_domestic_abuse": False}, False),
    ("E3", ALPHA, 10, 30, "White", {"rf_domestic_abuse": False}, True),
    ("E4", ALPHA, 9, 25, "White", {}, False),
    ("E5", ALPHA, None, None, None, {}, True),
    ("E6", ALPHA, 5, 34, "White", {"rf_domestic_abuse": True, "rf_substance_misuse": True}, True),
    ("E7", ALPHA, 6, 35, "Black", {"rf_substance_misuse": False}, False),
    ("E8", ALPHA, 3, 24, "Mixed", {}, True),
    ("E9", ALPHA, 10, 40, "White", {"rf_previous_loss": True}, False),
    ("E10", ALPHA, 4, 20, "Not stated", {"rf_previous_loss": None}, False),
    ("E11", ALPHA, 1, 22, "Asian", {}, False),
    ("B1", BETA, 9, 28, "White", {"rf_domestic_abuse": False}, True),
    ("B2", BETA, 1, 22, "Black", {"rf_domestic_abuse": True}, False),
]


def _activity(n, pregnancy_id, service, activity_type, when, contact_code=None, attendance="attended"):
    tier = "specialist" if service == "perinatal_mh" else "universal"
    return {"activity_id": f"EQ{n:03d}", "pregnancy_id": pregnancy_id, "service": service,
            "activity_type": activity_type, "activity_date": when, "contact_code": contact_code,
            "attendance": attendance, "tier": tier}


def equity_warehouse(url):
    cohort, activity, flags = [], [], []
    for pid, area, decile, age, ethnic, rf, accessed in PEOPLE:
        birth = LATE_BIRTH if pid == "E11" else BIRTH
        cohort.append({"pregnancy_id": pid, "person_id": f"person-{pid}", "area_code": area,
                       "outcome": "live_birth", "edd": birth, "birth_date": birth,
                       "parent_age": age, "ethnic_group": ethnic, "imd_decile": decile})
        if accessed:
            activity.append(_activity(len(activity), pid, "perinatal_mh", "assessment",
                                      birth + dt.timedelta(days=20)))
        flags += [{"pregnancy_id": pid, "risk_factor": name, "present": present}
                  for name, present in rf.items()]
    activity += [
        _activity(90, "E2", "perinatal_mh", "assessment", BIRTH + dt.timedelta(days=20), attendance="dna"),
        _activity(91, "E1", "health_visiting", "contact", BIRTH + dt.timedelta(days=14), "new_birth_visit"),
        _activity(92, "E2", "health_visiting", "contact", BIRTH + dt.timedelta(days=15), "new_birth_visit"),
        _activity(93, "E11", "health_visiting", "contact", LATE_BIRTH + dt.timedelta(days=10),
                  "new_birth_visit"),
    ]
    warehouse = build_warehouse(url, areas=AREAS, cohort=cohort, activity=activity, measures=[])
    with warehouse.begin() as conn:
        conn.execute(sa.insert(schema.cohort_risk_factors), flags)
        # the journey is rebuilt after every load (pathway.journey), as a loaded cohort file's
        # rf_ columns would be: equity reads the flags from it
        journey.refresh(conn)
    return warehouse


@pytest.fixture
def warehouse(warehouse_url):
    built = equity_warehouse(warehouse_url)
    yield built
    built.dispose()


def equity(warehouse, **params):
    frame = run_metric(warehouse, "equity", {**PERIOD, **params}, suppress=False)
    return {(r.dimension, r.group): r for r in frame.itertuples()}


def counts(rows, dimension):
    return {group: (r.cohort, r.reached) for (d, group), r in rows.items() if d == dimension}


def katz(n1, d1, n0, d0):
    """The rate ratio and its 95% interval by hand: exp(log RR +- z sqrt(1/a - 1/b + 1/c - 1/d))."""
    ratio = (n1 / d1) / (n0 / d0)
    se = math.sqrt(1 / n1 - 1 / d1 + 1 / n0 - 1 / d0)
    return ratio, ratio * math.exp(-Z95 * se), ratio * math.exp(Z95 * se)


def test_imd_deciles_pair_into_quintiles_with_not_known(warehouse):
    rows = equity(warehouse, area=ALPHA)
    # E11 (born 2024-03-01) has not had 365 days by as_at: ten births, five accessed
    # (E1, E3, E5, E6, E8; E2's assessment was a DNA)
    assert counts(rows, "imd_quintile") == {
        "all": (10, 5),
        "1": (2, 1),          # deciles 1-2: E1 yes, E2 no
        "2": (2, 1),          # deciles 3-4: E8 yes, E10 no
        "3": (2, 1),          # deciles 5-6: E6 yes, E7 no
        "4": (0, 0),          # nobody in deciles 7-8: shown, as zero
        "5": (3, 1),          # deciles 9-10: E3 yes, E4 and E9 no
        "Not known": (1, 1),  # E5: no decile
    }
    quintile_1 = rows[("imd_quintile", "1")]
    # against quintile 5: (1/2) / (1/3) = 1.5, Katz interval on a=1, b=2, c=1, d=3
    ratio, low, high = katz(1, 2, 1, 3)
    assert quintile_1.rate_ratio == pytest.approx(1.5)
    assert (quintile_1.rate_ratio_ci_low, quintile_1.rate_ratio_ci_high) == (
        pytest.approx(low), pytest.approx(high))
    assert quintile_1.pct == pytest.approx(50.0)
    reference = rows[("imd_quintile", "5")]
    assert reference.rate_ratio == 1.0 and math.isnan(reference.rate_ratio_ci_low)
    assert reference.reference_group == "5"


def test_age_band_edges_and_ethnic_groups(warehouse):
    rows = equity(warehouse, area=ALPHA)
    # 19 is under 20, 20 and 24 are 20-24, 25 and 34 are 25-34, 35 is 35+
    assert counts(rows, "age_band") == {
        "all": (10, 5), "under 20": (2, 1), "20-24": (2, 1), "25-34": (3, 2), "35+": (2, 0),
        "Not known": (1, 1)}
    # under 20 against 25-34: (1/2) / (2/3) = 0.75
    assert rows[("age_band", "under 20")].rate_ratio == pytest.approx(0.75)
    assert counts(rows, "ethnic_group") == {
        "all": (10, 5), "White": (4, 2), "Mixed": (1, 1), "Asian": (2, 1), "Black": (1, 0),
        "Other": (0, 0), "Not stated": (1, 0), "Not known": (1, 1)}
    # Mixed against White: 1 / 0.5 = 2; Black: none reached, a ratio of 0 with no interval
    assert rows[("ethnic_group", "Mixed")].rate_ratio == pytest.approx(2.0)
    black = rows[("ethnic_group", "Black")]
    assert black.rate_ratio == 0.0 and math.isnan(black.rate_ratio_ci_low)


def test_reach_among_families_with_risk_factors_against_those_without(warehouse):
    rows = equity(warehouse, area=ALPHA)
    # any flag present: E1, E6 (accessed), E9 (not); flags recorded, none present: E2, E7
    # (not), E3 (accessed); nothing recorded (or only a blank): E4, E5, E8, E10
    assert counts(rows, "risk_factors") == {
        "all": (10, 5), "any risk factor": (3, 2), "no risk factor": (3, 1), "Not known": (4, 2)}
    ratio, low, high = katz(2, 3, 1, 3)  # (2/3) / (1/3) = 2
    any_flag = rows[("risk_factors", "any risk factor")]
    assert (any_flag.rate_ratio, any_flag.rate_ratio_ci_low, any_flag.rate_ratio_ci_high) == (
        pytest.approx(ratio), pytest.approx(low), pytest.approx(high))
    # one row per flag present (they overlap: E6 has two), against no risk factor
    assert counts(rows, "risk_factor") == {
        "rf_domestic_abuse": (2, 2), "rf_previous_loss": (1, 0), "rf_substance_misuse": (1, 1)}
    assert rows[("risk_factor", "rf_domestic_abuse")].rate_ratio == pytest.approx(1 / (1 / 3))
    assert rows[("risk_factor", "rf_domestic_abuse")].reference_group == "no risk factor"


def test_icb_and_all_are_one_table_for_the_whole_population(warehouse):
    icb = equity(warehouse, area=ICB_AB)
    # Alpha's ten plus Beta's B1 (decile 9, accessed) and B2 (decile 1, not)
    assert counts(icb, "imd_quintile")["all"] == (12, 6)
    assert counts(icb, "imd_quintile")["1"] == (3, 1)
    assert counts(icb, "imd_quintile")["5"] == (4, 2)
    assert icb[("imd_quintile", "1")].rate_ratio == pytest.approx((1 / 3) / (2 / 4))
    everyone = run_metric(warehouse, "equity", PERIOD, suppress=False)
    assert set(everyone.area_code) == {"all"}
    assert everyone.set_index(["dimension", "group"]).loc[("imd_quintile", "all"), "cohort"] == 12


def test_other_reach_measures_use_their_own_definition_and_follow_up(warehouse):
    # new birth visit within 14 days: 14 days of follow-up, so E11 is in; E1 and E11 on
    # time, E2 late (day 15)
    rows = equity(warehouse, area=ALPHA, metric="mandated_contacts.new_birth_visit")
    assert counts(rows, "imd_quintile")["all"] == (11, 2)
    assert counts(rows, "imd_quintile")["1"] == (3, 2)  # E1, E11 on time; E2 late
    # specialist reach in the postnatal stage: the day-20 assessments; none antenatally
    postnatal = equity(warehouse, area=ALPHA, metric="stage_reach", tier="specialist", stage="postnatal")
    assert counts(postnatal, "age_band")["all"] == (10, 5)
    antenatal = equity(warehouse, area=ALPHA, metric="stage_reach", tier="specialist", stage="antenatal")
    assert counts(antenatal, "age_band")["all"] == (10, 0)
    with pytest.raises(MetricError, match="stage='infant' does not fit metric=mood_screening"):
        run_metric(warehouse, "equity", {**PERIOD, "metric": "mood_screening", "stage": "infant"})


def test_a_hidden_group_cannot_be_worked_back_from_its_dimension_total():
    # groups 20, 30 and 3 of an 'all' row of 53: the 3 is hidden (1-7), and with it the
    # smallest other group (20), or 53 - 30 would give it away
    frame = pd.DataFrame({
        "area_code": ["all"] * 4, "dimension": ["age_band"] * 4,
        "group": ["all", "20-24", "25-34", "35+"], "cohort": [53, 20, 30, 3],
        "reached": [0, 0, 0, 0], "pct": [0.0] * 4, "ci_low": [0.0] * 4, "ci_high": [10.0] * 4,
        "rate_ratio": [1.0] * 4, "rate_ratio_ci_low": [0.5] * 4, "rate_ratio_ci_high": [2.0] * 4})
    shown = apply_disclosure(frame, METRICS["equity"].disclosure).set_index("group")
    assert pd.isna(shown.loc["35+", "cohort"]) and pd.isna(shown.loc["20-24", "cohort"])
    assert shown.loc["25-34", "cohort"] == 30 and shown.loc["all", "cohort"] == 55
    assert pd.isna(shown.loc["20-24", "rate_ratio"])


def test_rate_ratios_are_hidden_with_their_reference_group(warehouse):
    # Alpha's quintile 5 has 3 births (hidden), so no quintile's ratio to it is shown
    frame = run_metric(warehouse, "equity", {**PERIOD, "area": ALPHA})
    assert frame[frame.dimension == "imd_quintile"].rate_ratio.isna().all()
    assert not frame.cohort.dropna().between(1, 7).any()


def test_a_shown_group_loses_its_rate_ratio_when_the_reference_is_hidden():
    # quintile 1: 10 of 40 shown; quintile 5: 2 of 5, hidden. 0.25 / 0.4 = 0.625 would give
    # the reference percentage (and so its count) away, so the ratio goes with it
    frame = pd.DataFrame({
        "area_code": ["all"] * 2, "dimension": ["imd_quintile"] * 2, "group": ["1", "5"],
        "cohort": [40, 5], "reached": [10, 2], "pct": [25.0, 40.0], "ci_low": [1.0] * 2,
        "ci_high": [50.0] * 2, "rate_ratio": [0.625, 1.0], "rate_ratio_ci_low": [0.2, None],
        "rate_ratio_ci_high": [2.0, None], "reference_dimension": ["imd_quintile"] * 2,
        "reference_group": ["5", "5"]})
    shown = apply_disclosure(frame, METRICS["equity"].disclosure)
    after = metrics._STEPS["equity"].after_disclosure(shown, {})
    assert after.loc[0, "cohort"] == 40 and after.loc[0, "reached"] == 10
    assert after[["rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high"]].isna().all().all()
