{#-
    Continuous percentile (SQL's percentile_cont: linear interpolation between the two nearest values) of a
    group of values held as counts, one row per distinct value, as an aggregate over the group's rows. The
    values are not needed one row each, so a percentile over millions of values costs a row per distinct
    value; and it is plain SQL, the same on every engine. Each row gives the value, how many times it occurs
    (count_column), how many values are at most it (cumulative_column: a running sum of the counts ordered by
    value) and how many values the group has (total_column). The percentile lies at position
    (total - 1) x fraction of the sorted values (counting from 0), between the values at the positions below
    and above it; a value occupies positions cumulative - count to cumulative - 1.
    fraction is a literal between 0 and 1, e.g. 0.9.
-#}
{% macro percentile_cont_from_counts(value_column, count_column, cumulative_column, total_column, fraction) -%}
    {%- set position = "(" ~ total_column ~ " - 1) * " ~ fraction -%}
    {%- set value_at_floor = value_at_sorted_position(
        value_column, count_column, cumulative_column, "floor(" ~ position ~ ")"
    ) -%}
    {%- set value_at_ceiling = value_at_sorted_position(
        value_column, count_column, cumulative_column, "ceiling(" ~ position ~ ")"
    ) -%}
    {{ value_at_floor }} + (max({{ position }}) - max(floor({{ position }}))) * ({{ value_at_ceiling }} - {{ value_at_floor }})
{%- endmacro %}

{#- The value at a position (counting from 0) of the group's sorted values, as an aggregate over its count rows. -#}
{% macro value_at_sorted_position(value_column, count_column, cumulative_column, position) -%}
    max(case
        when {{ cumulative_column }} - {{ count_column }} <= {{ position }} and {{ position }} < {{ cumulative_column }}
            then {{ value_column }}
    end)
{%- endmacro %}
