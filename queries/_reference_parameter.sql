-- One ref_parameters value by name (e.g. trend_window_months, the trend metric's default window).
select value
from ref_parameters
where name = cast(:name as text)
