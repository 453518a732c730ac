-- service_gaps: where the pathway breaks: each area's stage_reach against a benchmark.
-- Grain: one row per area (or ICB) x stage (ref_stages) x tier (service = 'all'); with
--   gaps_by = service, one row per area x stage x service (ref_services; tier = the service's
--   default tier), so an area without a team (no parent-infant team) shows as a gap.
-- Parameters: area, date_from, date_to, as_at, follow_up_days (the end of the infant stage),
--   gaps_by (tier or service), suppress_below and round_to (the disclosure policy).
-- Definition (contract v1 section 5): reached and cohort exactly as stage_reach (live births
--   of the period with complete follow-up; attended screening, assessment, contact or
--   intervention of the tier in the stage, from journey_reach); by service the same rule per
--   service (journey_service_reach). benchmark_pct = the higher of the ref_reach_standards
--   standard for the stage and tier (where one is given) and the median pct of all loaded areas
--   with births in the cohort (whatever the area parameter), each area's pct worked out from its
--   counts as disclosed (suppress_below, round_to: the disclosure policy; areas with a hidden
--   count left out); the flag judges against the same with the exact median. gap_pp, unmet and flag are worked out in
--   pathway.metrics from these columns and the 95% Wilson interval.
with stages as (
    select stage, sort_order as stage_order
    from ref_stages
),

tiers as (
    select distinct
        canonical as tier,
        case canonical when 'universal' then 1 when 'targeted' then 2 when 'specialist' then 3 end
            as tier_order
    from ref_codes
    where code_list = 'tier'
),

units as (
    -- what a row measures: a tier (every service of it), or one service
    select tier, 'all' as service, tier_order
    from tiers
    where cast(:gaps_by as text) = 'tier'
    union all
    select s.default_tier, s.service, t.tier_order
    from ref_services s
    join tiers t on t.tier = s.default_tier
    where cast(:gaps_by as text) = 'service'
),

every_area as (
    select area_code
    from areas
),

cohort as (
    -- every area's births: the benchmark needs all areas, whichever the area parameter picks
    -- (read from journey itself: the live_births view's selector join costs time at scale)
    select pregnancy_id, area_code
    from journey
    where is_live_birth
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
      and birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
),

cohort_size as (
    select area_code, count(*) as cohort
    from cohort
    group by area_code
),

reached_by_tier as (
    -- the cohort's rule on the reach rows' own live_birth_date: no join back to the cohort
    select r.area_code, r.stage, r.tier, 'all' as service, count(*) as reached
    from journey_reach r
    where cast(:gaps_by as text) = 'tier'
      and r.live_birth_date between cast(:date_from as date) and cast(:date_to as date)
      and r.live_birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
      and r.first_reached_date <= cast(:as_at as date)
    group by r.area_code, r.stage, r.tier
),

reached_by_service as (
    -- stage_reach's rule per service (journey_service_reach)
    select r.area_code, r.stage, r.service, count(*) as reached
    from journey_service_reach r
    where cast(:gaps_by as text) = 'service'
      and r.live_birth_date between cast(:date_from as date) and cast(:date_to as date)
      and r.live_birth_date + cast(:follow_up_days as integer) <= cast(:as_at as date)
      and r.first_reached_date <= cast(:as_at as date)
    group by r.area_code, r.stage, r.service
),

area_cells as (
    select
        a.area_code,
        s.stage,
        s.stage_order,
        u.tier,
        u.tier_order,
        u.service,
        coalesce(rt.reached, rs.reached, 0) as reached,
        coalesce(z.cohort, 0) as cohort
    from every_area a
    cross join stages s
    cross join units u
    left join cohort_size z on z.area_code = a.area_code
    left join reached_by_tier rt
        on rt.area_code = a.area_code and rt.stage = s.stage and rt.tier = u.tier
       and u.service = 'all'
    left join reached_by_service rs
        on rs.area_code = a.area_code and rs.stage = s.stage and rs.service = u.service
),

shown_cells as (
    -- each area's counts as people are shown them (contract 7.4: a benchmark across areas is
    -- worked out from disclosed values): 1 to suppress_below - 1 hidden (left out), others
    -- rounded half up to round_to; the median of unrounded percentages would be one area's
    -- exact figure. Unsuppressed runs bind suppress_below 0 and round_to 1: the counts as they are.
    select
        stage,
        tier,
        service,
        reached,
        cohort,
        floor(reached / cast(greatest(:round_to, 1) as double precision) + 0.5)
            * greatest(:round_to, 1) as shown_reached,
        floor(cohort / cast(greatest(:round_to, 1) as double precision) + 0.5)
            * greatest(:round_to, 1) as shown_cohort,
        not (reached between 1 and cast(:suppress_below as integer) - 1
             or cohort between 1 and cast(:suppress_below as integer) - 1) as is_shown
    from area_cells
    where cohort > 0
),

area_medians as (
    select
        u.stage,
        u.tier,
        u.service,
        percentile_cont(0.5) within group (order by 100.0 * c.shown_reached / c.shown_cohort)
            filter (where c.is_shown and c.shown_cohort > 0) as median_pct,
        count(*) filter (where c.is_shown and c.shown_cohort > 0) as areas,
        -- the flag's yardstick: the median of the exact percentages, never shown
        percentile_cont(0.5) within group (order by 100.0 * c.reached / c.cohort) as exact_median_pct
    from (select s.stage, u.tier, u.service from stages s cross join units u) u
    left join shown_cells c on c.stage = u.stage and c.tier = u.tier and c.service = u.service
    group by u.stage, u.tier, u.service
),

benchmarks as (
    -- the higher of the standard (where ref_reach_standards sets one) and the median: the median
    -- alone hides a gap every area shares, the standard alone hides an area well behind its peers
    select
        m.stage,
        m.tier,
        m.service,
        case when st.standard_pct is not null and st.standard_pct > coalesce(m.median_pct, 0)
             then st.standard_pct else m.median_pct
        end as benchmark_pct,
        case when st.standard_pct is not null and st.standard_pct > coalesce(m.exact_median_pct, 0)
             then st.standard_pct else m.exact_median_pct
        end as flag_benchmark_pct,
        case when st.standard_pct is not null and st.standard_pct > coalesce(m.median_pct, 0)
             then 'standard: ' || st.label
             when m.areas = 0 then 'no benchmark: every area has a hidden count'
             else 'median of ' || cast(m.areas as varchar) || ' areas'
        end as benchmark_source
    from area_medians m
    left join ref_reach_standards st
        on st.stage = m.stage and st.tier = m.tier and m.service = 'all'
),

reporting as (
    -- the rows asked for: each area, an ICB summed over its areas, or every area
    select
        sel.report_code as area_code,
        c.stage,
        c.stage_order,
        c.tier,
        c.tier_order,
        c.service,
        sum(c.reached) as reached,
        sum(c.cohort) as cohort
    from area_cells c
    join area_selection sel on sel.area_code = c.area_code
    where sel.selector = cast(:area as text)
    group by sel.report_code, c.stage, c.stage_order, c.tier, c.tier_order, c.service
),

final as (
    select
        r.area_code,
        r.stage,
        r.tier,
        r.service,
        r.reached,
        r.cohort,
        100.0 * r.reached / nullif(r.cohort, 0) as pct,
        b.benchmark_pct,
        b.flag_benchmark_pct,
        b.benchmark_source,
        r.stage_order,
        r.tier_order
    from reporting r
    left join benchmarks b on b.stage = r.stage and b.tier = r.tier and b.service = r.service
)

select * from final
