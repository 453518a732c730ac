-- waiting_times: days from referral to being seen by the same service.
-- Grain: one row per area (or ICB) x service (ref_services).
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage).
-- Definition (contract v1 section 5; NHS England community mental health 4-week waits):
--   referrals = referrals (activity_type referral, any attendance) of live births of the
--   period, dated in a pathway stage and on or before as_at; for each, the days to the
--   first attended assessment, contact or intervention with the same service on or after
--   the referral date (in a pathway stage, on or before as_at); seen = referrals with one;
--   median_days and p90_days over those seen (continuous percentiles); seen_within_28_days
--   = referrals seen within ref_parameters waiting_time_standard_days, a percentage of all
--   referrals. NICE QS115 (contract v1.1): assessed_within_14_days = referrals whose first
--   attended assessment on or after them came within ref_parameters assessed_within_days (14),
--   treated_within_42_days = first attended intervention within treated_within_days (42),
--   each a percentage of all referrals. A contact after the pathway's last day still counts
--   as seen: the pathway window limits the referral, not the contact.
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

services as (
    select service
    from ref_services
),

waiting_standard as (
    select
        max(case when name = 'waiting_time_standard_days' then cast(value as integer) end) as days,
        max(case when name = 'assessed_within_days' then cast(value as integer) end) as assessed_days,
        max(case when name = 'treated_within_days' then cast(value as integer) end) as treated_days
    from ref_parameters
),

cohort as (
    select *
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
      and birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
),

waits as (
    -- each referral and its first attended contact with the service (journey_referrals)
    select
        c.report_code as area_code,
        r.service,
        case when r.first_seen_date <= cast(:as_at as date)
             then r.first_seen_date - r.referral_date end as days_waited,
        case when r.first_assessed_date <= cast(:as_at as date)
             then r.first_assessed_date - r.referral_date end as days_to_assessment,
        case when r.first_treated_date <= cast(:as_at as date)
             then r.first_treated_date - r.referral_date end as days_to_treatment
    from cohort c
    join journey_referrals r on r.pregnancy_id = c.pregnancy_id
    where r.referral_date <= cast(:as_at as date)
      and r.area_code in (select area_code from area_selection where selector = cast(:area as text))
),

counted as (
    select
        w.area_code,
        w.service,
        count(*) as referrals,
        count(w.days_waited) as seen,
        percentile_cont(0.5) within group (order by w.days_waited) as median_days,
        percentile_cont(0.9) within group (order by w.days_waited) as p90_days,
        count(*) filter (where w.days_waited <= s.days) as seen_within_28_days,
        count(*) filter (where w.days_to_assessment <= s.assessed_days) as assessed_within_14_days,
        count(*) filter (where w.days_to_treatment <= s.treated_days) as treated_within_42_days
    from waits w
    cross join waiting_standard s
    group by w.area_code, w.service
),

final as (
    select
        a.area_code,
        v.service,
        coalesce(c.referrals, 0) as referrals,
        coalesce(c.seen, 0) as seen,
        c.median_days,
        c.p90_days,
        coalesce(c.seen_within_28_days, 0) as seen_within_28_days,
        100.0 * coalesce(c.seen_within_28_days, 0) / nullif(coalesce(c.referrals, 0), 0)
            as seen_within_28_days_pct,
        coalesce(c.assessed_within_14_days, 0) as assessed_within_14_days,
        100.0 * coalesce(c.assessed_within_14_days, 0) / nullif(coalesce(c.referrals, 0), 0)
            as assessed_within_14_days_pct,
        coalesce(c.treated_within_42_days, 0) as treated_within_42_days,
        100.0 * coalesce(c.treated_within_42_days, 0) / nullif(coalesce(c.referrals, 0), 0)
            as treated_within_42_days_pct
    from reporting_areas a
    cross join services v
    left join counted c on c.area_code = a.area_code and c.service = v.service
)

select * from final
