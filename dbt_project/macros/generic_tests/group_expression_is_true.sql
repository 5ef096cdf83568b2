{#- Every group of rows satisfies an aggregate expression, e.g. shares within a group sum to 1. -#}
{% test group_expression_is_true(model, group_by_columns, expression, where_clause=none) %}
select {{ group_by_columns | join(', ') }}
from {{ model }}
{%- if where_clause %}
where {{ where_clause }}
{%- endif %}
group by {{ group_by_columns | join(', ') }}
having not ({{ expression }})
{% endtest %}
