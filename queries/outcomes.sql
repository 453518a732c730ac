-- outcomes: change between the first baseline and the last end score of a course of care.
-- Grain: one row per area (or ICB) x service x instrument, for every service and instrument
--   pair with baseline or end scores anywhere in the warehouse (zeros where an area has none).
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage).
-- Scores: journey_scores (baseline and end scores with a service, built with the journey).
-- Definition (contract v1 section 5; NHS Talking Therapies manual): for each live birth of
--   the period, service and instrument, the first 'baseline' and the last 'end' score (dated
--   in a pathway stage, on or before as_at, the end not before the baseline) form a pair.
--   Reliable improvement = the score moved the better way by at least
--   ref_instruments.reliable_change (lower is better unless higher_is_better); reliable
--   deterioration = moved the worse way by that much (both blank where the instrument has
--   no reliable-change value). A case = at or beyond case_threshold (at or below it where
--   higher_is_better); recovered = a case at baseline and not a case at the end,
--   recovered_pct over cases_at_baseline. An instrument with no confirmed case threshold
--   (contract v1.1: LOAF, ASQ:SE-2, KIPS) has no cases or recovery, only mean change
--   (mean_change = mean_end - mean_baseline; its sign read with higher_is_better).
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

course_types as (
    select distinct service, instrument
    from journey_scores
),

cohort as (
    select *
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
      and birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
),

scores as (
    select
        c.report_code as area_code,
        e.pregnancy_id,
        e.service,
        e.instrument,
        e.timepoint,
        e.event_id,
        e.event_date,
        e.score
    from cohort c
    join journey_scores e on e.pregnancy_id = c.pregnancy_id
    where e.stage <> 'outside'
      and e.area_code in (select area_code from area_selection where selector = cast(:area as text))
      and e.event_date <= cast(:as_at as date)
),

ranked as (
    select
        s.*,
        row_number() over (partition by pregnancy_id, service, instrument, timepoint
                           order by event_date, event_id) as from_first,
        row_number() over (partition by pregnancy_id, service, instrument, timepoint
                           order by event_date desc, event_id desc) as from_last
    from scores s
),

courses as (
    -- each pregnancy's first baseline and last end score per service and instrument, in one
    -- pass (a join of ranked with itself was planned by PostgreSQL as a loop over both)
    select
        area_code,
        pregnancy_id,
        service,
        instrument,
        max(case when timepoint = 'baseline' then event_date end) as baseline_date,
        max(case when timepoint = 'baseline' then score end) as baseline_score,
        max(case when timepoint = 'end' then event_date end) as end_date,
        max(case when timepoint = 'end' then score end) as end_score
    from ranked
    where (timepoint = 'baseline' and from_first = 1)
       or (timepoint = 'end' and from_last = 1)
    group by area_code, pregnancy_id, service, instrument
),

pairs as (
    -- a pair: both scores, the end not before the baseline
    select
        c.area_code,
        c.service,
        c.instrument,
        c.baseline_score,
        c.end_score,
        i.reliable_change,
        case when i.higher_is_better then c.end_score - c.baseline_score
             else c.baseline_score - c.end_score end as improvement,
        case when i.higher_is_better then c.baseline_score <= i.case_threshold
             else c.baseline_score >= i.case_threshold end as case_at_baseline,
        case when i.higher_is_better then c.end_score <= i.case_threshold
             else c.end_score >= i.case_threshold end as case_at_end
    from courses c
    join ref_instruments i on i.instrument = c.instrument
    where c.end_date >= c.baseline_date
),

counted as (
    select
        area_code,
        service,
        instrument,
        count(*) as paired,
        avg(baseline_score) as mean_baseline,
        avg(end_score) as mean_end,
        case when max(reliable_change) is not null
             then count(*) filter (where improvement >= reliable_change) end as reliably_improved,
        case when max(reliable_change) is not null
             then count(*) filter (where -improvement >= reliable_change) end as reliably_deteriorated,
        count(*) filter (where case_at_baseline) as cases_at_baseline,
        count(*) filter (where case_at_baseline and not case_at_end) as recovered
    from pairs
    group by area_code, service, instrument
),

final as (
    select
        a.area_code,
        t.service,
        t.instrument,
        coalesce(c.paired, 0) as paired,
        c.mean_baseline,
        c.mean_end,
        case when i.reliable_change is not null then coalesce(c.reliably_improved, 0) end
            as reliably_improved,
        100.0 * c.reliably_improved / nullif(c.paired, 0) as reliable_improvement_pct,
        case when i.reliable_change is not null then coalesce(c.reliably_deteriorated, 0) end
            as reliably_deteriorated,
        100.0 * c.reliably_deteriorated / nullif(c.paired, 0) as reliable_deterioration_pct,
        case when i.case_threshold is not null then coalesce(c.cases_at_baseline, 0) end
            as cases_at_baseline,
        case when i.case_threshold is not null then coalesce(c.recovered, 0) end as recovered,
        case when i.case_threshold is not null
             then 100.0 * coalesce(c.recovered, 0) / nullif(coalesce(c.cases_at_baseline, 0), 0)
        end as recovered_pct,
        c.mean_end - c.mean_baseline as mean_change,
        i.higher_is_better
    from reporting_areas a
    cross join course_types t
    join ref_instruments i on i.instrument = t.instrument
    left join counted c
        on c.area_code = a.area_code and c.service = t.service and c.instrument = t.instrument
)

select * from final
