-- The price years an economic_case price_year parameter may name (ref_deflators).
select price_year
from ref_deflators
order by price_year
