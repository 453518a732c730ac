-- PostgreSQL only: indexes and fresh planner statistics for the derived journey tables.
-- DuckDB needs neither (its zone maps over area-sorted tables do the same job).
create index ix_events_pregnancy on events (pregnancy_id);
create index ix_events_area on events (area_code);
create index ix_journey_area on journey (area_code);
create index ix_journey_pregnancy on journey (pregnancy_id);
create index ix_journey_reach_area on journey_reach (area_code);
create index ix_journey_contacts_area on journey_contacts (area_code);
create index ix_journey_mood_screens_area on journey_mood_screens (area_code);
analyze events;
analyze journey;
analyze journey_reach;
analyze journey_contacts;
analyze journey_mood_screens;
