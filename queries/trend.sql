-- trend: one measure month by month, for an XmR (statistical process control) chart.
-- Grain: one row per area (or ICB) x calendar month of the period, months without births
--   included (zero, or no value where there is no denominator).
-- Parameters: area, date_from, date_to, as_at, measure (births, a reach measure as in
--   equity.sql, or waiting_times), stage, tier (for stage_reach and mood_screening), service
--   (for waiting_times). The default period is ref_parameters trend_window_months long
--   (pathway.metrics works it out).
-- Definition (contract v1 section 5): by birth month, live births of the period whose
--   follow-up for the measure has ended by as_at; births: numerator = live births, value =
--   that count; a reach measure: numerator = births reached, counted exactly as in
--   equity.sql (journey tables), denominator = the month's births, value = the percentage;
--   waiting_times: by referral month, referrals to the service of live births (any birth date)
--   dated in the period in a pathway stage, numerator = those seen (a first attended
--   assessment, contact or intervention with the same service on or after the referral, by
--   as_at), denominator = referrals, value = the median days to being seen (as
--   waiting_times.sql). Mean, process limits and special-cause flags are worked out in
--   pathway.metrics (pathway.statistics.xmr_chart).
with recursive reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

month_starts as (
    select cast(date_trunc('month', cast(:date_from as date)) as date) as month_start
    union all
    select cast(month_start + interval '1 month' as date)
    from month_starts
    where cast(month_start + interval '1 month' as date) <= cast(:date_to as date)
),

months as (
    select
        month_start,
        cast(month_start + interval '1 month' as date) as next_month_start,
        cast(cast(extract(year from month_start) as integer) as varchar) || '-'
            || lpad(cast(cast(extract(month from month_start) as integer) as varchar), 2, '0')
            as month
    from month_starts
),

measure_follow_up as (
    select 'births' as measure, 0 as follow_up_days
    union all
    select 'waiting_times', 0
    union all
    select 'stage_reach', max(end_offset_days)
    from ref_stages
    where end_anchor = 'birth'
    union all
    select 'specialist_access', max(end_offset_days)
    from ref_stages
    where end_anchor = 'birth'
    union all
    select 'mood_screening', max(end_offset_days)
    from ref_stages
    where end_anchor = 'birth' and stage in ('antenatal', 'postnatal')
    union all
    select 'mandated_contacts.' || contact_code, follow_up_days
    from ref_contact_windows
),

cohort as (
    select c.pregnancy_id, c.area_code, c.report_code, c.birth_date, c.specialist_access_date
    from live_births c
    join measure_follow_up f on f.measure = cast(:measure as text)
    where c.selector = cast(:area as text)
      and cast(:measure as text) <> 'waiting_times'
      and c.birth_date between cast(:date_from as date) and cast(:date_to as date)
      and c.birth_date <= cast(:as_at as date)
      and c.birth_date + f.follow_up_days <= cast(:as_at as date)
),

reached as (
    select c.pregnancy_id
    from cohort c
    where cast(:measure as text) = 'specialist_access'
      and c.specialist_access_date <= cast(:as_at as date)
    union
    select r.pregnancy_id
    from cohort c
    join journey_reach r on r.pregnancy_id = c.pregnancy_id and r.area_code = c.area_code
    where cast(:measure as text) = 'stage_reach'
      and r.tier = cast(:tier as text)
      and (r.stage = cast(:stage as text) or cast(:stage as text) = 'any')
      and r.first_reached_date <= cast(:as_at as date)
    union
    select m.pregnancy_id
    from cohort c
    join journey_mood_screens m on m.pregnancy_id = c.pregnancy_id and m.area_code = c.area_code
    where cast(:measure as text) = 'mood_screening'
      and m.stage in ('antenatal', 'postnatal')
      and (m.stage = cast(:stage as text) or cast(:stage as text) = 'any')
      and m.first_screen_date <= cast(:as_at as date)
    union
    select j.pregnancy_id
    from cohort c
    join journey_contacts j on j.pregnancy_id = c.pregnancy_id and j.area_code = c.area_code
    where 'mandated_contacts.' || j.contact_code = cast(:measure as text)
      and j.first_in_window_date <= cast(:as_at as date)
),

births_by_month as (
    select
        c.report_code as area_code,
        m.month,
        count(*) as births,
        count(r.pregnancy_id) as reached
    from cohort c
    join months m on c.birth_date >= m.month_start and c.birth_date < m.next_month_start
    left join reached r on r.pregnancy_id = c.pregnancy_id
    group by c.report_code, m.month
),

referrals as (
    select
        b.report_code as area_code,
        e.event_id as referral_id,
        e.pregnancy_id,
        e.area_code as home_area_code,
        e.event_date as referral_date
    from live_births b
    join events e on e.pregnancy_id = b.pregnancy_id and e.area_code = b.area_code
    where b.selector = cast(:area as text)
      and cast(:measure as text) = 'waiting_times'
      and e.source = 'activity'
      and e.activity_type = 'referral'
      and e.service = cast(:service as text)
      and e.stage <> 'outside'
      and e.event_date between cast(:date_from as date) and cast(:date_to as date)
      and e.event_date <= cast(:as_at as date)
),

first_seen as (
    select r.referral_id, min(s.event_date) - r.referral_date as days_waited
    from referrals r
    join events s
        on s.pregnancy_id = r.pregnancy_id
       and s.area_code = r.home_area_code
       and s.service = cast(:service as text)
    where s.source = 'activity'
      and s.attendance = 'attended'
      and s.activity_type in ('assessment', 'contact', 'intervention')
      and s.stage <> 'outside'
      and s.event_date >= r.referral_date
      and s.event_date <= cast(:as_at as date)
    group by r.referral_id, r.referral_date
),

waits_by_month as (
    select
        r.area_code,
        m.month,
        count(*) as referrals,
        count(f.days_waited) as seen,
        percentile_cont(0.5) within group (order by f.days_waited) as median_days
    from referrals r
    join months m on r.referral_date >= m.month_start and r.referral_date < m.next_month_start
    left join first_seen f on f.referral_id = r.referral_id
    group by r.area_code, m.month
),

final as (
    select
        a.area_code,
        m.month,
        cast(:measure as text) as measure,
        case cast(:measure as text)
            when 'births' then coalesce(b.births, 0)
            when 'waiting_times' then coalesce(w.seen, 0)
            else coalesce(b.reached, 0)
        end as numerator,
        case cast(:measure as text)
            when 'births' then null
            when 'waiting_times' then coalesce(w.referrals, 0)
            else coalesce(b.births, 0)
        end as denominator,
        case cast(:measure as text)
            when 'births' then cast(coalesce(b.births, 0) as double precision)
            when 'waiting_times' then w.median_days
            else 100.0 * coalesce(b.reached, 0) / nullif(coalesce(b.births, 0), 0)
        end as value
    from reporting_areas a
    cross join months m
    left join births_by_month b on b.area_code = a.area_code and b.month = m.month
    left join waits_by_month w on w.area_code = a.area_code and w.month = m.month
)

select * from final
