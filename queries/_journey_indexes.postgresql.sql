-- PostgreSQL only: indexes and fresh planner statistics for the derived journey tables.
-- DuckDB needs neither (its zone maps over area-sorted tables do the same job).
create index ix_journey_area on journey (area_code);
create index ix_journey_pregnancy on journey (pregnancy_id);
create index ix_journey_reach_area on journey_reach (area_code);
create index ix_journey_contacts_area on journey_contacts (area_code);
create index ix_journey_baby_contacts_pregnancy on journey_baby_contacts (pregnancy_id);
create index ix_journey_mood_screens_area on journey_mood_screens (area_code);
create index ix_journey_service_reach_area on journey_service_reach (area_code);
create index ix_journey_reach_measures on journey_reach_measures (measure, area_code);
create index ix_journey_referrals_area on journey_referrals (area_code);
create index ix_journey_funnel_area on journey_funnel (area_code);
create index ix_journey_scores_area on journey_scores (area_code);
create index ix_journey_risk_flags_area on journey_risk_flags (area_code);
create index ix_journey_risk_help_pregnancy on journey_risk_help (pregnancy_id);
analyze journey;
analyze journey_reach;
analyze journey_contacts;
analyze journey_baby_contacts;
analyze journey_mood_screens;
analyze journey_service_reach;
analyze journey_reach_measures;
analyze journey_referrals;
analyze journey_funnel;
analyze journey_scores;
analyze journey_risk_flags;
analyze journey_risk_help;
analyze journey_outside_events;
