-- One row per administration of an outcome instrument (referral, instrument, assessment date,
-- timepoint): the latest submitted version wins when a provider sends the same administration again.
-- Each is checked against its instrument (seeds/outcome_instruments.csv): an administration with
-- an item missing, out of range or not in the instrument is not scored, and says why; it is never
-- scored as if the item were zero. The referral's practice, PCN (on the referral date) and ICB
-- come from fct_referrals.
{%- set item_count = outcome_item_columns() %}

with measures as (
    select * from {{ ref('stg_outcome__measures') }}
),

instruments as (
    select * from {{ ref('outcome_instruments') }}
),

referrals as (
    select
        referral_key,
        practice_code,
        pcn_code,
        icb_code
    from {{ ref('fct_referrals') }}
),

ranked as (
    select
        measures.referral_key,
        measures.provider_code,
        measures.person_id,
        measures.instrument,
        measures.assessment_date,
        measures.timepoint,
        measures.period,
        measures.file_id,
        measures.record_number,
        {%- for item in range(1, item_count + 1) %}
            measures.item_{{ item }},
        {%- endfor %}
        measures.eq5d_vas,
        row_number() over (
            partition by measures.referral_key, measures.instrument, measures.assessment_date, measures.timepoint
            order by
                measures.period desc nulls last,
                measures.file_id desc nulls last,
                measures.record_number desc nulls last
        ) as recency_rank
    from measures
),

checked as (
    select
        ranked.*,
        instruments.has_vas,
        instruments.instrument is not null as is_known_instrument,
        {%- for check in ['missing', 'out_of_range', 'unexpected'] %}
            0
            {%- for item in range(1, item_count + 1) %}
                + case
                    {%- if check == 'missing' %}
                        when {{ item }} <= instruments.item_count and ranked.item_{{ item }} is null then 1
                    {%- elif check == 'out_of_range' %}
                        when
                            {{ item }} <= instruments.item_count
                            and (
                                ranked.item_{{ item }} < instruments.item_min
                                or ranked.item_{{ item }} > instruments.item_max
                            )
                            then 1
                    {%- else %}
                        when {{ item }} > instruments.item_count and ranked.item_{{ item }} is not null then 1
                    {%- endif %}
                    else 0
                end
            {%- endfor %} as {{ check }}_items,
        {%- endfor %}
        case
            when ranked.eq5d_vas is null then false
            when not instruments.has_vas then false
            else ranked.eq5d_vas < instruments.vas_min or ranked.eq5d_vas > instruments.vas_max
        end as is_vas_out_of_range,
        coalesce(not instruments.has_vas and ranked.eq5d_vas is not null, false) as is_vas_unexpected
    from ranked
    left join instruments
        on ranked.instrument = instruments.instrument
    where ranked.recency_rank = 1
)

select
    {{ dbt.concat([
        "checked.referral_key", "'|'", "checked.instrument", "'|'",
        "cast(checked.assessment_date as " ~ dbt.type_string() ~ ")", "'|'", "checked.timepoint"
    ]) }} as administration_key,
    checked.referral_key,
    checked.provider_code,
    checked.person_id,
    referrals.practice_code,
    referrals.pcn_code,
    referrals.icb_code,
    referrals.referral_key is not null as has_referral,
    checked.instrument,
    checked.assessment_date,
    cast({{ dbt.date_trunc('month', 'checked.assessment_date') }} as date) as assessment_month,
    checked.timepoint,
    checked.period as submitted_period,
    {%- for item in range(1, item_count + 1) %}
        checked.item_{{ item }},
    {%- endfor %}
    checked.eq5d_vas,
    checked.missing_items,
    checked.out_of_range_items,
    checked.unexpected_items,
    case
        when not checked.is_known_instrument then 'unknown_instrument'
        when checked.out_of_range_items > 0 then 'item_out_of_range'
        when checked.unexpected_items > 0 or checked.is_vas_unexpected then 'item_not_in_instrument'
        when checked.missing_items > 0 then 'missing_item'
        when checked.is_vas_out_of_range then 'vas_out_of_range'
    end as not_scored_reason
from checked
left join referrals
    on checked.referral_key = referrals.referral_key
