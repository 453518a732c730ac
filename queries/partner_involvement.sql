-- partner_involvement: of women with specialist perinatal access, those whose partner was
--   assessed or seen too (the Long Term Plan offers partners an assessment).
-- Grain: one row per area (or ICB).
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage,
--   ref_stages: day 365).
-- Definition (contract v1.1 section 7.3): accessed = live births of the period with
--   specialist access as specialist_access counts it (journey.specialist_access_date, by
--   as_at); partner_seen = of those, pregnancies with an attended assessment or contact of
--   any service whose subject is the partner, dated from conception to day follow_up_days
--   after birth and on or before as_at; partner_seen_pct over accessed.
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

accessed as (
    select report_code, pregnancy_id, conception_date, birth_date
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
      and birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
      and specialist_access_date <= cast(:as_at as date)
),

partners_seen as (
    select distinct x.pregnancy_id
    from accessed x
    join activity a on a.pregnancy_id = x.pregnancy_id
    where a.subject = 'partner'
      and a.attendance = 'attended'
      and a.activity_type in ('assessment', 'contact')
      and a.activity_date between x.conception_date
                              and x.birth_date + cast(:follow_up_days as integer)
      and a.activity_date <= cast(:as_at as date)
),

counted as (
    select
        x.report_code as area_code,
        count(*) as accessed,
        count(p.pregnancy_id) as partner_seen
    from accessed x
    left join partners_seen p on p.pregnancy_id = x.pregnancy_id
    group by x.report_code
),

final as (
    select
        a.area_code,
        coalesce(c.accessed, 0) as accessed,
        coalesce(c.partner_seen, 0) as partner_seen,
        100.0 * coalesce(c.partner_seen, 0) / nullif(coalesce(c.accessed, 0), 0) as partner_seen_pct
    from reporting_areas a
    left join counted c on c.area_code = a.area_code
)

select * from final
