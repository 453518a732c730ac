-- The latest live birth date in the warehouse (perinatal_access sets its latest month end by
-- it, so the rolling 12 months never run past the births recorded).
select max(birth_date) as latest_birth_date
from journey
where is_live_birth
