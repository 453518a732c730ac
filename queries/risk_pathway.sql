-- risk_pathway: do families with a risk recorded in pregnancy get the risk-based help the
--   parent-infant partnership model offers, and before the baby is born?
-- Grain: one row per area (or ICB) x risk factor (every rf_ flag recorded anywhere, and 'any').
-- Parameters: area, date_from, date_to, as_at.
-- Definition (contract v1.1 section 7.3; domain-facts section 0, the PIP UK seed):
--   cohort = live births and ongoing pregnancies whose birth date (EDD while ongoing) falls in
--   the period and has passed by as_at; at_risk = of those, pregnancies with the flag present
--   ('any': at least one flag present);
--   referred_antenatal = of those at risk, a referral (any attendance) to a targeted or
--   specialist service dated in the antenatal stage (conception to the day before birth);
--   seen_antenatal = an attended targeted or specialist contact, assessment or intervention
--   in the antenatal stage;
--   parent_infant_seen = an attended parent_infant contact, assessment or intervention from
--   conception to day 365 after birth (the antenatal, postnatal and infant stages);
--   days_to_seen = days from risk_identified_date (the booking date when blank) to the first
--   attended targeted or specialist contact, assessment or intervention on or after it, in a
--   pathway stage; median_days_to_seen over seen_after_risk, the pregnancies with one.
--   Events after as_at do not count.
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

risk_factors as (
    select risk_factor from journey_risk_factor_names
    union all
    select 'any'
),

pregnancies as (
    select s.report_code, j.pregnancy_id, j.area_code,
           coalesce(c.risk_identified_date, j.booking_date) as risk_date
    from journey j
    join area_selection s on s.area_code = j.area_code
    join cohort c on c.pregnancy_id = j.pregnancy_id
    where s.selector = cast(:area as text)
      and (j.is_live_birth or j.outcome = 'ongoing')
      and j.pathway_birth_date between cast(:date_from as date) and cast(:date_to as date)
      and j.pathway_birth_date <= cast(:as_at as date)
),

flagged as (
    -- every journey table read for the areas asked for and joined on pregnancy alone (a
    -- pregnancy has one area): PostgreSQL misjudges a join on pregnancy and area (see equity.sql)
    select f.pregnancy_id, f.risk_factor
    from journey_risk_flags f
    where f.present
      and f.area_code in (select area_code from area_selection where selector = cast(:area as text))
    union all
    select distinct f.pregnancy_id, 'any'
    from journey_risk_flags f
    where f.present
      and f.area_code in (select area_code from area_selection where selector = cast(:area as text))
),

at_risk as (
    select c.report_code, c.pregnancy_id, c.area_code, c.risk_date, f.risk_factor
    from pregnancies c
    join flagged f on f.pregnancy_id = c.pregnancy_id
),

help as (
    -- each pregnancy's first targeted and specialist help on the pathway (journey_risk_help)
    select h.pregnancy_id, h.area_code, h.first_seen_antenatal_date, h.first_parent_infant_date,
           h.first_seen_after_risk_date
    from journey_risk_help h
    where h.area_code in (select area_code from area_selection where selector = cast(:area as text))
),

referred as (
    -- the referral rule, written once in the journey (journey_reach_measures)
    select m.pregnancy_id, m.area_code
    from journey_reach_measures m
    where m.measure = 'risk_pathway.referred_antenatal'
      and m.first_reached_date <= cast(:as_at as date)
      and m.area_code in (select area_code from area_selection where selector = cast(:area as text))
),

per_pregnancy as (
    select
        r.report_code,
        r.risk_factor,
        r.pregnancy_id,
        max(case when f.pregnancy_id is not null then 1 else 0 end) as referred_antenatal,
        max(case when h.first_seen_antenatal_date <= cast(:as_at as date) then 1 else 0 end)
            as seen_antenatal,
        max(case when h.first_parent_infant_date <= cast(:as_at as date) then 1 else 0 end)
            as parent_infant_seen,
        max(case when h.first_seen_after_risk_date <= cast(:as_at as date)
                 then h.first_seen_after_risk_date end) - max(r.risk_date) as days_to_seen
    from at_risk r
    left join help h on h.pregnancy_id = r.pregnancy_id
    left join referred f on f.pregnancy_id = r.pregnancy_id
    group by r.report_code, r.risk_factor, r.pregnancy_id
),

counted as (
    select
        report_code as area_code,
        risk_factor,
        count(*) as at_risk,
        sum(referred_antenatal) as referred_antenatal,
        sum(seen_antenatal) as seen_antenatal,
        sum(parent_infant_seen) as parent_infant_seen,
        count(days_to_seen) as seen_after_risk,
        percentile_cont(0.5) within group (order by days_to_seen) as median_days_to_seen
    from per_pregnancy
    group by report_code, risk_factor
),

cohort_size as (
    select report_code as area_code, count(*) as cohort
    from pregnancies
    group by report_code
),

final as (
    select
        a.area_code,
        f.risk_factor,
        case when f.risk_factor = 'any' then 1 else 0 end as factor_order,
        coalesce(z.cohort, 0) as cohort,
        coalesce(c.at_risk, 0) as at_risk,
        coalesce(c.referred_antenatal, 0) as referred_antenatal,
        100.0 * coalesce(c.referred_antenatal, 0) / nullif(coalesce(c.at_risk, 0), 0)
            as referred_antenatal_pct,
        coalesce(c.seen_antenatal, 0) as seen_antenatal,
        100.0 * coalesce(c.seen_antenatal, 0) / nullif(coalesce(c.at_risk, 0), 0)
            as seen_antenatal_pct,
        coalesce(c.parent_infant_seen, 0) as parent_infant_seen,
        100.0 * coalesce(c.parent_infant_seen, 0) / nullif(coalesce(c.at_risk, 0), 0)
            as parent_infant_seen_pct,
        coalesce(c.seen_after_risk, 0) as seen_after_risk,
        c.median_days_to_seen
    from reporting_areas a
    cross join risk_factors f
    left join counted c on c.area_code = a.area_code and c.risk_factor = f.risk_factor
    left join cohort_size z on z.area_code = a.area_code
)

select * from final
