-- The defaults a metric run works out from the data and reference tables (pathway.metrics):
-- the data cut-off (latest activity date, else latest measure date), the length of the
-- default period in months, and the follow-up each rule in pathway.catalogue.FOLLOW_UP_RULES
-- needs, in days after birth.
with extent as (
    select coalesce(latest_activity_date, latest_measure_date) as latest_activity_date
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
