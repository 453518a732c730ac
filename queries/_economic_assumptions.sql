-- Every assumption behind economic_case, one row per step, with its value, unit, source and
-- status, for the dashboard's and the report's step-by-step table
-- (pathway.metrics.economic_assumptions).
-- Parameters: need, price_year, the bound values (effect, target_access_pct,
--   targeted_target_pct, public_share, nhs_social_care_share: the reference default unless
--   given) and each one's *_given (null unless the person set it), exactly as in economic_case.
with settings as (
    select coalesce(cast(:price_year as text), (select max(price_year) from ref_deflators)) as price_year
),

conditions as (
    select k.*, c.cost_per_case, c.mother_cost, c.child_cost, c.public_sector_cost,
           c.price_year as cost_price_year, c.status as cost_status, c.source as cost_source
    from ref_economic_conditions k
    left join ref_costs c on c.condition = k.cost_condition
),

prevalence_steps as (
    select
        10 + sort_order / 100.0 as step_order,
        'Prevalence per 1,000 maternities (' || cast(:need as text) || '): ' || label as step,
        case cast(:need as text)
            when 'low' then cast(per_1000_low as double precision)
            when 'mid' then cast(per_1000_mid as double precision)
            when 'high' then cast(per_1000_high as double precision)
        end as value,
        'per 1,000 maternities (' || coalesce(prevalence_basis, 'basis not given') || ')' as unit,
        source,
        status
    from conditions
),

cost_steps as (
    select 20 + sort_order / 100.0 as step_order, 'Cost per case: ' || label as step,
           cast(cost_per_case as double precision) as value,
           'GBP per case, lifetime, to society, ' || cost_price_year || ' prices' as unit,
           cost_source as source, cost_status as status
    from conditions
    where cost_per_case is not null
    union all
    select 21 + sort_order / 100.0, 'Cost per case, mother: ' || label, cast(mother_cost as double precision),
           'GBP per case, ' || cost_price_year || ' prices', cost_source, cost_status
    from conditions
    where cost_per_case is not null and mother_cost is not null
    union all
    select 22 + sort_order / 100.0, 'Cost per case, child: ' || label, cast(child_cost as double precision),
           'GBP per case, ' || cost_price_year || ' prices', cost_source, cost_status
    from conditions
    where cost_per_case is not null and child_cost is not null
    union all
    select 23 + sort_order / 100.0, 'Cost per case: ' || label, cast(null as double precision),
           'not split into mother and child by the source', cost_source, cost_status
    from conditions
    where cost_per_case is not null and mother_cost is null
    union all
    select 24 + sort_order / 100.0, 'Cost per case: ' || label, cast(null as double precision),
           'not costed: Bauer et al. (2014) did not cost it, so no cost is assumed', source, status
    from conditions
    where cost_per_case is null
),

share_steps as (
    select 25 as step_order, 'Public-sector share of the cost (every condition)' as step,
           cast(:public_share as double precision) as value,
           'share of cost per case (1.7bn of 8.1bn; not confirmed per condition)' as unit,
           case when cast(:public_share_given as double precision) is null then p.source
                else 'your setting (this session)' end as source,
           case when cast(:public_share_given as double precision) is null then p.status else 'your setting' end as status
    from (select 1 as one) x
    left join ref_parameters p on p.name = 'public_sector_share_of_cost'
    union all
    select 26, 'NHS and social care share of the cost (every condition)',
           cast(:nhs_social_care_share as double precision),
           'share of cost per case (1.2bn of 8.1bn; not confirmed per condition)',
           case when cast(:nhs_social_care_share_given as double precision) is null then p.source
                else 'your setting (this session)' end,
           case when cast(:nhs_social_care_share_given as double precision) is null then p.status else 'your setting' end
    from (select 1 as one) x
    left join ref_parameters p on p.name = 'nhs_social_care_share_of_cost'
),

uplift_steps as (
    -- one row per price year the costs are in
    select distinct
        30 as step_order,
        'Price uplift from ' || base.price_year || ' to ' || s.price_year as step,
        cast(d.index_value as double precision) / cast(base.index_value as double precision) as value,
        'multiplier (ratio of GDP deflator indexes)' as unit,
        base.source,
        base.status
    from ref_deflators base
    cross join settings s
    join ref_deflators d on d.price_year = s.price_year
    where base.price_year in (select price_year from ref_costs
                              union select price_year from ref_unit_costs
                                    where item in ('specialist_episode', 'targeted_episode'))
),

treating_steps as (
    select 35 + k.sort_order / 100.0 as step_order, 'Treated by: ' || k.label || ' (' || s.label || ')' as step,
           cast(null as double precision) as value,
           'attended assessment or intervention, conception to day 365' as unit,
           m.rationale || '. ' || coalesce(m.source, '') as source, m.status
    from ref_condition_services m
    join ref_economic_conditions k on k.condition = m.condition
    join ref_services s on s.service = m.service
),

episode_steps as (
    select 40 as step_order, 'Treatment episode cost: ' || t.canonical || ' tier (' || u.label || ')' as step,
           cast(u.cost as double precision) as value,
           'GBP per episode, ' || u.price_year || ' prices' as unit, u.source, u.status
    from ref_codes t
    join ref_unit_costs u on u.item = t.canonical || '_episode'
    where t.code_list = 'tier' and t.code = t.canonical
),

scenario_steps as (
    select 50 as step_order, 'Effect: share of a case''s cost avoided by treatment' as step,
           cast(:effect as double precision) as value,
           'share of cost per case' as unit,
           case when cast(:effect_given as double precision) is null then p.source else 'your setting (this session)' end as source,
           case when cast(:effect_given as double precision) is null then p.status else 'your setting' end as status
    from (select 1 as one) x
    left join ref_parameters p on p.name = 'effect_avoided_share'
    union all
    select 60, 'Target: women treated by a specialist service, % of live births',
           cast(:target_access_pct as double precision),
           'percent of live births (not capped at expected need)',
           case when cast(:target_access_pct_given as double precision) is null then p.source
                else 'your setting (this session)' end,
           case when cast(:target_access_pct_given as double precision) is null then p.status else 'your setting' end
    from (select 1 as one) x
    left join ref_parameters p on p.name = 'national_ambition_pct'
    union all
    select 61, 'Target: women treated by a targeted service, % of live births',
           cast(:targeted_target_pct as double precision),
           'percent of live births (not capped at expected need)',
           case when cast(:targeted_target_pct_given as double precision) is null then p.source
                else 'your setting (this session)' end,
           case when cast(:targeted_target_pct_given as double precision) is null then p.status else 'your setting' end
    from (select 1 as one) x
    left join ref_parameters p on p.name = 'targeted_target_pct'
),

final as (
    select * from prevalence_steps
    union all
    select * from cost_steps
    union all
    select * from share_steps
    union all
    select * from uplift_steps
    union all
    select * from treating_steps
    union all
    select * from episode_steps
    union all
    select * from scenario_steps
)

select * from final
