{#-
    dbt.safe_cast as a real safe cast on both engines: a value that does not convert becomes null instead of
    failing the build. dbt-duckdb and dbt-spark both render dbt.safe_cast as a plain CAST (DuckDB then fails
    on 'abc' as integer; Spark returns null only while ANSI mode is off); try_cast behaves the same on both.
-#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
