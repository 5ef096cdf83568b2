{#-
    Age in completed years on a date: the difference in calendar years, less one when the birthday
    in the later year falls after the date. Portable (dbt.datediff and dbt.dateadd only) and right
    whether an adapter's datediff counts year boundaries or whole years. A birthday on 29 February
    falls on 28 February in other years (dateadd's month-end rule). The datediff is parenthesised
    because an adapter may paste the interval into arithmetic (Spark's dateadd: `interval * 12`).
-#}
{% macro age_in_years(date_of_birth, on_date) -%}
    (
        {{ dbt.datediff(date_of_birth, on_date, 'year') }}
        - case
            when {{ dbt.dateadd('year', '(' ~ dbt.datediff(date_of_birth, on_date, 'year') ~ ')', date_of_birth) }} > {{ on_date }}
                then 1
            else 0
        end
    )
{%- endmacro %}
