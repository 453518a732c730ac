-- equity: a reach measure by deprivation, ethnic group, age band and risk factors.
-- Grain: one row per dimension x group for the population the area parameter selects (an
--   area, an ICB, or all = every loaded area as one table), reported under that code.
--   Dimensions: imd_quintile, ethnic_group, age_band, risk_factors (any rf_ flag present, none
--   present, or not known), each with an 'all' row its groups add up to; and risk_factor, one
--   row per rf_ flag present (flags overlap, so no 'all' row). Blank values form 'Not known'.
-- Parameters: area, date_from, date_to, as_at, measure (specialist_access, stage_reach,
--   mood_screening, mandated_contacts.<contact_code>), stage (any or a ref_stages stage), tier.
-- Definition (contract v1 section 5): cohort = live births of the period whose follow-up for
--   the measure has ended by as_at (365 days for stage_reach and specialist_access, the end of
--   the postnatal stage for mood_screening, ref_contact_windows.follow_up_days for a contact);
--   reached = of those, births counted by the measure exactly as its own metric counts them,
--   from journey_reach_measures (built with the journey from the same tables: the specialist
--   access date; journey_reach of the tier in the stage, any stage for stage=any;
--   journey_mood_screens in the stage, antenatal or postnatal for any; journey_contacts in the
--   contact's window); follow-up days per measure from the reach_measures view; rf_ flags
--   from journey_risk_flags and journey_risk_factor_names (cohort_risk_factors by area).
--   Groups and the reference
--   group of each dimension come from ref_equity_groups (IMD deciles paired into quintiles,
--   age at booking bands, count of risk factors present); the rate ratio against the reference
--   group is worked out in pathway.metrics.
with cohort as (
    select c.pregnancy_id, c.area_code, c.parent_age, c.ethnic_group, c.imd_decile
    from live_births c
    join reach_measures f on f.measure = cast(:measure as text)
    where c.selector = cast(:area as text)
      and c.birth_date between cast(:date_from as date) and cast(:date_to as date)
      and c.birth_date + f.follow_up_days <= cast(:as_at as date)
),

reached as (
    -- the measure's own rule, from journey_reach_measures (built with the journey); which
    -- stage and tier rows a measure reads is bound by pathway.metrics (reach_stage, reach_tier).
    -- A pregnancy has one area, so the journey tables join on pregnancy_id alone, each read
    -- for the areas asked for by a filter of its own: PostgreSQL took a join on pregnancy and
    -- area as two independent conditions, expected one row where there were thousands, and
    -- compared every pair (2.3 s for one area, now 0.12 s); DuckDB skips other areas' rows.
    select r.pregnancy_id
    from cohort c
    join journey_reach_measures r on r.pregnancy_id = c.pregnancy_id
    where r.measure = cast(:measure as text)
      and r.stage = cast(:reach_stage as text)
      and r.tier = cast(:reach_tier as text)
      and r.first_reached_date <= cast(:as_at as date)
      and r.area_code in (select area_code from area_selection where selector = cast(:area as text))
),

risk_factor_counts as (
    -- per pregnancy: how many rf_ flags are present; null when none was recorded at all
    select c.pregnancy_id,
           case when count(f.present) > 0
                then count(*) filter (where f.present) end as present
    from cohort c
    join journey_risk_flags f on f.pregnancy_id = c.pregnancy_id
    where f.area_code in (select area_code from area_selection where selector = cast(:area as text))
    group by c.pregnancy_id
),

groups as (
    select dimension, group_name, sort_order, min_value, max_value, is_reference
    from ref_equity_groups
),

placed as (
    select c.pregnancy_id, 'imd_quintile' as dimension, g.group_name
    from cohort c
    left join groups g
        on g.dimension = 'imd_quintile'
       and c.imd_decile >= coalesce(g.min_value, c.imd_decile)
       and c.imd_decile <= coalesce(g.max_value, c.imd_decile)
    union all
    select c.pregnancy_id, 'age_band', g.group_name
    from cohort c
    left join groups g
        on g.dimension = 'age_band'
       and c.parent_age >= coalesce(g.min_value, c.parent_age)
       and c.parent_age <= coalesce(g.max_value, c.parent_age)
    union all
    select c.pregnancy_id, 'ethnic_group', g.group_name
    from cohort c
    left join groups g on g.dimension = 'ethnic_group' and g.group_name = c.ethnic_group
    union all
    select c.pregnancy_id, 'risk_factors', g.group_name
    from cohort c
    left join risk_factor_counts r on r.pregnancy_id = c.pregnancy_id
    left join groups g
        on g.dimension = 'risk_factors'
       and r.present >= coalesce(g.min_value, r.present)
       and r.present <= coalesce(g.max_value, r.present)
),

people as (
    -- every birth in one group per dimension (missing or unplaced values in 'Not known'),
    -- and in the dimension's 'all' row
    select pregnancy_id, dimension, coalesce(group_name, 'Not known') as group_name
    from placed
    union all
    select pregnancy_id, dimension, 'all'
    from placed
    union all
    select f.pregnancy_id, 'risk_factor', f.risk_factor
    from cohort c
    join journey_risk_flags f on f.pregnancy_id = c.pregnancy_id
    where f.present
      and f.area_code in (select area_code from area_selection where selector = cast(:area as text))
),

counted as (
    select p.dimension, p.group_name, count(*) as cohort, count(r.pregnancy_id) as reached
    from people p
    left join reached r on r.pregnancy_id = p.pregnancy_id
    group by p.dimension, p.group_name
),

dimensions as (
    select dimension, min(sort_order) as dimension_order, max(sort_order) + 1 as not_known_order
    from groups
    group by dimension
),

reference_groups as (
    select dimension, group_name
    from groups
    where is_reference
),

rows_shown as (
    -- every group of the reference table, 'Not known' and 'all', with zeros where nobody is
    select g.dimension, g.group_name, g.sort_order as group_order
    from groups g
    union all
    select d.dimension, 'Not known', d.not_known_order
    from dimensions d
    union all
    select d.dimension, 'all', d.dimension_order - 1
    from dimensions d
    union all
    -- every rf_ flag recorded anywhere, so the rows do not change with the area chosen
    select 'risk_factor', risk_factor, 0
    from journey_risk_factor_names
),

final as (
    select
        cast(:area as text) as area_code,
        cast(:measure as text) as measure,
        s.dimension,
        s.group_name as "group",
        coalesce(n.cohort, 0) as cohort,
        coalesce(n.reached, 0) as reached,
        100.0 * coalesce(n.reached, 0) / nullif(coalesce(n.cohort, 0), 0) as pct,
        -- per-flag rows are compared with families without any risk factor
        case when s.dimension = 'risk_factor' then 'risk_factors' else s.dimension end
            as reference_dimension,
        rg.group_name as reference_group,
        coalesce(d.dimension_order, (select max(sort_order) + 1 from groups)) as dimension_order,
        s.group_order
    from rows_shown s
    left join dimensions d on d.dimension = s.dimension
    left join reference_groups rg
        on rg.dimension = case when s.dimension = 'risk_factor' then 'risk_factors' else s.dimension end
    left join counted n on n.dimension = s.dimension and n.group_name = s.group_name
)

select * from final
