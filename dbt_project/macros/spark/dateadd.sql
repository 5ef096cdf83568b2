{#-
    dbt.dateadd on Spark as one timestampadd() call. dbt-spark 1.11's own version repeats its date argument
    about six times (null checks and a clock component), so nested calls, e.g. financial_year_start inside a
    period end, grow the SQL exponentially and Spark spends minutes planning one model. timestampadd has
    the same results (a timestamp; month arithmetic clamps to the month's last day, like add_months), and the
    interval is parenthesised, so an expression such as a datediff is multiplied as a whole.
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, cast(({{ interval }}) as bigint), {{ from_date_or_timestamp }})
{%- endmacro %}
