-- Fails (one row naming it) when var eq5d_value_set is not a value set of seeds/eq5d5l_value_sets.csv:
-- without this, every EQ-5D-5L index would silently be null.
with chosen as (
    select '{{ var("eq5d_value_set") }}' as value_set
)

select chosen.value_set as missing_value_set
from chosen
left join {{ ref('eq5d5l_value_sets') }} as value_sets
    on chosen.value_set = value_sets.value_set
where value_sets.value_set is null
