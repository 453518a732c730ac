-- mandated_contacts: live births with each mandated health visiting contact attended on time.
-- Grain: one row per area (or ICB) x contact_code (ref_contact_windows).
-- Parameters: area, date_from, date_to, as_at, unit (baby or pregnancy).
-- Definition (contract v1 section 5; OHID health visitor service delivery metrics):
--   denominator = live births of the period whose follow-up for that contact
--   (ref_contact_windows.follow_up_days after birth) has ended by as_at; numerator = of those,
--   births with an attended contact of the window's source_contact_code dated inside its
--   window (journey_contacts): antenatal contact from 28 weeks (EDD - 84 days) to the day
--   before birth; new birth visit days 0-14; 6-8 week review by day 56; 12-month review by
--   day 365 and by day 456 (15 months). DNAs and cancellations never count.
--   unit = baby (contract v1.1, the default; OHID counts children): each of a live birth's
--   number_of_babies babies is one in the denominator (twins twice), reached by a contact
--   with that infant_number (a contact with none is about baby 1); a window anchored on the
--   EDD (the antenatal contact, with the mother) counts once per pregnancy, as OHID counts
--   mothers for it. unit = pregnancy: one per live birth, any baby's contact (contract v1).
with reporting_areas as (
    select distinct report_code as area_code
    from area_selection
    where selector = cast(:area as text)
),

contact_windows as (
    select contact_code, follow_up_days, sort_order,
           window_start_anchor = 'edd' as with_the_mother
    from ref_contact_windows
),

cohort as (
    select *
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
),

eligible as (
    -- each birth once per window whose follow-up has ended by as_at, counting one (unit
    -- pregnancy, or a window with the mother) or each of its number_of_babies babies
    select c.report_code, c.area_code, c.pregnancy_id, c.number_of_babies, w.contact_code,
           cast(:unit as text) = 'pregnancy' or w.with_the_mother as per_pregnancy
    from cohort c
    cross join contact_windows w
    where c.birth_date + w.follow_up_days <= cast(:as_at as date)
),

denominators as (
    select report_code, contact_code,
           cast(sum(case when per_pregnancy then 1 else number_of_babies end) as bigint) as denominator
    from eligible
    group by report_code, contact_code
),

contacts_in_areas as (
    -- the areas asked for only, so a one-area answer reads that area's contacts (an index on
    -- PostgreSQL, zone maps on DuckDB) instead of hashing every contact in the country
    select j.pregnancy_id, j.area_code, j.contact_code
    from journey_contacts j
    where j.area_code in (select area_code from area_selection where selector = cast(:area as text))
      and j.first_in_window_date <= cast(:as_at as date)
),

baby_contacts_in_areas as (
    select j.pregnancy_id, j.area_code, j.contact_code, j.infant_number
    from journey_baby_contacts j
    where j.area_code in (select area_code from area_selection where selector = cast(:area as text))
      and j.first_in_window_date <= cast(:as_at as date)
),

reached as (
    -- counted once: any baby's contact in the window (journey_contacts, a row per pregnancy)
    select e.report_code, e.contact_code, count(*) as reached
    from eligible e
    join contacts_in_areas j
        on j.pregnancy_id = e.pregnancy_id
       and j.contact_code = e.contact_code
    where e.per_pregnancy
    group by e.report_code, e.contact_code
    union all
    -- counted per baby: each of the birth's babies with its own contact (journey_baby_contacts,
    -- a row per baby; one numbered past the birth's number_of_babies is not in the denominator)
    select e.report_code, e.contact_code, count(*) as reached
    from eligible e
    join baby_contacts_in_areas j
        on j.pregnancy_id = e.pregnancy_id
       and j.contact_code = e.contact_code
    where not e.per_pregnancy
      and j.infant_number <= e.number_of_babies
    group by e.report_code, e.contact_code
),

counted as (
    select d.report_code as area_code, d.contact_code, d.denominator,
           cast(coalesce(sum(r.reached), 0) as bigint) as numerator
    from denominators d
    left join reached r on r.report_code = d.report_code and r.contact_code = d.contact_code
    group by d.report_code, d.contact_code, d.denominator
),

final as (
    select
        a.area_code,
        w.contact_code,
        coalesce(c.numerator, 0) as numerator,
        coalesce(c.denominator, 0) as denominator,
        100.0 * coalesce(c.numerator, 0) / nullif(coalesce(c.denominator, 0), 0) as pct,
        w.sort_order
    from reporting_areas a
    cross join contact_windows w
    left join counted c on c.area_code = a.area_code and c.contact_code = w.contact_code
)

select * from final
