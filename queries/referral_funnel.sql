-- referral_funnel: live births at each step from screening to completed treatment, per service.
-- Grain: one row per area (or ICB) x service (ref_services).
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage).
-- Definition (contract v1 section 5), each a count of live births of the period, counting
--   only events dated in a pathway stage and on or before as_at:
--   screened = an attended screening activity of the service, or a 'screen' score it recorded;
--   screen_positive = a 'screen' score it recorded at or beyond ref_instruments.case_threshold
--     (at or below it where higher_is_better);
--   referred = a referral to the service (whether or not then attended);
--   assessed = an attended assessment; treated = an attended intervention;
--   completed = treated, then discharged by the service on or after the first intervention.
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

services as (
    select service
    from ref_services
),

cohort as (
    select *
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
      and birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
),

pathway_events as (
    select
        c.report_code as area_code,
        e.pregnancy_id,
        e.service,
        e.source,
        e.activity_type,
        e.attendance,
        e.timepoint,
        e.event_date,
        case
            when i.higher_is_better then e.score <= i.case_threshold
            else e.score >= i.case_threshold
        end as is_case
    from cohort c
    join events e on e.pregnancy_id = c.pregnancy_id and e.area_code = c.area_code
    left join ref_instruments i on i.instrument = e.instrument
    where e.stage <> 'outside'
      and e.event_date <= cast(:as_at as date)
      and e.service is not null
),

steps as (
    select
        area_code,
        pregnancy_id,
        service,
        max(case when (source = 'activity' and activity_type = 'screening' and attendance = 'attended')
                   or (source = 'measures' and timepoint = 'screen') then 1 else 0 end) as screened,
        max(case when source = 'measures' and timepoint = 'screen' and is_case then 1 else 0 end)
            as screen_positive,
        max(case when source = 'activity' and activity_type = 'referral' then 1 else 0 end) as referred,
        max(case when source = 'activity' and activity_type = 'assessment' and attendance = 'attended'
                 then 1 else 0 end) as assessed,
        min(case when source = 'activity' and activity_type = 'intervention' and attendance = 'attended'
                 then event_date end) as first_treated_date,
        max(case when source = 'activity' and activity_type = 'discharge' then event_date end)
            as last_discharge_date
    from pathway_events
    group by area_code, pregnancy_id, service
),

counted as (
    select
        area_code,
        service,
        sum(screened) as screened,
        sum(screen_positive) as screen_positive,
        sum(referred) as referred,
        sum(assessed) as assessed,
        count(first_treated_date) as treated,
        count(*) filter (where last_discharge_date >= first_treated_date) as completed
    from steps
    group by area_code, service
),

final as (
    select
        a.area_code,
        s.service,
        cast(coalesce(c.screened, 0) as integer) as screened,
        cast(coalesce(c.screen_positive, 0) as integer) as screen_positive,
        cast(coalesce(c.referred, 0) as integer) as referred,
        cast(coalesce(c.assessed, 0) as integer) as assessed,
        cast(coalesce(c.treated, 0) as integer) as treated,
        cast(coalesce(c.completed, 0) as integer) as completed
    from reporting_areas a
    cross join services s
    left join counted c on c.area_code = a.area_code and c.service = s.service
)

select * from final
