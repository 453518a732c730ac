-- DuckDB's `events` for a whole journey build (pathway.journey.refresh runs this in place of
-- _journey.sql's `create temp view events`): the placed events stored once, each column of few
-- values as an ENUM of the values there are. The journey tables group and filter ten million
-- events by these columns: as one-byte codes the hashing and comparing is cheaper, and the
-- table is small enough to stay in memory, which a copy with text columns was not (it spilled
-- past the 1GB limit and made the build slower than reading the view again for every table).
-- Each type lists the values the tables hold (an ENUM refuses a value it does not list), in
-- text order, so `order by area_code` orders areas as text does. The tables built from events
-- keep text columns (pathway.journey makes each table's columns before filling it). Each type's
-- name starts with journey_: pathway.journey drops those once the build is done.
create temp type journey_source as enum (select unnest(['activity', 'measures']));

create temp type journey_area as enum (
    select area_code from cohort where area_code is not null
    union
    select area_code from areas where area_code is not null
    order by 1
);

create temp type journey_stage as enum (
    select stage from ref_stages where stage is not null
    union
    select 'outside'
    order by 1
);

create temp type journey_service as enum (
    select service from activity where service is not null
    union
    select service from measures where service is not null
    union
    select service from ref_services where service is not null
    order by 1
);

create temp type journey_activity_type as enum (
    select distinct activity_type from activity where activity_type is not null order by 1
);

create temp type journey_contact_code as enum (
    select distinct contact_code from activity where contact_code is not null order by 1
);

create temp type journey_attendance as enum (
    select distinct attendance from activity where attendance is not null order by 1
);

create temp type journey_tier as enum (
    select tier from activity where tier is not null
    union
    select default_tier from ref_services where default_tier is not null
    order by 1
);

create temp type journey_instrument as enum (
    select distinct instrument from measures where instrument is not null order by 1
);

create temp type journey_timepoint as enum (
    select distinct timepoint from measures where timepoint is not null order by 1
);

create temp type journey_subject as enum (
    select subject from activity where subject is not null
    union
    select 'birthing_parent'
    order by 1
);

create temp table events as
select
    event_id,
    cast(source as journey_source) as source,
    pregnancy_id,
    cast(area_code as journey_area) as area_code,
    event_date,
    days_from_birth,
    cast(stage as journey_stage) as stage,
    cast(service as journey_service) as service,
    cast(activity_type as journey_activity_type) as activity_type,
    cast(contact_code as journey_contact_code) as contact_code,
    cast(attendance as journey_attendance) as attendance,
    cast(tier as journey_tier) as tier,
    cast(instrument as journey_instrument) as instrument,
    score,
    cast(timepoint as journey_timepoint) as timepoint,
    infant_number,
    cast(subject as journey_subject) as subject
from placed_events;
