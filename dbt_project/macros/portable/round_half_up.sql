{#-
    Round to `places` decimal places, half away from zero, with the same result on every engine, as a
    double. Plain round() differs at ties: DuckDB rounds a double's binary value (4.515 is stored as
    4.51499999… and becomes 4.51) and computes 1.0 * a / b as a double, while Spark computes it as an
    exact DECIMAL, or rounds a double by its shortest decimal form (4.52). Rounding the value as a
    DECIMAL with 12 places first gives 4.52 on both. Use it for every published non-integer measure. The
    result is a double on both engines (not dbt.type_float(), which is a 4-byte float on Spark).
-#}
{% macro round_half_up(expression, places) -%}
    cast(round(cast({{ expression }} as decimal(38, 12)), {{ places }}) as double)
{%- endmacro %}
