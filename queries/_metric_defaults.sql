-- The defaults a metric run works out from the data and reference tables (pathway.metrics):
-- the data cut-off (latest activity date on or before the day of loading :load_day, else the
-- latest measure date on or before it; contract 7.2: never later), the length of the
-- default period in months, and the follow-up each rule in pathway.catalogue.FOLLOW_UP_RULES
-- needs, in days after birth.
with extent as (
    -- data_extent holds the maxima; only a date after the day of loading (loaded before that
    -- was refused, or with a later day of loading) sends the search back to the table.
    select coalesce(
        case
            when latest_activity_date <= :load_day then latest_activity_date
            else (select max(activity_date) from activity where activity_date <= :load_day)
        end,
        case
            when latest_measure_date <= :load_day then latest_measure_date
            else (select max(measure_date) from measures where measure_date <= :load_day)
        end
    ) as latest_activity_date
    from data_extent
),

period as (
    select cast(value as integer) as months
    from ref_parameters
    where name = 'default_follow_up_months'
),

final as (
    select
        (select latest_activity_date from extent) as latest_activity_date,
        (select months from period) as period_months,
        0 as follow_up_birth,
        (select max(end_offset_days) from ref_stages
          where end_anchor = 'birth' and stage in ('antenatal', 'postnatal')) as follow_up_postnatal,
        (select max(end_offset_days) from ref_stages where end_anchor = 'birth') as follow_up_pathway,
        (select max(follow_up_days) from ref_contact_windows) as follow_up_contact_windows
)

select * from final
