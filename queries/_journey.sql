-- The journey: rebuilt by pathway.journey.refresh inside every load's transaction.
-- Places every activity and measure row on the pathway (placed_events) and keeps one row per
-- pregnancy (journey) with its stage dates and first dates, so metrics count distinct
-- pregnancies without rescanning ten million events.
-- Source: contract v1 section 2 (stages); windows from ref_stages, ref_contact_windows,
-- ref_parameters (conception_days_before_edd, lmp_days_before_edd, booking_by_13_weeks_max_days).
-- Portable DuckDB + PostgreSQL; statements are separated by a semicolon at the end of a line.

-- Views that read the derived tables go first: PostgreSQL will not drop a table under a view.
drop view if exists live_births;
drop view if exists area_selection;
drop view if exists reach_measures;
drop view if exists placed_events;
drop table if exists journey_risk_factor_names;
drop table if exists journey_risk_flags;
drop table if exists journey_risk_help;
drop table if exists journey_outside_events;
drop table if exists journey_scores;
drop table if exists journey_treatment;
drop table if exists journey_funnel;
drop table if exists journey_referrals;
drop table if exists journey_service_reach;
drop table if exists journey_reach_measures;
drop table if exists journey_mood_screens;
drop table if exists journey_contacts;
drop table if exists journey_baby_contacts;
drop table if exists journey_reach;
-- a permanent table until 30 November 2026 (now temporary, below)
drop table if exists journey_reach_by_service;
drop table if exists journey;
-- a permanent table before placed_events: the build now keeps its events only while it runs
drop table if exists events;
drop table if exists data_extent;
drop view if exists pregnancy_dates;

-- The dates every stage window hangs on, written once.
-- conception = edd - 266 days (birth date - 266 where the EDD is missing);
-- pathway_birth_date = the birth date, or the EDD while ongoing or without a birth date.
create view pregnancy_dates as
with conception_rule as (
    select cast(value as integer) as days_before_edd
    from ref_parameters
    where name = 'conception_days_before_edd'
),

final as (
    select
        c.pregnancy_id,
        c.area_code,
        coalesce(c.edd, c.birth_date) as due_date,
        coalesce(c.edd, c.birth_date) - r.days_before_edd as conception_date,
        coalesce(c.birth_date, c.edd) as pathway_birth_date
    from cohort c
    cross join conception_rule r
)

select * from final;

-- Every activity and measure row, with its resolved tier and its stage ('outside' when no
-- stage window holds its date; those count in data quality only). A view: no metric reads
-- events one by one, and storing ten million of them was a third of the rebuild.
create view placed_events as
with activity_events as (
    select
        a.activity_id as event_id,
        'activity' as source,
        a.pregnancy_id,
        a.activity_date as event_date,
        a.service,
        a.activity_type,
        a.contact_code,
        a.attendance,
        coalesce(a.tier, s.default_tier) as tier,
        cast(null as text) as instrument,
        cast(null as float) as score,
        cast(null as text) as timepoint,
        coalesce(a.infant_number, 1) as infant_number,
        coalesce(a.subject, 'birthing_parent') as subject
    from activity a
    left join ref_services s on s.service = a.service
),

measure_events as (
    select
        m.measure_id as event_id,
        'measures' as source,
        m.pregnancy_id,
        m.measure_date as event_date,
        m.service,
        cast(null as text) as activity_type,
        cast(null as text) as contact_code,
        cast(null as text) as attendance,
        s.default_tier as tier,
        m.instrument,
        m.score,
        m.timepoint,
        coalesce(m.infant_number, 1) as infant_number,
        cast(null as text) as subject
    from measures m
    left join ref_services s on s.service = m.service
),

all_events as (
    select * from activity_events
    union all
    select * from measure_events
),

placed as (
    select
        e.*,
        d.area_code,
        e.event_date - d.pathway_birth_date as days_from_birth,
        st.stage
    from all_events e
    join pregnancy_dates d on d.pregnancy_id = e.pregnancy_id
    -- ref_stages windows do not overlap, so an event matches at most one stage.
    left join ref_stages st
        on e.event_date >= case st.start_anchor
                               when 'conception' then d.conception_date
                               when 'birth' then d.pathway_birth_date
                           end + st.start_offset_days
       and e.event_date <= case st.end_anchor
                               when 'conception' then d.conception_date
                               when 'birth' then d.pathway_birth_date
                           end + st.end_offset_days
),

final as (
    select
        event_id, source, pregnancy_id, area_code, event_date, days_from_birth,
        coalesce(stage, 'outside') as stage,
        service, activity_type, contact_code, attendance, tier,
        instrument, score, timepoint, infant_number, subject
    from placed
)

select * from final;

-- What the tables below read: a temporary view that ends with the build (pathway.journey
-- drops it, and materialises it on PostgreSQL).
create temp view events as
select * from placed_events;

-- One row per pregnancy: who, where, outcome, the stage dates and the first dates that
-- are a single date per pregnancy.
create table journey as
with booking_rule as (
    select
        max(case when name = 'lmp_days_before_edd' then cast(value as integer) end) as lmp_days_before_edd,
        max(case when name = 'booking_by_13_weeks_max_days' then cast(value as integer) end) as max_gestation_days
    from ref_parameters
),

specialist_access as (
    -- contract: an attended assessment or intervention of perinatal_mh, maternal_mh or mbu
    -- from conception to day 365 after birth (the antenatal, postnatal and infant stages),
    -- the woman's own (contract v1.1: a partner's assessment is not her access).
    select pregnancy_id, min(event_date) as specialist_access_date
    from events
    where source = 'activity'
      and attendance = 'attended'
      and subject <> 'partner'
      and activity_type in ('assessment', 'intervention')
      and service in ('perinatal_mh', 'maternal_mh', 'mbu')
      and stage in ('antenatal', 'postnatal', 'infant')
    group by pregnancy_id
),

final as (
    select
        c.pregnancy_id,
        c.person_id,
        c.area_code,
        c.outcome,
        (c.outcome = 'live_birth' and c.birth_date is not null) as is_live_birth,
        c.booking_date,
        c.edd,
        c.birth_date,
        d.conception_date,
        d.pathway_birth_date,
        c.booking_date - (c.edd - r.lmp_days_before_edd) as gestation_at_booking_days,
        coalesce(c.booking_date - (c.edd - r.lmp_days_before_edd) <= r.max_gestation_days, false)
            as booked_by_13_weeks,
        -- contract v1.1: without a booking date or an EDD the gestation at booking is unknown
        (c.booking_date is not null and c.edd is not null) as booking_known,
        coalesce(c.number_of_babies, 1) as number_of_babies,
        c.risk_identified_date,
        c.parent_age,
        c.ethnic_group,
        c.imd_decile,
        s.specialist_access_date
    from cohort c
    join pregnancy_dates d on d.pregnancy_id = c.pregnancy_id
    cross join booking_rule r
    left join specialist_access s on s.pregnancy_id = c.pregnancy_id
)

-- Sorted by area so DuckDB's zone maps skip other areas' rows in one-area queries.
select * from final order by area_code;

-- First attended reaching activity per pregnancy, stage, service and tier: the reach rule,
-- written once (referrals and discharges are not reach; DNAs and cancellations are not
-- attended; events outside every stage are not reach). live_birth_date (null unless a live
-- birth) lets service_gaps count every area's reach without joining the cohort back in.
-- Temporary: only the two tables after it read it, and storing its rows cost more than
-- building them (10M activity rows: 1.35 s stored, 0.60 s temporary; the two tables read it
-- faster too). pathway.journey drops it when the build is done.
create temp table journey_reach_by_service as
with reaching as (
    select pregnancy_id, area_code, stage, service, tier, event_date
    from events
    where source = 'activity'
      and attendance = 'attended'
      and activity_type in ('screening', 'assessment', 'contact', 'intervention')
      and stage <> 'outside'
),

first_reached as (
    select pregnancy_id, area_code, stage, service, tier, min(event_date) as first_reached_date
    from reaching
    group by pregnancy_id, area_code, stage, service, tier
),

final as (
    select r.*, case when j.is_live_birth then j.birth_date end as live_birth_date
    from first_reached r
    join journey j on j.pregnancy_id = r.pregnancy_id
)

select * from final;

-- Reach per pregnancy, stage and tier (stage_reach, service_gaps by tier).
create table journey_reach as
with final as (
    select pregnancy_id, area_code, stage, tier, min(first_reached_date) as first_reached_date,
           live_birth_date
    from journey_reach_by_service
    group by pregnancy_id, area_code, stage, tier, live_birth_date
)

-- Sorted by area so DuckDB's zone maps skip other areas' rows in one-area queries.
select * from final order by area_code;

-- First attended mandated contact inside each ref_contact_windows window, per baby
-- (infant_number; a contact with none is about baby 1, contract v1.1). Windows are anchored
-- on the EDD (the birth date where it is missing) or the birth date.
create table journey_baby_contacts as
with in_window as (
    select e.pregnancy_id, e.area_code, w.contact_code, e.infant_number, e.event_date
    from events e
    join ref_contact_windows w on w.source_contact_code = e.contact_code
    join pregnancy_dates d on d.pregnancy_id = e.pregnancy_id
    where e.source = 'activity'
      and e.attendance = 'attended'
      and e.activity_type in ('screening', 'assessment', 'contact', 'intervention')
      and e.event_date >= case w.window_start_anchor
                              when 'edd' then d.due_date
                              when 'birth' then d.pathway_birth_date
                          end + w.window_start_offset_days
      and e.event_date <= case w.window_end_anchor
                              when 'edd' then d.due_date
                              when 'birth' then d.pathway_birth_date
                          end + w.window_end_offset_days
),

final as (
    select pregnancy_id, area_code, contact_code, infant_number,
           min(event_date) as first_in_window_date
    from in_window
    group by pregnancy_id, area_code, contact_code, infant_number
)

-- Sorted by area so DuckDB's zone maps skip other areas' rows in one-area queries.
select * from final order by area_code;

-- The same per pregnancy: its first mandated contact with any of its babies.
create table journey_contacts as
with final as (
    select pregnancy_id, area_code, contact_code, min(first_in_window_date) as first_in_window_date
    from journey_baby_contacts
    group by pregnancy_id, area_code, contact_code
)

select * from final order by area_code;

-- First mood screen (ref_instruments.is_mood_screen) per pregnancy and stage.
create table journey_mood_screens as
with screens as (
    select e.pregnancy_id, e.area_code, e.stage, e.event_date
    from events e
    join ref_instruments i on i.instrument = e.instrument
    where e.source = 'measures'
      and i.is_mood_screen
      and e.stage <> 'outside'
),

final as (
    select pregnancy_id, area_code, stage, min(event_date) as first_screen_date
    from screens
    group by pregnancy_id, area_code, stage
)

-- Sorted by area so DuckDB's zone maps skip other areas' rows in one-area queries.
select * from final order by area_code;

-- Reach per pregnancy, stage and service (service_gaps by=service), whatever the tier.
create table journey_service_reach as
with final as (
    select pregnancy_id, area_code, stage, service, min(first_reached_date) as first_reached_date,
           live_birth_date
    from journey_reach_by_service
    group by pregnancy_id, area_code, stage, service, live_birth_date
)

-- Sorted by area so DuckDB's zone maps skip other areas' rows in one-area queries.
select * from final order by area_code;

-- Every reach measure equity and trend can break down, one row per pregnancy, measure, stage
-- and tier with the first date it was reached ('any' where the measure has no stage or tier,
-- and for the any-stage rows), so both read one table instead of each repeating the union.
-- A birth is reached by as_at when first_reached_date <= as_at.
create table journey_reach_measures as
with specialist as (
    select pregnancy_id, area_code, 'specialist_access' as measure, 'any' as stage, 'any' as tier,
           specialist_access_date as first_reached_date
    from journey
    where specialist_access_date is not null
),

reach_in_stage as (
    select pregnancy_id, area_code, 'stage_reach' as measure, stage, tier, first_reached_date
    from journey_reach
),

reach_in_any_stage as (
    select pregnancy_id, area_code, 'stage_reach' as measure, 'any' as stage, tier,
           min(first_reached_date) as first_reached_date
    from journey_reach
    group by pregnancy_id, area_code, tier
),

-- mood screens are measured in the antenatal and postnatal stages; 'any' is either of them
mood_screens as (
    select pregnancy_id, area_code, stage, first_screen_date
    from journey_mood_screens
    where stage in ('antenatal', 'postnatal')
),

mood_in_stage as (
    select pregnancy_id, area_code, 'mood_screening' as measure, stage, 'any' as tier,
           first_screen_date as first_reached_date
    from mood_screens
),

mood_in_any_stage as (
    select pregnancy_id, area_code, 'mood_screening' as measure, 'any' as stage, 'any' as tier,
           min(first_screen_date) as first_reached_date
    from mood_screens
    group by pregnancy_id, area_code
),

contacts as (
    select pregnancy_id, area_code, 'mandated_contacts.' || contact_code as measure,
           'any' as stage, 'any' as tier, first_in_window_date as first_reached_date
    from journey_contacts
),

-- contract v1.1 risk_pathway: a referral to a targeted or specialist service before birth
-- (risk_pathway.sql counts it among families with a risk; trend charts it by month)
risk_referrals as (
    select pregnancy_id, area_code, 'risk_pathway.referred_antenatal' as measure, 'any' as stage,
           'any' as tier, min(event_date) as first_reached_date
    from events
    where source = 'activity'
      and activity_type = 'referral'
      and tier in ('targeted', 'specialist')
      and stage = 'antenatal'
    group by pregnancy_id, area_code
),

final as (
    select * from specialist
    union all select * from risk_referrals
    union all select * from reach_in_stage
    union all select * from reach_in_any_stage
    union all select * from mood_in_stage
    union all select * from mood_in_any_stage
    union all select * from contacts
)

-- Sorted by measure and area so one measure of one area reads few row groups.
select * from final order by measure, area_code;

-- Each referral dated in a pathway stage, with the first attended assessment, contact or
-- intervention with the same service on or after it, and the first attended assessment and
-- intervention (NICE QS115): waiting_times and trend's waiting_times. The contact may fall
-- after the pathway's last day (contract v1.1: the window limits the referral, not the
-- contact). Seen by as_at when first_seen_date <= as_at (the first date is the same whatever
-- the cut-off, once it is on or before it).
create table journey_referrals as
with referrals as (
    select event_id as referral_id, pregnancy_id, area_code, service, event_date as referral_date
    from events
    where source = 'activity'
      and activity_type = 'referral'
      and stage <> 'outside'
),

seen as (
    select pregnancy_id, area_code, service, activity_type, event_date
    from events
    where source = 'activity'
      and attendance = 'attended'
      and activity_type in ('assessment', 'contact', 'intervention')
),

final as (
    select r.referral_id, r.pregnancy_id, r.area_code, r.service, r.referral_date,
           min(s.event_date) as first_seen_date,
           min(case when s.activity_type = 'assessment' then s.event_date end) as first_assessed_date,
           min(case when s.activity_type = 'intervention' then s.event_date end) as first_treated_date
    from referrals r
    left join seen s
        on s.pregnancy_id = r.pregnancy_id
       and s.area_code = r.area_code
       and s.service = r.service
       and s.event_date >= r.referral_date
    group by r.referral_id, r.pregnancy_id, r.area_code, r.service, r.referral_date
)

-- Sorted by area so DuckDB's zone maps skip other areas' rows in one-area queries.
select * from final order by area_code;

-- The referral funnel per pregnancy and service: the first date of each step, from events
-- dated in a pathway stage. A step is reached by as_at when its date <= as_at; completed is
-- the first discharge on or after the first intervention, which is by as_at exactly when some
-- discharge between the first intervention and as_at is.
-- pathway_events is read twice (steps, completed); not materialized, each read filters the events
-- as it scans them, where DuckDB would otherwise first copy all ten million (2.4 -> 1.7 s).
create table journey_funnel as
with pathway_events as not materialized (
    select
        e.pregnancy_id,
        e.area_code,
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
    from events e
    left join ref_instruments i on i.instrument = e.instrument
    where e.stage <> 'outside'
      and e.service is not null
),

steps as (
    select
        pregnancy_id,
        area_code,
        service,
        min(case when (source = 'activity' and activity_type = 'screening' and attendance = 'attended')
                   or (source = 'measures' and timepoint = 'screen') then event_date end)
            as first_screened_date,
        min(case when source = 'measures' and timepoint = 'screen' and is_case then event_date end)
            as first_screen_positive_date,
        min(case when source = 'activity' and activity_type = 'referral' then event_date end)
            as first_referred_date,
        min(case when source = 'activity' and activity_type = 'assessment' and attendance = 'attended'
                 then event_date end) as first_assessed_date,
        min(case when source = 'activity' and activity_type = 'intervention' and attendance = 'attended'
                 then event_date end) as first_treated_date
    from pathway_events
    group by pregnancy_id, area_code, service
),

-- grouped by the three keys over the discharges alone, not by every step column over all
-- of steps (a tenth of the funnel's time at ten million events)
completed as (
    select d.pregnancy_id, d.area_code, d.service, min(d.event_date) as first_completed_date
    from pathway_events d
    join steps s
        on s.pregnancy_id = d.pregnancy_id
       and s.area_code = d.area_code
       and s.service = d.service
    where d.source = 'activity'
      and d.activity_type = 'discharge'
      and d.event_date >= s.first_treated_date
    group by d.pregnancy_id, d.area_code, d.service
),

final as (
    select
        s.pregnancy_id, s.area_code, s.service, s.first_screened_date,
        s.first_screen_positive_date, s.first_referred_date, s.first_assessed_date,
        s.first_treated_date, c.first_completed_date
    from steps s
    left join completed c
        on c.pregnancy_id = s.pregnancy_id
       and c.area_code = s.area_code
       and c.service = s.service
)

-- Sorted by area so DuckDB's zone maps skip other areas' rows in one-area queries.
select * from final order by area_code;

-- Treatment per pregnancy and service (economic_case's `treated`): the first attended
-- assessment or intervention from conception to day 365 (the antenatal, postnatal and infant
-- stages), as specialist_access counts it; screening, contacts and referrals are not treatment.
create table journey_treatment as
select pregnancy_id, area_code, service, min(event_date) as first_treated_date
from events
where source = 'activity'
  and attendance = 'attended'
  and activity_type in ('assessment', 'intervention')
  and stage in ('antenatal', 'postnatal', 'infant')
group by pregnancy_id, area_code, service
order by area_code;

-- Baseline and end scores of courses of care (outcomes), with their stage; the service and
-- instrument pairs found here, in any stage, are the rows outcomes shows.
create table journey_scores as
select event_id, pregnancy_id, area_code, service, instrument, timepoint, event_date, score, stage
from events
where source = 'measures'
  and timepoint in ('baseline', 'end')
  and service is not null
order by area_code;

-- Risk-based help per pregnancy (risk_pathway): the first attended targeted or specialist
-- contact, assessment or intervention dated in a pathway stage; in the antenatal stage; with
-- the parent-infant team from conception to day 365; and on or after the day the risk was
-- identified (the booking date where that is blank). Seen by as_at when the date <= as_at.
create table journey_risk_help as
with help as (
    select pregnancy_id, area_code, event_date, stage, service
    from events
    where source = 'activity'
      and tier in ('targeted', 'specialist')
      and stage <> 'outside'
      and attendance = 'attended'
      and activity_type in ('contact', 'assessment', 'intervention')
),

final as (
    select
        h.pregnancy_id,
        h.area_code,
        min(case when h.stage = 'antenatal' then h.event_date end) as first_seen_antenatal_date,
        min(case when h.service = 'parent_infant' and h.stage in ('antenatal', 'postnatal', 'infant')
                 then h.event_date end) as first_parent_infant_date,
        min(case when h.event_date >= coalesce(j.risk_identified_date, j.booking_date)
                 then h.event_date end) as first_seen_after_risk_date
    from help h
    join journey j on j.pregnancy_id = h.pregnancy_id
    group by h.pregnancy_id, h.area_code
)

select * from final order by area_code;

-- Events dated outside every pathway stage, per pregnancy and source (data_quality).
create table journey_outside_events as
select pregnancy_id, source, count(*) as events
from events
where stage = 'outside'
group by pregnancy_id, source;

-- Risk factors for equity: each pregnancy's rf_ flags with its area (sorted by area, so one
-- area reads few rows of the long flag table), and every flag recorded anywhere, so equity's
-- rows do not change with the area chosen.
create table journey_risk_flags as
select f.pregnancy_id, c.area_code, f.risk_factor, f.present
from cohort_risk_factors f
join cohort c on c.pregnancy_id = f.pregnancy_id
order by c.area_code;

create table journey_risk_factor_names as
select distinct risk_factor
from cohort_risk_factors;

-- The data cut-off a metric defaults to (as_at = the latest activity date).
create table data_extent as
select
    (select max(activity_date) from activity) as latest_activity_date,
    (select max(measure_date) from measures) as latest_measure_date;

-- The reach measures equity and trend break down, each with the days after birth its
-- follow-up needs (as its own metric: the end of the infant stage for stage_reach and
-- specialist_access, of the postnatal stage for mood_screening, a contact's follow_up_days).
create view reach_measures as
select 'stage_reach' as measure, max(end_offset_days) as follow_up_days
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
from ref_contact_windows;

-- Which areas a metric's `area` parameter selects, and the code each reports under:
-- an area code selects itself; an ICB code selects its areas, reported as the ICB;
-- 'all' selects every area, each reported as itself. '(every ICB)' (not a code anyone can
-- give: the metrics refuse it) selects every ICB's areas, each reported as its ICB, so that
-- pathway.answers works out every ICB's answer in one run after a load.
create view area_selection as
select area_code as selector, area_code, area_code as report_code from areas
union all
select 'all' as selector, area_code, area_code as report_code from areas
union all
select icb_code as selector, area_code, icb_code as report_code
from areas
where icb_code is not null and icb_code <> area_code
union all
select '(every ICB)' as selector, area_code, icb_code as report_code
from areas
where icb_code is not null and icb_code <> area_code;

-- Live births with the reporting code of every selector that includes their area: the
-- cohort every pathway metric starts from (filtered by area, period and follow-up).
create view live_births as
select s.selector, s.report_code, j.*
from journey j
join area_selection s on s.area_code = j.area_code
where j.is_live_birth;
