-- specialist_access: live births whose mother reached specialist perinatal mental health care, against expected need.
-- Grain: one row per area (or ICB).
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage,
--   ref_stages: day 365), need (low, mid or high prevalence).
-- Definition (contract v1 section 5): accessed = live births of the period with an attended
--   assessment or intervention of perinatal_mh, maternal_mh or mbu from conception to day 365
--   after birth (journey.specialist_access_date); expected_need = live births x the sum of
--   ref_prevalence per 1,000 maternities over conditions marked specialist_need (Joint
--   Commissioning Panel for Mental Health 2012); need_met_pct = accessed / expected_need.
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

specialist_need as (
    select sum(case cast(:need as text)
                   when 'low' then per_1000_low
                   when 'mid' then per_1000_mid
                   when 'high' then per_1000_high
               end) as per_1000
    from ref_prevalence
    where specialist_need
),

cohort as (
    select *
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
      and birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
),

counted as (
    select
        report_code as area_code,
        count(*) as live_births,
        count(*) filter (where specialist_access_date <= cast(:as_at as date)) as accessed
    from cohort
    group by report_code
),

final as (
    select
        a.area_code,
        coalesce(c.live_births, 0) as live_births,
        coalesce(c.accessed, 0) as accessed,
        100.0 * coalesce(c.accessed, 0) / nullif(coalesce(c.live_births, 0), 0) as access_pct,
        coalesce(c.live_births, 0) * n.per_1000 / 1000.0 as expected_need,
        100.0 * coalesce(c.accessed, 0) / nullif(coalesce(c.live_births, 0) * n.per_1000 / 1000.0, 0)
            as need_met_pct
    from reporting_areas a
    cross join specialist_need n
    left join counted c on c.area_code = a.area_code
)

select * from final
