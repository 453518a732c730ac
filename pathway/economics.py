"""The economic case's arithmetic, as pure functions on economic_case's rows (contract v1.1 7.3):
evaluate (every figure), totals (with what they leave out), tornado (one-way sensitivity), and the
figures in words and money at 3 significant figures that the page and the report both print.

queries/economic_case.sql gives, per area and condition, the counts (live births, women treated)
and the sourced inputs (prevalence, cost per case, episode costs, shares, targets, effect);
`evaluate` works out every figure from them, step by step as the domain notes set it out:

    expected_cases        = live_births x per_1000 / 1000
    cost_of_illness       = expected_cases x cost_per_case (society: mother and child, lifetime)
      mother/child parts  = expected_cases x the part per case (psychosis: not split by the source)
      public_sector_cost  = expected_cases x cost_per_case x public_share (1.7bn / 8.1bn), unless
                            ref_costs gives the condition's own public-sector cost per case
      nhs_social_care_cost= expected_cases x cost_per_case x nhs_social_care_share (1.2bn / 8.1bn)
    each tier (specialist, targeted) shares the women it treats among the conditions it treats
    in proportion to their prevalence (share = per_1000 / the tier's sum of per_1000):
    current_service_spend = sum over tiers of tier_treated x share x episode cost
    extra (per tier)      = max(0, target % x live_births / 100 - tier_treated): no cap at need
    extra_treated         = sum over tiers of extra x share
    extra_spend           = sum over tiers of extra x share x episode cost
    avoided_cost          = extra_treated x cost_per_case x effect           (society)
    avoided_public_cost   = extra_treated x public cost per case x effect     (public sector)
    net_benefit(_public)  = avoided - extra_spend;  roi_society / roi_public = avoided / extra_spend
A condition with no cost per case (PTSD, adjustment disorders) is not costed: its expected cases
and the spend on it are shown, its cost and avoided cost are blank (never another's cost), so the
totals' return is on the costed conditions' benefit against all the spend.

Run on disclosed (rounded) counts, every figure is derived from what people may see; a hidden
count leaves the figures resting on it blank (numpy NaN propagation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from pathway.statistics import frame_with, numbers_of

# The figures evaluate adds, in the order the metric shows them after its inputs.
MONEY_COLUMNS = ("cost_of_illness", "mother_cost", "child_cost", "public_sector_cost",
                 "nhs_social_care_cost", "current_service_spend", "extra_spend", "avoided_cost",
                 "avoided_public_cost", "net_benefit", "net_benefit_public")
PEOPLE_COLUMNS = ("expected_cases", "extra_treated")
RATIO_COLUMNS = ("roi", "roi_society", "roi_public")
# Inputs a person may change for a session (the page's editable assumptions).
SCALAR_ASSUMPTIONS = ("effect", "target_access_pct", "targeted_target_pct", "public_share",
                      "nhs_social_care_share", "specialist_episode_cost", "targeted_episode_cost")
TIERS = ("specialist", "targeted")


@dataclass(frozen=True)
class Changes:
    """What a session (or a sensitivity run) changes in the inputs; None or empty keeps them.

    scalars: any of SCALAR_ASSUMPTIONS; per_1000 and cost_per_case: {condition: value} (cost in
    the row's price year pounds); need: low, mid or high; cost_scale and episode_scale multiply
    every cost per case (with its parts) and every episode cost."""

    scalars: Mapping[str, float] | None = None
    per_1000: Mapping[str, float] | None = None
    cost_per_case: Mapping[str, float] | None = None
    need: str | None = None
    cost_scale: float = 1.0
    episode_scale: float = 1.0


def evaluate(frame: pd.DataFrame, changes: Changes | None = None, *,
             order: Callable[[list[str]], list[str]] | None = None) -> pd.DataFrame:
    """Every figure of the economic case from economic_case's counts and inputs (see module doc).
    Array arithmetic in the order the formulas are written (the sensitivity chart evaluates a
    frame fifteen times, and pandas' per-operation cost was most of a page). The inputs' columns
    come first, then the figures; `order`, given every column name, may say another order."""
    out = _with_changes(frame, changes or Changes())
    return frame_with(out, _figures_of(out), order)


def _figures_of(out: pd.DataFrame) -> dict[str, np.ndarray]:
    """The figures evaluate adds, by column, from inputs with any changes already made."""
    num = lambda column: numbers_of(out[column])  # noqa: E731
    births, per_1000 = num("live_births"), num("per_1000")
    costed = out["costed"].astype(bool).to_numpy()
    cost = np.where(costed, num("cost_per_case"), np.nan)
    expected = births * per_1000 / 1000.0
    given = num("public_cost_per_case_given")
    public_per_case = np.where(np.isnan(given), cost * num("public_share"), given)
    figures = {
        "expected_cases": expected,
        "cost_of_illness": expected * cost,
        "mother_cost": expected * np.where(costed, num("mother_cost_per_case"), np.nan),
        "child_cost": expected * np.where(costed, num("child_cost_per_case"), np.nan),
        "public_sector_cost": expected * public_per_case,
        "nhs_social_care_cost": expected * cost * num("nhs_social_care_share"),
    }
    spend = np.zeros(len(out))
    extra_treated = np.zeros(len(out))
    extra_spend = np.zeros(len(out))
    areas = pd.factorize(out["area_code"].to_numpy(), use_na_sentinel=True)[0]
    for tier in TIERS:
        treats = out[f"treated_by_{tier}"].astype(bool).to_numpy()
        weight = np.where(treats, per_1000, 0.0)
        total = group_totals(weight, areas)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.nan_to_num(weight / np.where(total == 0, np.nan, total), nan=0.0,
                                  posinf=np.inf, neginf=-np.inf)
        tier_treated = num(f"{tier}_treated")
        target = num("target_access_pct" if tier == "specialist" else "targeted_target_pct")
        episode = num(f"{tier}_episode_cost")
        extra = np.maximum(target * births / 100.0 - tier_treated, 0.0)
        spend = spend + tier_treated * share * episode
        extra_treated = extra_treated + extra * share
        extra_spend = extra_spend + extra * share * episode
        figures[f"{tier}_extra"] = extra
        figures[f"{tier}_share"] = share
    effect = num("effect")
    avoided = extra_treated * cost * effect
    avoided_public = extra_treated * public_per_case * effect
    with np.errstate(divide="ignore", invalid="ignore"):
        spent = np.where(extra_spend > 0, extra_spend, np.nan)
        roi_society, roi_public = avoided / spent, avoided_public / spent
    figures.update({
        "current_service_spend": spend, "extra_treated": extra_treated, "extra_spend": extra_spend,
        "avoided_cost": avoided, "avoided_public_cost": avoided_public,
        "net_benefit": avoided - extra_spend, "net_benefit_public": avoided_public - extra_spend,
        "roi_society": roi_society, "roi_public": roi_public,
        "roi": roi_society,  # the contract's v1 column: the societal return
    })
    return figures


def group_totals(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's group total of `values` (groups: integer codes; -1, no group, gives NaN), NaN
    left out, each total the exactly rounded sum (math.fsum), whatever the rows' order. pandas'
    groupby transform cost a quarter of a millisecond a call on one area's five rows."""
    values = np.asarray(values, dtype=float)
    if not len(values):
        return values
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    sums = [math.fsum(part[~np.isnan(part)]) for part in np.split(values[order], starts[1:])]
    totals = np.empty(len(values))
    totals[order] = np.repeat(np.asarray(sums, dtype=float), sizes)
    totals[groups < 0] = np.nan
    return totals


def _with_changes(frame: pd.DataFrame, changes: Changes) -> pd.DataFrame:
    out = frame.copy()
    if changes.need:
        out["per_1000"] = out[f"per_1000_{changes.need}"]
    for name, value in (changes.scalars or {}).items():
        if name not in SCALAR_ASSUMPTIONS:
            raise ValueError(f"{name!r} is not an economic case assumption one can change: "
                             f"one of {', '.join(SCALAR_ASSUMPTIONS)}")
        if value is not None:
            out[name] = float(value)
    for condition, value in (changes.per_1000 or {}).items():
        if value is not None:
            out.loc[out["condition"] == condition, "per_1000"] = float(value)
    for condition, value in (changes.cost_per_case or {}).items():
        if value is None:
            continue
        rows = out["condition"] == condition
        old = pd.to_numeric(out.loc[rows, "cost_per_case"], errors="coerce")
        # the mother and child parts keep their proportions of the new total
        factor = float(value) * out.loc[rows, "cost_uplift"].astype(float) / old
        for column in ("cost_per_case", "mother_cost_per_case", "child_cost_per_case",
                       "public_cost_per_case_given"):
            out.loc[rows, column] = pd.to_numeric(out.loc[rows, column], errors="coerce") * factor
    if changes.cost_scale != 1.0:
        for column in ("cost_per_case", "mother_cost_per_case", "child_cost_per_case",
                       "public_cost_per_case_given"):
            out[column] = pd.to_numeric(out[column], errors="coerce") * changes.cost_scale
    if changes.episode_scale != 1.0:
        for tier in TIERS:
            out[f"{tier}_episode_cost"] = out[f"{tier}_episode_cost"].astype(float) * changes.episode_scale
    return out


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator > 0)


# ---- totals, honestly ---------------------------------------------------------------------------
TOTALLED = ("expected_cases",) + MONEY_COLUMNS[:-2] + ("extra_treated",)


def totals(frame: pd.DataFrame) -> dict[str, Any]:
    """Totals over the rows (conditions, and areas) of an evaluated frame, with what they leave out.

    left_out: rows whose figures rest on a hidden count (blank), so the totals cannot include
    them; left_out_areas: the areas those rows belong to. Conditions not costed add their spend
    and people but no cost (named in not_costed). ROI is total avoided over total extra spend."""
    hidden = frame["expected_cases"].isna().to_numpy() | frame["extra_spend"].isna().to_numpy()
    shown = ~hidden
    out: dict[str, Any] = {column: _total(_numbers(frame, column)[shown]) for column in TOTALLED}
    out["net_benefit"] = out["avoided_cost"] - out["extra_spend"]
    out["net_benefit_public"] = out["avoided_public_cost"] - out["extra_spend"]
    out["roi_society"] = out["avoided_cost"] / out["extra_spend"] if out["extra_spend"] > 0 else math.nan
    out["roi_public"] = out["avoided_public_cost"] / out["extra_spend"] if out["extra_spend"] > 0 else math.nan
    costed = frame["costed"].astype(bool).to_numpy()
    out["break_even_effect_public"] = _break_even(frame, shown, "public")
    out["break_even_effect_society"] = _break_even(frame, shown, "society")
    out["left_out"] = int(hidden.sum())
    out["left_out_areas"] = sorted(frame.loc[hidden, "area_code"].astype(str).unique())
    out["rows"] = len(frame)
    out["not_costed"] = list(dict.fromkeys(frame.loc[~costed, "condition"]))
    out["extra_treated_costed"] = _total(_numbers(frame, "extra_treated")[shown & costed])
    return out


def break_even_effect(frame: pd.DataFrame, perspective: str = "public") -> float:
    """The effect (share of a case's cost avoided) at which avoided cost equals extra spend."""
    return _break_even(frame, np.ones(len(frame), dtype=bool), perspective)


def _break_even(frame: pd.DataFrame, rows: np.ndarray, perspective: str) -> float:
    """break_even_effect over the chosen rows."""
    costed = rows & frame["costed"].astype(bool).to_numpy()
    per_case = _numbers(frame, "public_sector_cost" if perspective == "public" else "cost_of_illness")[costed]
    cases = _numbers(frame, "expected_cases")[costed]
    with np.errstate(divide="ignore", invalid="ignore"):
        cost_per_case = per_case / np.where(cases == 0, np.nan, cases)
    worth = _total(_numbers(frame, "extra_treated")[costed] * cost_per_case)
    spend = _total(_numbers(frame, "extra_spend")[rows])
    return spend / worth if worth > 0 and spend > 0 else math.nan


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _total(values: np.ndarray) -> float:
    """A sum leaving out blanks, as pandas adds a column (blanks as 0, numpy's pairwise sum)."""
    return float(np.where(np.isnan(values), 0.0, values).sum())


def by_area(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per area: its totals (as `totals`), for the all-areas view and its chart."""
    rows = []
    for area, rows_here in frame.groupby("area_code", sort=False):
        found = totals(rows_here)
        first = rows_here.iloc[0]
        rows.append({"area_code": area, "live_births": first["live_births"],
                     "specialist_treated": first["specialist_treated"],
                     "targeted_treated": first["targeted_treated"],
                     **{k: v for k, v in found.items() if not isinstance(v, list)}})
    return pd.DataFrame(rows)


# ---- one-way sensitivity ------------------------------------------------------------------------
@dataclass(frozen=True)
class Variation:
    """One uncertain assumption, moved to its low and its high value with everything else fixed."""

    assumption: str
    low_label: str
    high_label: str
    low: Changes
    high: Changes


def variations(parameters: Mapping[str, float], deflators: Mapping[str, float],
               cost_price_year: str | None, base_effect: float) -> list[Variation]:
    """The tornado's assumptions: prevalence low/high, cost per case +/-, effect low/high, episode
    cost +/-, the price year of the costs per case (one year either side) and the public-sector
    share (NHS and social care only). Ranges from ref_parameters (sensitivity_*; the effect's low and
    high are scaled with the effect in use, as multiples of effect_avoided_share)."""
    cost_pct = float(parameters.get("sensitivity_cost_per_case_pct", 25))
    episode_pct = float(parameters.get("sensitivity_episode_cost_pct", 50))
    # the effect's range is relative to the reference effect, so it follows an effect a person sets
    default_effect = float(parameters.get("effect_avoided_share", base_effect)) or base_effect
    effect_low = base_effect * float(parameters.get("sensitivity_effect_low", default_effect / 2)) / default_effect
    effect_high = base_effect * float(parameters.get("sensitivity_effect_high", default_effect * 2)) / default_effect
    found = [
        Variation("Prevalence", "low", "high", Changes(need="low"), Changes(need="high")),
        Variation("Cost per case", f"-{cost_pct:g}%", f"+{cost_pct:g}%",
                  Changes(cost_scale=1 - cost_pct / 100), Changes(cost_scale=1 + cost_pct / 100)),
        Variation("Effect (share of cost avoided)", f"{effect_low:g}", f"{effect_high:g}",
                  Changes(scalars={"effect": effect_low}), Changes(scalars={"effect": effect_high})),
        Variation("Treatment episode cost", f"-{episode_pct:g}%", f"+{episode_pct:g}%",
                  Changes(episode_scale=1 - episode_pct / 100), Changes(episode_scale=1 + episode_pct / 100)),
    ]
    years = sorted(deflators)
    if cost_price_year in years:
        at = years.index(cost_price_year)
        before, after = years[max(at - 1, 0)], years[min(at + 1, len(years) - 1)]
        # costs counted in an earlier year's pounds are worth more once uplifted, and vice versa
        found.append(Variation(f"Price year of the costs per case ({cost_price_year})", before, after,
                               Changes(cost_scale=deflators[cost_price_year] / deflators[before]),
                               Changes(cost_scale=deflators[cost_price_year] / deflators[after])))
    public, nhs = parameters.get("public_sector_share_of_cost"), parameters.get("nhs_social_care_share_of_cost")
    if public is not None and nhs is not None:
        found.append(Variation("Public-sector share of the cost", "NHS and social care only",
                               "all public sector",
                               Changes(scalars={"public_share": nhs}), Changes(scalars={"public_share": public})))
    return found


def tornado(frame: pd.DataFrame, found: list[Variation], measure: str = "roi_public",
            changes: Changes | None = None) -> pd.DataFrame:
    """One-way sensitivity of a totals() figure: one row per assumption with the figure at its
    low and high value, the base and the swing (|high - low|), largest swing first."""
    base_changes = changes or Changes()
    base = totals(evaluate(frame, base_changes))[measure]
    rows = []
    for variation in found:
        values = []
        for moved in (variation.low, variation.high):
            combined = _combine(base_changes, moved)
            values.append(totals(evaluate(frame, combined))[measure])
        rows.append({"assumption": variation.assumption, "low_label": variation.low_label,
                     "high_label": variation.high_label, "low_value": values[0],
                     "high_value": values[1], "base": base,
                     "swing": abs(values[1] - values[0]) if not any(map(math.isnan, values)) else math.nan})
    out = pd.DataFrame(rows)
    return out.sort_values("swing", ascending=False, kind="stable", na_position="last").reset_index(drop=True)


def _combine(base: Changes, moved: Changes) -> Changes:
    return Changes(scalars={**(base.scalars or {}), **(moved.scalars or {})},
                   per_1000=base.per_1000 if not moved.need else None,
                   cost_per_case=base.cost_per_case,
                   need=moved.need or base.need,
                   cost_scale=base.cost_scale * moved.cost_scale,
                   episode_scale=base.episode_scale * moved.episode_scale)


# ---- money as people read it (contract 7.4: 3 significant figures) -------------------------------
def three_figures(value: float) -> float:
    """A value rounded to 3 significant figures (half away from zero): 170_092_145 -> 170_000_000."""
    if value is None or not math.isfinite(value) or value == 0:
        return value
    digits = 2 - int(math.floor(math.log10(abs(value))))
    # whole powers of ten as integers, so 15,430,850 gives 15,400,000 exactly
    if digits >= 0:
        rounded = math.floor(abs(value) * 10 ** digits + 0.5) / 10 ** digits
    else:
        rounded = float(math.floor(abs(value) / 10 ** -digits + 0.5) * 10 ** -digits)
    return math.copysign(rounded, value)


def three_figures_array(values: np.ndarray) -> np.ndarray:
    """three_figures of every value at once (the same doubles: the same powers of ten, floor and
    division), NaN kept."""
    v = np.asarray(values, dtype=float)
    size = np.abs(v)
    rounds = np.isfinite(v) & (v != 0)
    # the digits from math.log10, as three_figures takes them (numpy's log10 may differ by a hair)
    magnitude = np.zeros(len(v))
    magnitude[rounds] = [math.floor(math.log10(x)) for x in size[rounds]]
    digits = 2 - magnitude
    with np.errstate(over="ignore", invalid="ignore"):
        up = np.floor(size * 10.0 ** np.maximum(digits, 0) + 0.5) / 10.0 ** np.maximum(digits, 0)
        down = np.floor(size / 10.0 ** np.maximum(-digits, 0) + 0.5) * 10.0 ** np.maximum(-digits, 0)
    return np.where(rounds, np.copysign(np.where(digits >= 0, up, down), v), v)


def money_text(value) -> str:
    """£170m, £1.23m, £45.6k, £980: 3 significant figures, never to the pound above £999."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "*"
    value = three_figures(float(value))
    sign = "−" if value < 0 else ""
    size = abs(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if size >= limit:
            return f"{sign}£{_figures(size / limit)}{suffix}"
    return f"{sign}£{_figures(size)}"


def _figures(number: float) -> str:
    """A number already at 3 significant figures, without trailing zeros: 1.23, 45.6, 170."""
    if number >= 100:
        return f"{number:.0f}"
    if number >= 10:
        return f"{number:.1f}".rstrip("0").rstrip(".")
    return f"{number:.2f}".rstrip("0").rstrip(".")


def disclosed(frame: pd.DataFrame) -> pd.DataFrame:
    """evaluate on disclosed counts, then money and people to 3 significant figures, returns to 2
    decimals (contract 7.4): what leaves the server for people. Rounded before the frame is
    built: a column set afterwards costs pandas a rebuild of its blocks each time."""
    figures = _figures_of(frame)
    for column in MONEY_COLUMNS + PEOPLE_COLUMNS:
        figures[column] = three_figures_array(figures[column])
    for column in RATIO_COLUMNS:
        figures[column] = np.round(figures[column], 2)
    return frame_with(frame, figures)


# ---- in words (the page and the report say the same) --------------------------------------------
TIER_WORDS = {"specialist": "Specialist perinatal services", "targeted": "Targeted services (NHS Talking Therapies)"}


def access_percent(treated, births) -> str:
    """A percentage of disclosed counts at the precision its rounded denominator supports
    (contract 7.4: one decimal place only from about 4,000 births)."""
    if pd.isna(treated) or pd.isna(births) or not births:
        return "*"
    value = 100.0 * float(treated) / float(births)
    return f"{value:.1f}%" if births >= 4000 else f"{value:.0f}%"


def access_sentences(frame: pd.DataFrame) -> list[str]:
    """Each tier's current access against its target, in words: a target at or below current
    access is said as such, never as '0.0 more people treated'."""
    per_area = frame.groupby("area_code", sort=False).first()
    sentences = []
    for tier in TIERS:
        target_column = "target_access_pct" if tier == "specialist" else "targeted_target_pct"
        target = float(per_area[target_column].iloc[0])
        births = pd.to_numeric(per_area["live_births"], errors="coerce")
        treated = pd.to_numeric(per_area[f"{tier}_treated"], errors="coerce")
        shown = births.notna() & treated.notna()
        words = TIER_WORDS[tier]
        if len(per_area) == 1:
            if not shown.iloc[0]:
                sentences.append(f"{words}: the count is hidden (1 to 7 people), so the scenario "
                                 "for this tier is not shown.")
                continue
            b, t = float(births.iloc[0]), float(treated.iloc[0])
            now = access_percent(t, b)
            if 100.0 * t / b >= target if b else True:
                sentences.append(f"{words} already treat {now} of live births ({t:,.0f} of {b:,.0f}), "
                                 f"at or above the {target:g}% target: the scenario adds no one at this tier.")
            else:
                sentences.append(f"{words} treat {now} of live births ({t:,.0f} of {b:,.0f}); "
                                 f"reaching the {target:g}% target means about "
                                 f"{people_text(target * b / 100 - t)} more women treated in this birth cohort.")
            continue
        met = shown & (100.0 * treated >= target * births)
        short = shown & ~met
        extra = float((target * births[short] / 100 - treated[short]).sum())
        sentence = (f"{words}: {int(met.sum())} of {len(per_area)} areas already treat at least "
                    f"{target:g}% of live births (the scenario adds no one there)" if met.any() else
                    f"{words}: none of the {len(per_area)} areas yet treats {target:g}% of live births")
        if short.any():
            who = f"the other {int(short.sum())}" if met.any() else "together they"
            sentence += f"; {who} need about {people_text(extra)} more women treated in this birth cohort to reach it"
        hidden = int((~shown).sum())
        if hidden:
            sentence += f"; {hidden} area{'s' if hidden > 1 else ''} with a hidden count left out"
        sentences.append(sentence + ".")
    return sentences


def people_text(value: float) -> str:
    """A modelled number of people at 3 significant figures: 1,040, 72.5, 0.68."""
    if value is None or math.isnan(value):
        return "*"
    rounded = three_figures(float(value))
    return f"{rounded:,.0f}" if abs(rounded) >= 100 else f"{rounded:.3g}"


def left_out_words(found: Mapping[str, Any]) -> str:
    """What a total leaves out, always said (contract 7.3: honest totals)."""
    if found["left_out"]:
        areas = len(found["left_out_areas"])
        return (f"Totals leave out {found['left_out']} of {found['rows']} rows ({areas} "
                f"area{'s' if areas != 1 else ''}) whose live births or treated counts are hidden "
                "(1 to 7 people), so they understate the whole.")
    return f"Totals count all {found['rows']} rows (no count is hidden)."


def not_costed_words(labels: Mapping[str, str], found: Mapping[str, Any]) -> str:
    names = [labels.get(c, c.replace("_", " ")) for c in found["not_costed"]]
    if not names:
        return ""
    return (f"Not costed: {', '.join(names)}. Bauer et al. (2014) did not cost them, so no cost is "
            "assumed: their expected cases and the spend on treating them are counted, their cost "
            "is not, and the return shown is understated.")


def roi_words(value: float) -> str:
    return "no extra spend, so no return to work out" if value is None or math.isnan(value) else \
        f"£{value:.2f} avoided for every £1 spent"
