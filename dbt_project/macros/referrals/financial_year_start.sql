{#-
    First day (1 April) of the NHS financial year (April to March) that contains a date:
    move back three months, truncate to the year, move forward three months. Portable: dbt's
    cross-database date macros only.
-#}
{% macro financial_year_start(date_expression) -%}
    cast({{ dbt.dateadd('month', 3, dbt.date_trunc('year', dbt.dateadd('month', -3, date_expression))) }} as date)
{%- endmacro %}

{#- The financial year as NHS publications label it, e.g. '2026-27' for 1 April 2026 to 31 March 2027. -#}
{% macro financial_year_label(financial_year_start) -%}
    {{ dbt.concat([
        "cast(extract(year from " ~ financial_year_start ~ ") as " ~ dbt.type_string() ~ ")",
        "'-'",
        dbt.right("cast(extract(year from " ~ financial_year_start ~ ") + 1 as " ~ dbt.type_string() ~ ")", 2)
    ]) }}
{%- endmacro %}
