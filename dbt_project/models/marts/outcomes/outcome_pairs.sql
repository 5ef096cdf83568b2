-- One row per referral and measure that has a baseline (int_outcome_pair_administrations): the
-- baseline and follow-up scores, the change (follow-up minus baseline) and whether it is an
-- improvement, no change or a worsening by at least the measure's minimal important difference
-- (seeds/outcome_measure_definitions.csv; for anxiety and loneliness lower is better).
-- Org columns are those of the referral: its practice, the PCN on the referral date and the ICB.

with pair_administrations as (
    select * from {{ ref('int_outcome_pair_administrations') }}
),

scores as (
    select * from {{ ref('outcome_scores') }}
),

referrals as (
    select
        referral_key,
        practice_code,
        pcn_code,
        icb_code
    from {{ ref('fct_referrals') }}
),

definitions as (
    select * from {{ ref('outcome_measure_definitions') }}
),

measure_values as (
    {%- for measure, instrument in outcome_measures() %}
        select
            administration_key,
            '{{ measure }}' as measure,
            cast({{ measure }} as {{ dbt.type_numeric() }}) as score
        from scores
        where instrument = '{{ instrument }}' and is_scored
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

pairs as (
    select
        pair_administrations.referral_key,
        pair_administrations.instrument,
        baseline_values.measure,
        pair_administrations.baseline_date,
        baseline_values.score as baseline_score,
        pair_administrations.follow_up_date,
        follow_up_values.score as follow_up_score,
        pair_administrations.follow_up_basis
    from pair_administrations
    inner join measure_values as baseline_values
        on pair_administrations.baseline_administration_key = baseline_values.administration_key
    left join measure_values as follow_up_values
        on
            pair_administrations.follow_up_administration_key = follow_up_values.administration_key
            and baseline_values.measure = follow_up_values.measure
)

select
    pairs.referral_key,
    referrals.practice_code,
    referrals.pcn_code,
    referrals.icb_code,
    pairs.instrument,
    pairs.measure,
    definitions.higher_is_better,
    pairs.baseline_date,
    pairs.baseline_score,
    pairs.follow_up_date,
    pairs.follow_up_score,
    pairs.follow_up_basis,
    pairs.follow_up_date is not null as has_follow_up,
    -- change is a keyword in some dialects; the name is fixed by the agreed interface of this table
    pairs.follow_up_score - pairs.baseline_score as change,  -- noqa: RF04
    definitions.minimal_important_difference,
    case
        when pairs.follow_up_date is null then null
        when definitions.higher_is_better and pairs.follow_up_score - pairs.baseline_score
            >= definitions.minimal_important_difference then 'improved'
        when not definitions.higher_is_better and pairs.baseline_score - pairs.follow_up_score
            >= definitions.minimal_important_difference then 'improved'
        when definitions.higher_is_better and pairs.baseline_score - pairs.follow_up_score
            >= definitions.minimal_important_difference then 'worse'
        when not definitions.higher_is_better and pairs.follow_up_score - pairs.baseline_score
            >= definitions.minimal_important_difference then 'worse'
        else 'no_change'
    end as change_category,
    cast({{ dbt.date_trunc('month', 'pairs.follow_up_date') }} as date) as follow_up_month,
    cast({{ dbt.date_trunc('month', 'pairs.baseline_date') }} as date) as baseline_month
from pairs
inner join referrals
    on pairs.referral_key = referrals.referral_key
left join definitions
    on pairs.measure = definitions.measure
