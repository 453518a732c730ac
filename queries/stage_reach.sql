-- stage_reach: live births reached by each tier of service in each stage of the pathway.
-- Grain: one row per area (or ICB) x stage (ref_stages) x tier (universal, targeted, specialist).
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage,
--   ref_stages: a birth counts once day 365 has passed by as_at).
-- Definition (contract v1 sections 2 and 5): of the live births of the period, those with at
--   least one attended screening, assessment, contact or intervention of that tier dated in
--   that stage (journey_reach). Referrals, discharges, DNAs, cancellations and events outside
--   every stage are not reach. The preconception and antenatal stages are measured for the
--   same births.
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

stages as (
    select stage, sort_order as stage_order
    from ref_stages
),

tiers as (
    select distinct
        canonical as tier,
        case canonical when 'universal' then 1 when 'targeted' then 2 when 'specialist' then 3 end
            as tier_order
    from ref_codes
    where code_list = 'tier'
),

cohort as (
    select *
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
      and birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
),

cohort_size as (
    select report_code as area_code, count(*) as cohort
    from cohort
    group by report_code
),

reached as (
    select c.report_code as area_code, r.stage, r.tier, count(*) as reached
    from cohort c
    -- joined on pregnancy alone (a pregnancy has one area), the areas asked for filtered on
    -- their own: PostgreSQL misjudges a join on pregnancy and area (see equity.sql)
    join journey_reach r on r.pregnancy_id = c.pregnancy_id
    where r.first_reached_date <= cast(:as_at as date)
      and r.area_code in (select area_code from area_selection where selector = cast(:area as text))
    group by c.report_code, r.stage, r.tier
),

final as (
    select
        a.area_code,
        s.stage,
        t.tier,
        coalesce(r.reached, 0) as reached,
        coalesce(z.cohort, 0) as cohort,
        100.0 * coalesce(r.reached, 0) / nullif(coalesce(z.cohort, 0), 0) as pct,
        s.stage_order,
        t.tier_order
    from reporting_areas a
    cross join stages s
    cross join tiers t
    left join cohort_size z on z.area_code = a.area_code
    left join reached r on r.area_code = a.area_code and r.stage = s.stage and r.tier = t.tier
)

select * from final
