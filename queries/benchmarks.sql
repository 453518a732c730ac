-- benchmarks: published figures imported from national releases, beside which local figures are read.
-- Grain: one row per published figure: metric x category x population x period x org level x org code.
-- Parameters: metric (a catalogue figure such as births.booked_by_13_weeks, or a published
--   indicator's own name; all = every one), org_level (national, region, provider, area or all),
--   period (as published, e.g. 2022-23; all = every period).
-- Definition (contract v1 section 5): the rows of `benchmarks` as pathway.published imported them
--   from NHS Maternity Statistics, Fingertips and MHSDS files. pct comes from the published counts
--   with a Wilson interval (ci_method wilson) or is the published value with its published
--   interval (ci_method published); suppressed figures have no value and suppressed = true;
--   missing_excluded is the published count left out of the denominator (missing values).
with published as (
    select *
    from benchmarks
    where (cast(:metric as text) = 'all' or metric = cast(:metric as text))
      and (cast(:org_level as text) = 'all' or org_level = cast(:org_level as text))
      and (cast(:period as text) = 'all' or period = cast(:period as text))
),

final as (
    select
        metric, category, population, source_file, period, org_level, org_code, org_name,
        numerator, denominator, pct, ci_low, ci_high, ci_method, value, suppressed,
        missing_excluded, indicator_id, indicator_name, note, layout, load_id,
        case org_level when 'national' then 1 when 'region' then 2 when 'area' then 3 else 4 end
            as level_order
    from published
)

select * from final
