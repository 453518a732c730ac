-- data_quality: completeness of every contract column, unusable values, quarantine and last load.
-- Grain: one row per table x column of the contract tables (areas, cohort, activity, measures).
-- Parameters: none (the whole warehouse).
-- Definition (contract v1 sections 1-3): completeness_pct = complete (rows with a value) / rows;
--   invalid = loaded values no metric can use: activity and measure dates outside every
--   pathway stage (ref_stages, via journey_outside_events), scores outside the instrument's range
--   (ref_instruments), booking dates outside the antenatal stage; quarantined = rejects rows
--   for that table and column still rejected or waiting; last_load = when a file of that
--   table last loaded.
with areas_filled as (
    select
        count(*) as rows_total,
        count(area_code) as area_code, count(area_name) as area_name,
        count(icb_code) as icb_code, count(icb_name) as icb_name,
        count(region_code) as region_code, count(region_name) as region_name
    from areas
),

cohort_filled as (
    select
        count(*) as rows_total,
        count(pregnancy_id) as pregnancy_id, count(person_id) as person_id,
        count(area_code) as area_code, count(booking_date) as booking_date, count(edd) as edd,
        count(birth_date) as birth_date, count(outcome) as outcome, count(parent_age) as parent_age,
        count(ethnic_group) as ethnic_group, count(imd_decile) as imd_decile,
        count(number_of_babies) as number_of_babies, count(risk_identified_date) as risk_identified_date
    from cohort
),

activity_filled as (
    select
        count(*) as rows_total,
        count(activity_id) as activity_id, count(pregnancy_id) as pregnancy_id,
        count(service) as service, count(activity_type) as activity_type,
        count(activity_date) as activity_date, count(contact_code) as contact_code,
        count(attendance) as attendance, count(tier) as tier,
        count(referral_source) as referral_source, count(provider_code) as provider_code,
        -- contract v1.1: a blank mode makes perinatal_access incomparable with NHS England's
        count(contact_mode) as contact_mode, count(subject) as subject,
        count(infant_number) as infant_number
    from activity
),

measures_filled as (
    select
        count(*) as rows_total,
        count(measure_id) as measure_id, count(pregnancy_id) as pregnancy_id,
        count(instrument) as instrument, count(score) as score,
        count(measure_date) as measure_date, count(timepoint) as timepoint,
        count(service) as service, count(infant_number) as infant_number
    from measures
),

filled as (
    select 'areas' as table_name, 'area_code' as column_name, 101 as sort_order, rows_total, area_code as present from areas_filled
    union all select 'areas', 'area_name', 102, rows_total, area_name from areas_filled
    union all select 'areas', 'icb_code', 103, rows_total, icb_code from areas_filled
    union all select 'areas', 'icb_name', 104, rows_total, icb_name from areas_filled
    union all select 'areas', 'region_code', 105, rows_total, region_code from areas_filled
    union all select 'areas', 'region_name', 106, rows_total, region_name from areas_filled
    union all select 'cohort', 'pregnancy_id', 201, rows_total, pregnancy_id from cohort_filled
    union all select 'cohort', 'person_id', 202, rows_total, person_id from cohort_filled
    union all select 'cohort', 'area_code', 203, rows_total, area_code from cohort_filled
    union all select 'cohort', 'booking_date', 204, rows_total, booking_date from cohort_filled
    union all select 'cohort', 'edd', 205, rows_total, edd from cohort_filled
    union all select 'cohort', 'birth_date', 206, rows_total, birth_date from cohort_filled
    union all select 'cohort', 'outcome', 207, rows_total, outcome from cohort_filled
    union all select 'cohort', 'parent_age', 208, rows_total, parent_age from cohort_filled
    union all select 'cohort', 'ethnic_group', 209, rows_total, ethnic_group from cohort_filled
    union all select 'cohort', 'imd_decile', 210, rows_total, imd_decile from cohort_filled
    union all select 'cohort', 'number_of_babies', 211, rows_total, number_of_babies from cohort_filled
    union all select 'cohort', 'risk_identified_date', 212, rows_total, risk_identified_date from cohort_filled
    union all select 'activity', 'activity_id', 301, rows_total, activity_id from activity_filled
    union all select 'activity', 'pregnancy_id', 302, rows_total, pregnancy_id from activity_filled
    union all select 'activity', 'service', 303, rows_total, service from activity_filled
    union all select 'activity', 'activity_type', 304, rows_total, activity_type from activity_filled
    union all select 'activity', 'activity_date', 305, rows_total, activity_date from activity_filled
    union all select 'activity', 'contact_code', 306, rows_total, contact_code from activity_filled
    union all select 'activity', 'attendance', 307, rows_total, attendance from activity_filled
    union all select 'activity', 'tier', 308, rows_total, tier from activity_filled
    union all select 'activity', 'referral_source', 309, rows_total, referral_source from activity_filled
    union all select 'activity', 'provider_code', 310, rows_total, provider_code from activity_filled
    union all select 'activity', 'contact_mode', 311, rows_total, contact_mode from activity_filled
    union all select 'activity', 'subject', 312, rows_total, subject from activity_filled
    union all select 'activity', 'infant_number', 313, rows_total, infant_number from activity_filled
    union all select 'measures', 'measure_id', 401, rows_total, measure_id from measures_filled
    union all select 'measures', 'pregnancy_id', 402, rows_total, pregnancy_id from measures_filled
    union all select 'measures', 'instrument', 403, rows_total, instrument from measures_filled
    union all select 'measures', 'score', 404, rows_total, score from measures_filled
    union all select 'measures', 'measure_date', 405, rows_total, measure_date from measures_filled
    union all select 'measures', 'timepoint', 406, rows_total, timepoint from measures_filled
    union all select 'measures', 'service', 407, rows_total, service from measures_filled
    union all select 'measures', 'infant_number', 408, rows_total, infant_number from measures_filled
),

invalid_values as (
    select 'activity' as table_name, 'activity_date' as column_name, cast(coalesce(sum(events), 0) as bigint) as invalid
    from journey_outside_events
    where source = 'activity'
    union all
    select 'measures', 'measure_date', cast(coalesce(sum(events), 0) as bigint)
    from journey_outside_events
    where source = 'measures'
    union all
    select 'measures', 'score', count(*)
    from measures m
    join ref_instruments i on i.instrument = m.instrument
    where m.score < i.min_score or m.score > i.max_score
    union all
    select 'cohort', 'booking_date', count(*)
    from journey
    where booking_date < conception_date or booking_date >= pathway_birth_date
),

quarantine as (
    select table_name, column_name, count(*) as quarantined
    from rejects
    where status in ('rejected', 'waiting')
    group by table_name, column_name
),

last_loads as (
    select table_name, max(ended_at) as last_load
    from load_log
    where outcome = 'loaded'
    group by table_name
),

final as (
    select
        f.table_name as "table",
        f.column_name as "column",
        f.rows_total as rows,
        f.present as complete,
        100.0 * f.present / nullif(f.rows_total, 0) as completeness_pct,
        coalesce(v.invalid, 0) as invalid,
        coalesce(q.quarantined, 0) as quarantined,
        l.last_load,
        f.sort_order
    from filled f
    left join invalid_values v on v.table_name = f.table_name and v.column_name = f.column_name
    left join quarantine q on q.table_name = f.table_name and q.column_name = f.column_name
    left join last_loads l on l.table_name = f.table_name
)

select * from final
