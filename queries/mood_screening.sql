-- mood_screening: live births whose mother had a mood screen in the antenatal and in the postnatal stage.
-- Grain: one row per area (or ICB) x stage (antenatal, postnatal).
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the postnatal
--   stage, ref_stages: day 56).
-- Definition (contract v1 section 5; NICE CG192): of the live births of the period, those
--   with a score on an instrument marked is_mood_screen in ref_instruments (Whooley, GAD-2,
--   EPDS, PHQ-9), any timepoint, dated in that stage (journey_mood_screens).
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

stages as (
    select stage, sort_order as stage_order
    from ref_stages
    where stage in ('antenatal', 'postnatal')
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

screened as (
    select c.report_code as area_code, m.stage, count(*) as screened
    from cohort c
    -- joined on pregnancy alone (a pregnancy has one area), the areas asked for filtered on
    -- their own: PostgreSQL misjudges a join on pregnancy and area (see equity.sql)
    join journey_mood_screens m on m.pregnancy_id = c.pregnancy_id
    where m.first_screen_date <= cast(:as_at as date)
      and m.area_code in (select area_code from area_selection where selector = cast(:area as text))
    group by c.report_code, m.stage
),

final as (
    select
        a.area_code,
        s.stage,
        coalesce(n.screened, 0) as screened,
        coalesce(z.cohort, 0) as cohort,
        100.0 * coalesce(n.screened, 0) / nullif(coalesce(z.cohort, 0), 0) as pct,
        s.stage_order
    from reporting_areas a
    cross join stages s
    left join cohort_size z on z.area_code = a.area_code
    left join screened n on n.area_code = a.area_code and n.stage = s.stage
)

select * from final
