-- Every assumption behind economic_case, one row per step, with its value, unit, source and
-- status, for the dashboard's step-by-step table (pathway.metrics.economic_assumptions).
-- Parameters: need, price_year, effect, target_access_pct (blank = the reference default,
-- exactly as in economic_case.sql).
with settings as (
    select
        coalesce(cast(:price_year as text),
                 (select max(price_year) from ref_deflators)) as price_year,
        cast(:effect as double precision) as effect_given,
        cast(:target_access_pct as double precision) as target_given
),

costed as (
    select p.*, c.cost_per_case, c.mother_cost, c.child_cost, c.public_sector_cost,
           c.price_year as cost_price_year, c.label as cost_label, c.source as cost_source,
           c.status as cost_status
    from ref_prevalence p
    join ref_costs c on c.condition = p.cost_condition
),

prevalence_steps as (
    select
        10 as step_order,
        'Prevalence per 1,000 maternities (' || cast(:need as text) || '): ' || label as step,
        case cast(:need as text)
            when 'low' then cast(per_1000_low as double precision)
            when 'mid' then cast(per_1000_mid as double precision)
            when 'high' then cast(per_1000_high as double precision)
        end as value,
        'per 1,000 maternities' as unit,
        source,
        status
    from costed
),

cost_parts as (
    select distinct cost_condition, cost_label, cost_per_case, mother_cost, child_cost,
           public_sector_cost, cost_price_year, cost_source, cost_status
    from costed
),

cost_steps as (
    select 20 as step_order, 'Cost per case: ' || cost_label as step,
           cast(cost_per_case as double precision) as value,
           'GBP per case, ' || cost_price_year || ' prices' as unit, cost_source as source,
           cost_status as status
    from cost_parts
    union all
    select 21, 'Cost per case, mother: ' || cost_label, cast(mother_cost as double precision),
           'GBP per case, ' || cost_price_year || ' prices', cost_source, cost_status
    from cost_parts
    union all
    select 22, 'Cost per case, child: ' || cost_label, cast(child_cost as double precision),
           'GBP per case, ' || cost_price_year || ' prices', cost_source, cost_status
    from cost_parts
    union all
    select 23, 'Cost per case, public sector: ' || cost_label,
           cast(public_sector_cost as double precision),
           'GBP per case, ' || cost_price_year || ' prices', cost_source, cost_status
    from cost_parts
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
                              union select price_year from ref_unit_costs)
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
           coalesce(s.effect_given, cast(p.value as double precision)) as value,
           'share of cost per case' as unit,
           case when s.effect_given is null then p.source
                else 'your setting (the effect chosen on the page)' end as source,
           case when s.effect_given is null then p.status else 'your setting' end as status
    from settings s
    left join ref_parameters p on p.name = 'effect_avoided_share'
    union all
    select 60, 'Target access: live births treated by each condition''s tier',
           coalesce(s.target_given, cast(p.value as double precision)),
           'percent of live births',
           case when s.target_given is null then p.source
                else 'your setting (the target access chosen on the page)' end,
           case when s.target_given is null then p.status else 'your setting' end
    from settings s
    left join ref_parameters p on p.name = 'national_ambition_pct'
),

final as (
    select * from prevalence_steps
    union all
    select * from cost_steps
    union all
    select * from uplift_steps
    union all
    select * from episode_steps
    union all
    select * from scenario_steps
)

select * from final
