{#-
    The measures compared between baseline and follow-up: measure name (also its column in
    outcome_scores) and instrument. seeds/outcome_measure_definitions.csv holds the same list with
    direction and minimal important difference; outcome_pairs' tests keep the two in step.
-#}
{% macro outcome_measures() -%}
    {{ return([
        ('swemwbs_metric', 'SWEMWBS'),
        ('ons4_life_satisfaction', 'ONS4'),
        ('ons4_worthwhile', 'ONS4'),
        ('ons4_happiness', 'ONS4'),
        ('ons4_anxiety', 'ONS4'),
        ('ucla3_total', 'UCLA3'),
        ('eq5d_index', 'EQ5D5L'),
    ]) }}
{%- endmacro %}

{#- The highest item number of any instrument (item_1 ... item_7 in the outcome_measures extract). -#}
{% macro outcome_item_columns() -%}
    {{ return(7) }}
{%- endmacro %}
