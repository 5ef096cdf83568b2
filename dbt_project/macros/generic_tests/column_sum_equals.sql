{#- The column sums to a value over the whole model (or the rows that where_clause selects), e.g. weights to 100. -#}
{% test column_sum_equals(model, column_name, value, where_clause=none) %}
select total
from (
    select sum({{ column_name }}) as total
    from {{ model }}
    {%- if where_clause %}
    where {{ where_clause }}
    {%- endif %}
) as totals
where total is null or total <> {{ value }}
{% endtest %}
