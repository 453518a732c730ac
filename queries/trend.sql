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
--   equity.sql (journey_reach_measures), denominator = the month's births, value = the percentage;
--   waiting_times: by referral month, referrals to the service of live births (any birth date)
--   dated in the period in a pathway stage, numerator = those seen (a first attended
--   assessment, contact or intervention with the same service on or after the referral, by
--   as_at), denominator = referrals, value = the median days to being seen (journey_referrals,
--   as waiting_times.sql); risk_pathway.referred_antenatal (contract v1.1): by birth month,
--   live births with a risk factor recorded, numerator = those referred to a targeted or
--   specialist service before birth (as risk_pathway.sql). Mean, process limits and special-cause flags are worked out in
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
    select 'risk_pathway.referred_antenatal', 0
    union all
    select measure, follow_up_days
    from reach_measures
),

cohort as (
    select c.pregnancy_id, c.area_code, c.report_code, c.birth_date
    from live_births c
    join measure_follow_up f on f.measure = cast(:measure as text)
    where c.selector = cast(:area as text)
      and cast(:measure as text) <> 'waiting_times'
      and c.birth_date between cast(:date_from as date) and cast(:date_to as date)
      and c.birth_date <= cast(:as_at as date)
      and c.birth_date + f.follow_up_days <= cast(:as_at as date)
      -- the risk pathway's denominator is the families with a risk recorded
      and (cast(:measure as text) <> 'risk_pathway.referred_antenatal'
           or exists (select 1 from journey_risk_flags f
                      where f.pregnancy_id = c.pregnancy_id and f.present))
),

reached as (
    -- as equity.sql: the measure's rule from journey_reach_measures (reach_stage and
    -- reach_tier bound by pathway.metrics)
    select r.pregnancy_id
    from cohort c
    join journey_reach_measures r on r.pregnancy_id = c.pregnancy_id
    where r.measure = cast(:measure as text)
      and r.area_code in (select area_code from area_selection where selector = cast(:area as text))
      and r.stage = cast(:reach_stage as text)
      and r.tier = cast(:reach_tier as text)
      and r.first_reached_date <= cast(:as_at as date)
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

waits as (
    -- referrals and their first attended contact from journey_referrals, as waiting_times.sql
    select
        b.report_code as area_code,
        r.referral_date,
        case when r.first_seen_date <= cast(:as_at as date)
             then r.first_seen_date - r.referral_date end as days_waited
    from live_births b
    join journey_referrals r on r.pregnancy_id = b.pregnancy_id
    where b.selector = cast(:area as text)
      and r.area_code in (select area_code from area_selection where selector = cast(:area as text))
      and cast(:measure as text) = 'waiting_times'
      and r.service = cast(:service as text)
      and r.referral_date between cast(:date_from as date) and cast(:date_to as date)
      and r.referral_date <= cast(:as_at as date)
),

waits_by_month as (
    select
        w.area_code,
        m.month,
        count(*) as referrals,
        count(w.days_waited) as seen,
        percentile_cont(0.5) within group (order by w.days_waited) as median_days
    from waits w
    join months m on w.referral_date >= m.month_start and w.referral_date < m.next_month_start
    group by w.area_code, m.month
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
