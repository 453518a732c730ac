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
--   Each step's first date per birth and service is built with the journey (journey_funnel).
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

counted as (
    -- each step's first date per birth and service (journey_funnel), reached by as_at
    select
        c.report_code as area_code,
        f.service,
        count(*) filter (where f.first_screened_date <= cast(:as_at as date)) as screened,
        count(*) filter (where f.first_screen_positive_date <= cast(:as_at as date)) as screen_positive,
        count(*) filter (where f.first_referred_date <= cast(:as_at as date)) as referred,
        count(*) filter (where f.first_assessed_date <= cast(:as_at as date)) as assessed,
        count(*) filter (where f.first_treated_date <= cast(:as_at as date)) as treated,
        count(*) filter (where f.first_completed_date <= cast(:as_at as date)) as completed
    from cohort c
    join journey_funnel f on f.pregnancy_id = c.pregnancy_id
    where f.area_code in (select area_code from area_selection where selector = cast(:area as text))
    group by c.report_code, f.service
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
