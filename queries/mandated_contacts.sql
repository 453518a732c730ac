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

baby_numbers as (
    select 1 as infant_number
    union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8
),

cohort as (
    select *
    from live_births
    where selector = cast(:area as text)
      and birth_date between cast(:date_from as date) and cast(:date_to as date)
),

eligible as (
    -- one row per pregnancy (unit pregnancy, or a window with the mother), else per baby
    select c.report_code, c.area_code, c.pregnancy_id, w.contact_code, b.infant_number,
           cast(:unit as text) = 'pregnancy' or w.with_the_mother as per_pregnancy
    from cohort c
    cross join contact_windows w
    join baby_numbers b
        on b.infant_number <= case when cast(:unit as text) = 'pregnancy' or w.with_the_mother
                                   then 1 else c.number_of_babies end
    where c.birth_date + w.follow_up_days <= cast(:as_at as date)
),

reached as (
    select e.report_code, e.contact_code, e.pregnancy_id, e.infant_number
    from eligible e
    where exists (
        select 1
        from journey_baby_contacts j
        where j.pregnancy_id = e.pregnancy_id
          and j.area_code = e.area_code
          and j.contact_code = e.contact_code
          and (e.per_pregnancy or j.infant_number = e.infant_number)
          and j.first_in_window_date <= cast(:as_at as date)
    )
),

counted as (
    select
        e.report_code as area_code,
        e.contact_code,
        count(*) as denominator,
        count(r.pregnancy_id) as numerator
    from eligible e
    left join reached r
        on r.report_code = e.report_code
       and r.contact_code = e.contact_code
       and r.pregnancy_id = e.pregnancy_id
       and r.infant_number = e.infant_number
    group by e.report_code, e.contact_code
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
