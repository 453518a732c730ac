-- births: live births, pregnancies and bookings by 12 weeks 6 days of gestation.
-- Grain: one row per area (or ICB) and period; grain = whole (the whole from..to period,
--   the default), month, quarter or year. Every period of the range appears, with zeros.
-- Parameters: area, date_from, date_to, as_at, grain.
-- Definition (contract v1 section 5; NHS Maternity Statistics gestation at booking):
--   live_births = live births with a birth date in the period (and on or before as_at);
--   pregnancies = pregnancies of any outcome whose birth date, or EDD where there is none,
--   falls in the period and on or before as_at; booked_by_13_weeks = of those pregnancies,
--   booked at a gestation (from EDD - lmp_days_before_edd) of at most
--   booking_by_13_weeks_max_days (ref_parameters); booked_by_13_weeks_pct over booking_known,
--   the pregnancies with both a booking date and an EDD; booking_missing = the others, left
--   out of the denominator as NHS Maternity Statistics leaves them out (contract v1.1).
with recursive reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

period_step as (
    select case cast(:grain as text)
               when 'month' then interval '1 month'
               when 'quarter' then interval '3 months'
               when 'year' then interval '1 year'
           end as step
),

period_starts as (
    -- the whole period starts on date_from itself ('day' truncates nothing)
    select cast(date_trunc(case cast(:grain as text) when 'whole' then 'day' else cast(:grain as text) end,
                           cast(:date_from as date)) as date) as period_start
    union all
    select cast(p.period_start + s.step as date)
    from period_starts p
    cross join period_step s
    where cast(p.period_start + s.step as date) <= cast(:date_to as date)
),

periods as (
    select
        p.period_start,
        coalesce(cast(p.period_start + s.step as date) - 1, cast(:date_to as date)) as period_end,
        case cast(:grain as text)
            when 'whole' then cast(cast(:date_from as date) as varchar) || '/'
                              || cast(cast(:date_to as date) as varchar)
            when 'month' then cast(cast(extract(year from p.period_start) as integer) as varchar) || '-'
                              || lpad(cast(cast(extract(month from p.period_start) as integer) as varchar), 2, '0')
            when 'quarter' then cast(cast(extract(year from p.period_start) as integer) as varchar) || '-Q'
                                || cast(cast(extract(quarter from p.period_start) as integer) as varchar)
            when 'year' then cast(cast(extract(year from p.period_start) as integer) as varchar)
        end as period
    from period_starts p
    cross join period_step s
),

pregnancies_in_range as (
    select
        s.report_code as area_code,
        j.pregnancy_id,
        j.is_live_birth,
        j.booked_by_13_weeks,
        j.booking_known,
        j.pathway_birth_date
    from journey j
    join area_selection s on s.area_code = j.area_code
    where s.selector = cast(:area as text)
      and j.pathway_birth_date between cast(:date_from as date) and cast(:date_to as date)
      and j.pathway_birth_date <= cast(:as_at as date)
),

counted as (
    select
        r.area_code,
        p.period,
        count(*) filter (where r.is_live_birth) as live_births,
        count(*) as pregnancies,
        count(*) filter (where r.booked_by_13_weeks) as booked_by_13_weeks,
        count(*) filter (where r.booking_known) as booking_known
    from pregnancies_in_range r
    join periods p on r.pathway_birth_date between p.period_start and p.period_end
    group by r.area_code, p.period
),

final as (
    select
        a.area_code,
        p.period,
        p.period_start,
        coalesce(c.live_births, 0) as live_births,
        coalesce(c.pregnancies, 0) as pregnancies,
        coalesce(c.booked_by_13_weeks, 0) as booked_by_13_weeks,
        coalesce(c.booking_known, 0) as booking_known,
        coalesce(c.pregnancies, 0) - coalesce(c.booking_known, 0) as booking_missing,
        100.0 * coalesce(c.booked_by_13_weeks, 0) / nullif(coalesce(c.booking_known, 0), 0)
            as booked_by_13_weeks_pct
    from reporting_areas a
    cross join periods p
    left join counted c on c.area_code = a.area_code and c.period = p.period
)

select * from final
