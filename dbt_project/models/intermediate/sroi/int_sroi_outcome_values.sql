-- Every valued outcome per PCN, financial year and scenario, taken from quantity to present value
-- with the assumptions of var sroi_assumption_version (seeds/sroi_assumptions.csv), following the
-- Social Value UK method:
--   gross value     = quantity x financial proxy
--   adjusted value  = gross value x (1 - deadweight) x (1 - displacement) x (1 - attribution)
--   value in year t = adjusted value x (1 - drop_off)^(t - 1), for t = 1 .. benefit_years
--   present value   = sum over t of value in year t / (1 + discount_rate)^(t - 1)
-- Year one is the financial year itself, like the inputs, so it is not discounted (Green Book:
-- the present year is year 0). Present values are rounded to the penny per outcome, and totals
-- are sums of those rounded figures, so the walk adds up exactly. PCN-years are those with inputs
-- (costs): a ratio needs them. valuation says whether an outcome counts in the SROI ratio ('sroi')
-- or is reported apart as health benefit ('health_benefit').
{%- set assumption_version = var('sroi_assumption_version') %}

with assumptions as (
    select * from {{ ref('sroi_assumptions') }}
    where assumption_version = '{{ assumption_version }}'
),

outcomes as (
    select * from {{ ref('sroi_outcomes') }}
),

inputs as (
    select * from {{ ref('int_sroi_inputs') }}
),

quantities as (
    select * from {{ ref('int_sroi_outcome_quantities') }}
),

parameters as (
    select
        outcome,
        scenario,
        max(case when name = 'proxy_value' then value end) as financial_proxy,
        max(case when name = 'proxy_value' then unit end) as financial_proxy_unit,
        max(case when name = 'proxy_value' then price_year end) as price_year,
        max(case when name = 'deadweight' then value end) as deadweight,
        max(case when name = 'displacement' then value end) as displacement,
        max(case when name = 'attribution' then value end) as attribution,
        max(case when name = 'drop_off' then value end) as drop_off,
        max(case when name = 'benefit_years' then value end) as benefit_years,
        max(case when name = 'discount_rate' then value end) as discount_rate
    from assumptions
    group by outcome, scenario
),

benefit_years as (
    {{ dbt.generate_series(var('sroi_max_benefit_years')) }}
),

valued as (
    select
        inputs.pcn_code,
        inputs.icb_code,
        inputs.financial_year_start,
        inputs.financial_year,
        parameters.scenario,
        outcomes.outcome,
        outcomes.outcome_name,
        outcomes.valuation,
        outcomes.outcome_order,
        outcomes.quantity_unit,
        parameters.financial_proxy,
        parameters.financial_proxy_unit,
        parameters.price_year,
        parameters.deadweight,
        parameters.displacement,
        parameters.attribution,
        parameters.drop_off,
        cast(parameters.benefit_years as integer) as benefit_years,
        parameters.discount_rate,
        coalesce(quantities.quantity, 0) as quantity,
        coalesce(quantities.people, 0) as people,
        cast(coalesce(quantities.quantity, 0) as double)
        * cast(parameters.financial_proxy as double) as gross_value,
        cast(coalesce(quantities.quantity, 0) as double)
        * cast(parameters.financial_proxy as double)
        * (1 - cast(parameters.deadweight as double))
        * (1 - cast(parameters.displacement as double))
        * (1 - cast(parameters.attribution as double)) as adjusted_value
    from inputs
    cross join outcomes
    inner join parameters
        on outcomes.outcome = parameters.outcome
    left join quantities
        on
            inputs.pcn_code = quantities.pcn_code
            and inputs.financial_year_start = quantities.financial_year_start
            and outcomes.outcome = quantities.outcome
),

discounted as (
    select
        valued.pcn_code,
        valued.financial_year_start,
        valued.scenario,
        valued.outcome,
        sum(
            valued.adjusted_value
            * power(1 - cast(valued.drop_off as double), benefit_years.generated_number - 1)
            / power(1 + cast(valued.discount_rate as double), benefit_years.generated_number - 1)
        ) as present_value,
        sum(
            cast(valued.quantity as double)
            * (1 - cast(valued.deadweight as double))
            * (1 - cast(valued.displacement as double))
            * (1 - cast(valued.attribution as double))
            * power(1 - cast(valued.drop_off as double), benefit_years.generated_number - 1)
            / power(1 + cast(valued.discount_rate as double), benefit_years.generated_number - 1)
        ) as present_quantity
    from valued
    inner join benefit_years
        on valued.benefit_years >= benefit_years.generated_number
    group by valued.pcn_code, valued.financial_year_start, valued.scenario, valued.outcome
)

select
    valued.pcn_code,
    valued.icb_code,
    valued.financial_year_start,
    valued.financial_year,
    valued.scenario,
    valued.outcome,
    valued.outcome_name,
    valued.valuation,
    valued.outcome_order,
    valued.quantity,
    valued.quantity_unit,
    valued.people,
    valued.financial_proxy,
    valued.financial_proxy_unit,
    valued.price_year,
    valued.gross_value,
    valued.deadweight,
    valued.displacement,
    valued.attribution,
    valued.adjusted_value,
    valued.drop_off,
    valued.benefit_years,
    valued.discount_rate,
    discounted.present_quantity,
    discounted.present_value as present_value_unrounded,
    round(discounted.present_value, 2) as present_value,
    '{{ assumption_version }}' as assumption_version
from valued
inner join discounted
    on
        valued.pcn_code = discounted.pcn_code
        and valued.financial_year_start = discounted.financial_year_start
        and valued.scenario = discounted.scenario
        and valued.outcome = discounted.outcome
