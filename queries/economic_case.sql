-- economic_case: what perinatal mental health problems cost a birth cohort, and what raising access would return.
-- Grain: one row per area (or ICB) x condition: each ref_prevalence condition priced by a
--   ref_costs row (its cost_condition); conditions without a cost per case are left out.
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage),
--   need (low, mid or high prevalence), target_access_pct, effect, price_year (blank binds
--   take their defaults below).
-- Definition (contract v1 section 5; domain notes 'The economic case', step by step):
--   live_births = live births of the period with complete follow-up (as stage_reach);
--   expected_cases = live_births x per_1000 / 1000 (ref_prevalence, Joint Commissioning Panel
--   2012); cost_per_case and its mother, child and public-sector parts from ref_costs (Bauer
--   et al. 2014) uplifted from their price year to price_year by the ref_deflators index
--   (default: the latest year); cost_of_illness = expected_cases x cost_per_case (the parts
--   likewise); treating_tier = ref_prevalence.care_level (else ref_costs.treating_tier);
--   tier_reached = live births with an attended screening, assessment, contact or
--   intervention of that tier from conception to day 365 (journey_reach, antenatal, postnatal
--   and infant stages); treated = tier_reached shared among the tier's conditions in
--   proportion to their expected cases (so the rows add up to the people reached);
--   episode_cost = ref_unit_costs '<tier>_episode', uplifted; current_service_spend = treated
--   x episode_cost. Scenario: target_access_pct (default ref_parameters national_ambition_pct)
--   of live births treated by the tier, capped at the tier's expected cases; extra_treated =
--   the condition's share of (that target - tier_reached), at least 0; extra_spend =
--   extra_treated x episode_cost; avoided_cost = extra_treated x cost_per_case x effect
--   (default ref_parameters effect_avoided_share); net_benefit = avoided_cost - extra_spend;
--   roi = avoided_cost / extra_spend.
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

settings as (
    select
        coalesce(cast(:price_year as text),
                 (select max(price_year) from ref_deflators)) as price_year,
        coalesce(cast(:effect as double precision),
                 (select cast(value as double precision) from ref_parameters
                  where name = 'effect_avoided_share')) as effect,
        coalesce(cast(:target_access_pct as double precision),
                 (select cast(value as double precision) from ref_parameters
                  where name = 'national_ambition_pct'))
            as target_access_pct
),

uplifts as (
    -- from each price year to the chosen one: the ratio of their GDP deflator indexes
    select
        base.price_year as from_year,
        cast(d.index_value as double precision) / cast(base.index_value as double precision) as uplift
    from ref_deflators base
    cross join settings s
    join ref_deflators d on d.price_year = s.price_year
),

conditions as (
    select
        p.condition,
        p.cost_condition,
        row_number() over (order by p.condition) as condition_order,
        case cast(:need as text)
            when 'low' then cast(p.per_1000_low as double precision)
            when 'mid' then cast(p.per_1000_mid as double precision)
            when 'high' then cast(p.per_1000_high as double precision)
        end as per_1000,
        coalesce(p.care_level, c.treating_tier) as treating_tier,
        cast(c.cost_per_case as double precision) * u.uplift as cost_per_case,
        cast(c.mother_cost as double precision) * u.uplift as mother_cost_per_case,
        cast(c.child_cost as double precision) * u.uplift as child_cost_per_case,
        cast(c.public_sector_cost as double precision) * u.uplift as public_sector_cost_per_case
    from ref_prevalence p
    join ref_costs c on c.condition = p.cost_condition
    join uplifts u on u.from_year = c.price_year
),

episode_costs as (
    select
        t.canonical as tier,
        cast(c.cost as double precision) * u.uplift as episode_cost
    from ref_codes t
    join ref_unit_costs c on c.item = t.canonical || '_episode'
    join uplifts u on u.from_year = c.price_year
    where t.code_list = 'tier' and t.code = t.canonical
),

cohort as (
    select *
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
      and birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
),

births as (
    select report_code as area_code, count(*) as live_births
    from cohort
    group by report_code
),

tier_reach as (
    select c.report_code as area_code, r.tier, count(distinct c.pregnancy_id) as tier_reached
    from cohort c
    join journey_reach r on r.pregnancy_id = c.pregnancy_id and r.area_code = c.area_code
    where r.stage in ('antenatal', 'postnatal', 'infant')
      and r.first_reached_date <= cast(:as_at as date)
    group by c.report_code, r.tier
),

expected as (
    select
        a.area_code,
        k.*,
        coalesce(b.live_births, 0) as live_births,
        coalesce(b.live_births, 0) * k.per_1000 / 1000.0 as expected_cases,
        coalesce(t.tier_reached, 0) as tier_reached,
        e.episode_cost
    from reporting_areas a
    cross join conditions k
    left join births b on b.area_code = a.area_code
    left join tier_reach t on t.area_code = a.area_code and t.tier = k.treating_tier
    left join episode_costs e on e.tier = k.treating_tier
),

shared as (
    select
        x.*,
        -- the condition's share of its tier's expected cases in the area
        x.per_1000 / nullif(sum(x.per_1000) over (partition by x.area_code, x.treating_tier), 0)
            as tier_share,
        sum(x.expected_cases) over (partition by x.area_code, x.treating_tier) as tier_expected_cases
    from expected x
),

scenario as (
    select
        h.*,
        h.tier_reached * h.tier_share as treated,
        h.tier_share * greatest(
            least(s.target_access_pct * h.live_births / 100.0, h.tier_expected_cases)
            - h.tier_reached, 0) as extra_treated,
        s.target_access_pct,
        s.effect,
        s.price_year
    from shared h
    cross join settings s
),

final as (
    select
        area_code,
        condition,
        cost_condition,
        live_births,
        per_1000,
        expected_cases,
        cost_per_case,
        expected_cases * cost_per_case as cost_of_illness,
        expected_cases * mother_cost_per_case as mother_cost,
        expected_cases * child_cost_per_case as child_cost,
        expected_cases * public_sector_cost_per_case as public_sector_cost,
        treating_tier,
        tier_reached,
        treated,
        episode_cost,
        treated * episode_cost as current_service_spend,
        target_access_pct,
        extra_treated,
        extra_treated * episode_cost as extra_spend,
        extra_treated * cost_per_case * effect as avoided_cost,
        extra_treated * cost_per_case * effect - extra_treated * episode_cost as net_benefit,
        extra_treated * cost_per_case * effect / nullif(extra_treated * episode_cost, 0) as roi,
        effect,
        price_year,
        condition_order
    from scenario
)

select * from final
