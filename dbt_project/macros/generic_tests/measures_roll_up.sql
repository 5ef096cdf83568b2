{#-
    Additive measures of the child rows (org_type = child_org_type) summed per parent code equal
    the parent rows' (org_type = parent_org_type, org_code = the parent code), period by period.
    parent_code is a column of the child rows (or a literal such as 'ENG'). Child rows without a
    parent code are left out; a parent with no children must have zero (or null) measures.
-#}
{% test measures_roll_up(model, child_org_type, parent_org_type, parent_code, period_columns, measures) %}
with child_rows as (
    select
        {{ parent_code }} as org_code,
        {%- for column in period_columns %}
        {{ column }},
        {%- endfor %}
        {%- for measure in measures %}
        {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ model }}
    where org_type = '{{ child_org_type }}'
),

children as (
    select
        org_code,
        {%- for column in period_columns %}
        {{ column }},
        {%- endfor %}
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from child_rows
    where org_code is not null
    group by org_code{% for column in period_columns %}, {{ column }}{% endfor %}
),

parents as (
    select
        org_code,
        {%- for column in period_columns %}
        {{ column }},
        {%- endfor %}
        {%- for measure in measures %}
        {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ model }}
    where org_type = '{{ parent_org_type }}'
)

select
    coalesce(parents.org_code, children.org_code) as org_code
    {%- for column in period_columns %},
    coalesce(parents.{{ column }}, children.{{ column }}) as {{ column }}
    {%- endfor %}
from parents
full outer join children
    on parents.org_code = children.org_code
    {%- for column in period_columns %}
    and parents.{{ column }} = children.{{ column }}
    {%- endfor %}
where
    {%- for measure in measures %}
    coalesce(parents.{{ measure }}, 0) <> coalesce(children.{{ measure }}, 0){% if not loop.last %} or{% endif %}
    {%- endfor %}
{% endtest %}
