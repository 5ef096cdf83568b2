-- One row per submitted administration of an outcome instrument, scored:
-- SWEMWBS raw 7-35 converted to the metric score with the Warwick table; ONS4 items kept apart,
-- each with its band (anxiety's bands run the other way); UCLA3 total 3-9 and the lonely flag;
-- EQ-5D-5L profile and index (1 minus the value set's decrements; the set is var eq5d_value_set).
-- Administrations that cannot be scored keep their row with is_scored false and the reason.
{%- set value_set = var('eq5d_value_set') %}
{%- set eq5d_dimensions = ['mobility', 'self_care', 'usual_activities', 'pain_discomfort', 'anxiety_depression'] %}
{%- set ons4_items = ['life_satisfaction', 'worthwhile', 'happiness', 'anxiety'] %}

with administrations as (
    select * from {{ ref('int_outcome_administrations') }}
),

swemwbs_conversion as (
    select * from {{ ref('swemwbs_conversion') }}
),

ons4_bands as (
    select * from {{ ref('ons4_bands') }}
),

value_set as (
    select * from {{ ref('eq5d5l_value_sets') }}
    where value_set = '{{ value_set }}'
),

lonely_threshold as (
    select cast(value as integer) as ucla3_lonely_min_total
    from {{ ref('outcome_scoring_settings') }}
    where setting = 'ucla3_lonely_min_total'
),

scored as (
    select
        administrations.*,
        administrations.not_scored_reason is null as is_scored,
        case
            when administrations.instrument = 'SWEMWBS' and administrations.not_scored_reason is null
                then
                    administrations.item_1 + administrations.item_2 + administrations.item_3 + administrations.item_4
                    + administrations.item_5 + administrations.item_6 + administrations.item_7
        end as swemwbs_raw,
        {%- for ons4_item in ons4_items %}
            case
                when administrations.instrument = 'ONS4' and administrations.not_scored_reason is null
                    then administrations.item_{{ loop.index }}
            end as ons4_{{ ons4_item }},
        {%- endfor %}
        case
            when administrations.instrument = 'UCLA3' and administrations.not_scored_reason is null
                then administrations.item_1 + administrations.item_2 + administrations.item_3
        end as ucla3_total,
        case
            when administrations.instrument = 'EQ5D5L' and administrations.not_scored_reason is null
                then {{ dbt.concat([
                    "cast(administrations.item_1 as " ~ dbt.type_string() ~ ")",
                    "cast(administrations.item_2 as " ~ dbt.type_string() ~ ")",
                    "cast(administrations.item_3 as " ~ dbt.type_string() ~ ")",
                    "cast(administrations.item_4 as " ~ dbt.type_string() ~ ")",
                    "cast(administrations.item_5 as " ~ dbt.type_string() ~ ")",
                ]) }}
        end as eq5d_profile,
        case
            when administrations.instrument = 'EQ5D5L' and administrations.not_scored_reason is null
                then administrations.eq5d_vas
        end as eq5d_vas_scored
    from administrations
)

select
    scored.administration_key,
    scored.referral_key,
    scored.provider_code,
    scored.practice_code,
    scored.pcn_code,
    scored.icb_code,
    scored.has_referral,
    scored.instrument,
    scored.assessment_date,
    scored.assessment_month,
    scored.timepoint,
    scored.is_scored,
    scored.not_scored_reason,
    scored.swemwbs_raw,
    swemwbs_conversion.metric_score as swemwbs_metric,
    {%- for ons4_item in ons4_items %}
        scored.ons4_{{ ons4_item }},
        ons4_{{ ons4_item }}_bands.band as ons4_{{ ons4_item }}_band,
    {%- endfor %}
    scored.ucla3_total,
    case
        when scored.ucla3_total is not null then scored.ucla3_total >= lonely_threshold.ucla3_lonely_min_total
    end as ucla3_lonely,
    scored.eq5d_profile,
    case
        when scored.eq5d_profile is not null
            then
                1
                {%- for dimension in eq5d_dimensions %}
                    - eq5d_{{ dimension }}.decrement
                {%- endfor %}
    end as eq5d_index,
    case when scored.eq5d_profile is not null then '{{ value_set }}' end as eq5d_value_set,
    scored.eq5d_vas_scored as eq5d_vas
from scored
left join lonely_threshold
    on 1 = 1
left join swemwbs_conversion
    on scored.swemwbs_raw = swemwbs_conversion.raw_score
{%- for ons4_item in ons4_items %}
    left join ons4_bands as ons4_{{ ons4_item }}_bands
        on
            ons4_{{ ons4_item }}_bands.item = '{{ ons4_item }}'
            and scored.ons4_{{ ons4_item }} >= ons4_{{ ons4_item }}_bands.score_from
            and scored.ons4_{{ ons4_item }} <= ons4_{{ ons4_item }}_bands.score_to
{%- endfor %}
{%- for dimension in eq5d_dimensions %}
    left join value_set as eq5d_{{ dimension }}
        on
            eq5d_{{ dimension }}.dimension = '{{ dimension }}'
            and scored.item_{{ loop.index }} = eq5d_{{ dimension }}.level
            and scored.eq5d_profile is not null
{%- endfor %}
