-- economic_case: the counts and sourced assumptions behind the economic case, per area and condition.
-- Grain: one row per area (or ICB) x ref_economic_conditions condition (costed or not).
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage),
--   need (low, mid or high prevalence), price_year (blank: the latest ref_deflators year),
--   effect, target_access_pct, targeted_target_pct, public_share, nhs_social_care_share (bound
--   by pathway.metrics from the parameters or ref_parameters).
-- Definition (contract v1.1 section 7.3): the counts and inputs only; the arithmetic (expected
--   cases, cost of illness and its parts, spend, the scenario, both perspectives' return) is
--   pathway.economics.evaluate, run on the counts as people may see them (contract 7.4).
--   live_births = live births of the period with complete follow-up (as specialist_access);
--   treated = of them, women with an attended assessment or intervention from conception to
--   day 365 (journey_treatment) in a service that treats the condition (ref_condition_services);
--   specialist_treated / targeted_treated = the same for any treating service of that tier
--   (ref_services.default_tier): the people the scenario's two targets are set against;
--   per_1000 from ref_economic_conditions; cost_per_case and its mother and child parts from
--   ref_costs (Bauer et al. 2014), uplifted from their price year to price_year by the ratio of
--   ref_deflators indexes; episode costs from ref_unit_costs '<tier>_episode', uplifted alike.
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

chosen_year as (
    select coalesce(cast(:price_year as text), (select max(price_year) from ref_deflators)) as price_year
),

uplifts as (
    -- from each price year to the chosen one: the ratio of their deflator indexes
    select
        base.price_year as from_year,
        cast(d.index_value as double precision) / cast(base.index_value as double precision) as uplift
    from ref_deflators base
    cross join chosen_year y
    join ref_deflators d on d.price_year = y.price_year
),

condition_tiers as (
    -- which tiers have a service treating each condition
    select
        m.condition,
        max(case when s.default_tier = 'specialist' then 1 else 0 end) as by_specialist,
        max(case when s.default_tier = 'targeted' then 1 else 0 end) as by_targeted
    from ref_condition_services m
    join ref_services s on s.service = m.service
    group by m.condition
),

conditions as (
    select
        k.condition,
        k.label as condition_label,
        k.sort_order as condition_order,
        k.prevalence_basis,
        cast(k.per_1000_low as double precision) as per_1000_low,
        cast(k.per_1000_mid as double precision) as per_1000_mid,
        cast(k.per_1000_high as double precision) as per_1000_high,
        case cast(:need as text)
            when 'low' then cast(k.per_1000_low as double precision)
            when 'mid' then cast(k.per_1000_mid as double precision)
            when 'high' then cast(k.per_1000_high as double precision)
        end as per_1000,
        c.condition is not null as costed,
        cast(c.cost_per_case as double precision) * u.uplift as cost_per_case,
        cast(c.mother_cost as double precision) * u.uplift as mother_cost_per_case,
        cast(c.child_cost as double precision) * u.uplift as child_cost_per_case,
        cast(c.public_sector_cost as double precision) * u.uplift as public_cost_per_case_given,
        c.price_year as cost_price_year,
        u.uplift as cost_uplift,
        c.status as cost_status,
        coalesce(t.by_specialist, 0) = 1 as treated_by_specialist,
        coalesce(t.by_targeted, 0) = 1 as treated_by_targeted
    from ref_economic_conditions k
    left join ref_costs c on c.condition = k.cost_condition
    left join uplifts u on u.from_year = c.price_year
    left join condition_tiers t on t.condition = k.condition
),

episode_costs as (
    select
        max(case when c.item = 'specialist_episode'
                 then cast(c.cost as double precision) * u.uplift end) as specialist_episode_cost,
        max(case when c.item = 'targeted_episode'
                 then cast(c.cost as double precision) * u.uplift end) as targeted_episode_cost
    from ref_unit_costs c
    join uplifts u on u.from_year = c.price_year
    where c.item in ('specialist_episode', 'targeted_episode')
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

treatment as (
    -- each woman of the cohort and each treating service she was assessed or treated by, by as_at
    select c.report_code as area_code, c.pregnancy_id, t.service
    from cohort c
    join journey_treatment t on t.pregnancy_id = c.pregnancy_id
    where t.first_treated_date <= cast(:as_at as date)
      and t.area_code in (select area_code from area_selection where selector = cast(:area as text))
      and t.service in (select service from ref_condition_services)
),

treated_by_condition as (
    select t.area_code, m.condition, count(distinct t.pregnancy_id) as treated
    from treatment t
    join ref_condition_services m on m.service = t.service
    group by t.area_code, m.condition
),

treated_by_tier as (
    select
        t.area_code,
        count(distinct case when s.default_tier = 'specialist' then t.pregnancy_id end)
            as specialist_treated,
        count(distinct case when s.default_tier = 'targeted' then t.pregnancy_id end)
            as targeted_treated
    from treatment t
    join ref_services s on s.service = t.service
    group by t.area_code
),

final as (
    select
        a.area_code,
        k.condition,
        k.condition_label,
        k.costed,
        coalesce(b.live_births, 0) as live_births,
        k.per_1000,
        k.cost_per_case,
        coalesce(x.treated, 0) as treated,
        coalesce(r.specialist_treated, 0) as specialist_treated,
        coalesce(r.targeted_treated, 0) as targeted_treated,
        cast(:target_access_pct as double precision) as target_access_pct,
        cast(:targeted_target_pct as double precision) as targeted_target_pct,
        cast(:effect as double precision) as effect,
        cast(:public_share as double precision) as public_share,
        cast(:nhs_social_care_share as double precision) as nhs_social_care_share,
        y.price_year,
        k.per_1000_low,
        k.per_1000_mid,
        k.per_1000_high,
        k.prevalence_basis,
        k.mother_cost_per_case,
        k.child_cost_per_case,
        k.public_cost_per_case_given,
        k.cost_price_year,
        k.cost_uplift,
        k.cost_status,
        k.treated_by_specialist,
        k.treated_by_targeted,
        e.specialist_episode_cost,
        e.targeted_episode_cost,
        k.condition_order
    from reporting_areas a
    cross join conditions k
    cross join episode_costs e
    cross join chosen_year y
    left join births b on b.area_code = a.area_code
    left join treated_by_condition x on x.area_code = a.area_code and x.condition = k.condition
    left join treated_by_tier r on r.area_code = a.area_code
)

select * from final
