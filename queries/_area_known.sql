-- Whether an area parameter selects anything: an area code, an ICB code, or all.
select count(*) as areas
from area_selection
where selector = cast(:area as text)
