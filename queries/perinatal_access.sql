-- perinatal_access: women in contact with specialist perinatal mental health services in a
--   rolling 12 months, the way NHS England's MHSDS measure MHS91 counts them.
-- Grain: one row per area (or ICB) x month end (the last `months` complete months up to as_at).
-- Parameters: area, as_at, last_month_end and months (pathway.metrics works them out from
--   as_at and `--param months`), access_service (perinatal_mh: the specialist community
--   perinatal team and mother and baby units; maternal_mh: Maternal Mental Health Services).
-- Definition (contract v1.1 section 7.3; domain-facts section 5, MHS91):
--   accessed = distinct women (person_id) with at least one attended contact, assessment or
--   intervention of the service(s), with the woman herself or her family (not a partner's own
--   contact), face to face, by video or of unknown mode, dated in the 12 months ending at the
--   month end (ref_parameters perinatal_access_window_months) and between conception and ref_parameters perinatal_access_months_after_birth
--   (24) calendar months after birth (the EDD while there is no birth date), any outcome.
--   Telephone, text and other contacts do not count (MHS91 counts face to face and video only).
--   A woman counts once, in the area of her first counted contact in the window, as MHS91
--   assigns each geography its first contact.
--   mode_unknown = of those women, the ones counted only by contacts with a blank mode: the
--   figure is comparable with the published one only when it is 0.
--   telephone_or_text_only = women with counted-type activity in the window only by telephone,
--   text or other means (not counted, shown so the gap to a local count is explained).
--   live_births = live births with a birth date in the same 12 months;
--   access_rate_per_100_births = 100 x accessed / live_births (a Byar interval is added by
--   pathway.metrics: women of any outcome are not a subset of live births, so it is a rate);
--   ambition_per_100_births from ref_parameters perinatal_access_ambition_per_100_births.
with recursive month_starts as (
    select cast(date_trunc('month', cast(:last_month_end as date)) as date) as month_start,
           1 as month_number
    union all
    select cast(month_start - interval '1 month' as date), month_number + 1
    from month_starts
    where month_number < cast(:months as integer)
),

settings as (
    select
        max(case when name = 'perinatal_access_window_months' then cast(value as integer) end)
            as window_months,
        max(case when name = 'perinatal_access_months_after_birth' then cast(value as integer) end)
            as months_after_birth,
        max(case when name = 'perinatal_access_ambition_per_100_births' then value end)
            as ambition_per_100_births
    from ref_parameters
),

windows as (
    -- the 12 months ending at each month end: window_start .. month_end, inclusive
    select
        cast(month_start + interval '1 month' as date) - 1 as month_end,
        cast(month_start + interval '1 month' - interval '1 month' * s.window_months as date)
            as window_start
    from month_starts
    cross join settings s
),

reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

services as (
    select 'perinatal_mh' as service, 'perinatal_mh' as access_service
    union all select 'mbu', 'perinatal_mh'
    union all select 'maternal_mh', 'maternal_mh'
),

women as (
    -- the pregnancies of every woman with a pregnancy in the areas asked for: only they can be
    -- counted there (a contact's area is its pregnancy's), and only their activity is read
    select j.pregnancy_id, j.person_id, j.area_code, j.conception_date, j.pathway_birth_date
    from journey j
    where j.person_id in (
        select mine.person_id
        from journey mine
        join area_selection s on s.area_code = mine.area_code
        where s.selector = cast(:area as text)
    )
),

activity_in_scope as (
    -- attended contacts of the service with the woman, inside her conception..24 months window
    select
        j.person_id,
        j.area_code,
        a.activity_id,
        a.activity_date,
        a.contact_mode
    from activity a
    join services v on v.service = a.service and v.access_service = cast(:access_service as text)
    join women j on j.pregnancy_id = a.pregnancy_id
    cross join settings s
    where a.attendance = 'attended'
      and a.activity_type in ('contact', 'assessment', 'intervention')
      and coalesce(a.subject, 'birthing_parent') in ('birthing_parent', 'family')
      and a.activity_date <= cast(:as_at as date)
      and a.activity_date >= j.conception_date
      and a.activity_date <= cast(j.pathway_birth_date + interval '1 month' * s.months_after_birth as date)
),

in_window as (
    select
        w.month_end,
        i.person_id,
        i.area_code,
        i.activity_id,
        i.activity_date,
        (i.contact_mode is null or i.contact_mode in ('face_to_face', 'video')) as counts,
        i.contact_mode is null as mode_unknown
    from activity_in_scope i
    join windows w on i.activity_date between w.window_start and w.month_end
),

people as (
    -- per woman and month end, in one pass: the area of her first counted contact in the
    -- window (else of her first contact at all), whether she counts, and whether only by
    -- contacts of unknown mode (a join of two groupings had PostgreSQL rescan one of them
    -- for every row of the other: it expected 29 women where there were 87,558)
    select month_end, person_id, area_code, counted, counted_by_known_mode
    from (
        select
            month_end,
            person_id,
            area_code,
            row_number() over (partition by month_end, person_id
                               order by case when counts then 0 else 1 end, activity_date,
                                        activity_id) as position,
            bool_or(counts) over (partition by month_end, person_id) as counted,
            bool_or(counts and not mode_unknown) over (partition by month_end, person_id)
                as counted_by_known_mode
        from in_window
    ) ranked
    where position = 1
),

counted as (
    select
        s.report_code as area_code,
        p.month_end,
        count(*) filter (where p.counted) as accessed,
        count(*) filter (where p.counted and not p.counted_by_known_mode) as mode_unknown,
        count(*) filter (where not p.counted) as telephone_or_text_only
    from people p
    join area_selection s on s.area_code = p.area_code and s.selector = cast(:area as text)
    group by s.report_code, p.month_end
),

births as (
    select b.report_code as area_code, w.month_end, count(*) as live_births
    from live_births b
    join windows w on b.birth_date between w.window_start and w.month_end
    where b.selector = cast(:area as text)
    group by b.report_code, w.month_end
),

final as (
    select
        a.area_code,
        cast(:access_service as text) as service,
        cast(cast(extract(year from w.month_end) as integer) as varchar) || '-'
            || lpad(cast(cast(extract(month from w.month_end) as integer) as varchar), 2, '0') as month,
        w.window_start,
        w.month_end,
        coalesce(c.accessed, 0) as accessed,
        coalesce(c.mode_unknown, 0) as mode_unknown,
        coalesce(c.telephone_or_text_only, 0) as telephone_or_text_only,
        coalesce(b.live_births, 0) as live_births,
        100.0 * coalesce(c.accessed, 0) / nullif(coalesce(b.live_births, 0), 0)
            as access_rate_per_100_births,
        s.ambition_per_100_births
    from reporting_areas a
    cross join windows w
    cross join settings s
    left join counted c on c.area_code = a.area_code and c.month_end = w.month_end
    left join births b on b.area_code = a.area_code and b.month_end = w.month_end
)

select * from final
