-- Fails (one row per gap) when var sroi_assumption_version does not give every outcome of
-- seeds/sroi_outcomes.csv all seven assumptions in every scenario (low, central, high): without
-- this, a mistyped version would leave the SROI marts silently empty.
with scenarios as (
    select 'low' as scenario
    union all
    select 'central' as scenario
    union all
    select 'high' as scenario
),

assumption_names as (
    select 'proxy_value' as assumption_name
    union all
    select 'deadweight' as assumption_name
    union all
    select 'displacement' as assumption_name
    union all
    select 'attribution' as assumption_name
    union all
    select 'drop_off' as assumption_name
    union all
    select 'benefit_years' as assumption_name
    union all
    select 'discount_rate' as assumption_name
),

expected as (
    select
        outcomes.outcome,
        scenarios.scenario,
        assumption_names.assumption_name
    from {{ ref('sroi_outcomes') }} as outcomes
    cross join scenarios
    cross join assumption_names
)

select
    '{{ var("sroi_assumption_version") }}' as assumption_version,
    expected.outcome,
    expected.scenario,
    expected.assumption_name
from expected
left join {{ ref('sroi_assumptions') }} as assumptions
    on
        assumptions.assumption_version = '{{ var("sroi_assumption_version") }}'
        and expected.outcome = assumptions.outcome
        and expected.scenario = assumptions.scenario
        and expected.assumption_name = assumptions.name
where assumptions.value is null
