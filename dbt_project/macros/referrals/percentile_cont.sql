{#-
    Continuous percentile (linear interpolation between the two nearest values, as SQL's
    percentile_cont) of a numeric column or expression, as an aggregate. Nulls are ignored.
    fraction is a literal between 0 and 1, e.g. percentile_cont('days_to_first_contact', 0.9).
    DuckDB's quantile_cont and Spark's percentile are the same exact, interpolating percentile;
    other engines get the ANSI ordered-set form.
-#}
{% macro percentile_cont(column, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'sprx')(column, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(column, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ column }})
{%- endmacro %}

{% macro duckdb__percentile_cont(column, fraction) -%}
    quantile_cont({{ column }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(column, fraction) -%}
    percentile({{ column }}, {{ fraction }})
{%- endmacro %}
