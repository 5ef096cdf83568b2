-- The SROI of each PCN, financial year and scenario, walked from quantities to the ratio for the
-- PCN report: an inputs row (what the service cost), one row per valued outcome (quantity, financial
-- proxy, gross value, each adjustment, benefit period, discount rate and present value), then the
-- total present value, the net present value and the ratio. Health benefit (QALYs) is not here: it
-- is reported apart (health_benefit_pcn_financial_year) and never added into the ratio.
with outcome_values as (
    select * from {{ ref('int_sroi_outcome_values') }}
    where valuation = 'sroi'
),

inputs as (
    select * from {{ ref('int_sroi_inputs') }}
),

outcome_count as (
    select count(distinct outcome) as outcomes
    from outcome_values
),

totals as (
    select
        pcn_code,
        financial_year_start,
        scenario,
        assumption_version,
        round(sum(present_value), 2) as present_value
    from outcome_values
    group by pcn_code, financial_year_start, scenario, assumption_version
),

summary_steps as (
    select
        'total_present_value' as step,
        2 as step_offset
    union all
    select
        'net_present_value' as step,
        3 as step_offset
    union all
    select
        'sroi_ratio' as step,
        4 as step_offset
),

walk as (
    select
        totals.pcn_code,
        inputs.icb_code,
        inputs.financial_year_start,
        inputs.financial_year,
        totals.scenario,
        cast(null as {{ dbt.type_string() }}) as outcome,
        1 as step_order,
        'inputs' as step,
        cast(inputs.input_value as double) as quantity,
        'GBP' as unit,
        cast(null as double) as people,
        cast(null as double) as financial_proxy,
        cast(null as {{ dbt.type_string() }}) as price_year,
        cast(null as double) as gross_value,
        cast(null as double) as deadweight,
        cast(null as double) as displacement,
        cast(null as double) as attribution,
        cast(null as double) as adjusted_value,
        cast(null as double) as drop_off,
        cast(null as integer) as benefit_years,
        cast(null as double) as discount_rate,
        cast(inputs.input_value as double) as present_value,
        totals.assumption_version
    from totals
    inner join inputs
        on totals.pcn_code = inputs.pcn_code and totals.financial_year_start = inputs.financial_year_start
    union all
    select
        pcn_code,
        icb_code,
        financial_year_start,
        financial_year,
        scenario,
        outcome,
        1 + outcome_order as step_order,
        'outcome' as step,
        cast(quantity as double) as quantity,
        quantity_unit as unit,
        cast(people as double) as people,
        cast(financial_proxy as double) as financial_proxy,
        price_year,
        round(gross_value, 2) as gross_value,
        cast(deadweight as double) as deadweight,
        cast(displacement as double) as displacement,
        cast(attribution as double) as attribution,
        round(adjusted_value, 2) as adjusted_value,
        cast(drop_off as double) as drop_off,
        benefit_years,
        cast(discount_rate as double) as discount_rate,
        present_value,
        assumption_version
    from outcome_values
    union all
    select
        totals.pcn_code,
        inputs.icb_code,
        inputs.financial_year_start,
        inputs.financial_year,
        totals.scenario,
        cast(null as {{ dbt.type_string() }}) as outcome,
        outcome_count.outcomes + step_rows.step_offset as step_order,
        step_rows.step,
        case step_rows.step
            when 'total_present_value' then totals.present_value
            when 'net_present_value' then round(totals.present_value - inputs.input_value, 2)
            when 'sroi_ratio' then
                case when inputs.input_value > 0 then round(totals.present_value / inputs.input_value, 2) end
        end as quantity,
        case step_rows.step when 'sroi_ratio' then 'GBP of value per GBP 1 of input' else 'GBP' end as unit,
        cast(null as double) as people,
        cast(null as double) as financial_proxy,
        cast(null as {{ dbt.type_string() }}) as price_year,
        cast(null as double) as gross_value,
        cast(null as double) as deadweight,
        cast(null as double) as displacement,
        cast(null as double) as attribution,
        cast(null as double) as adjusted_value,
        cast(null as double) as drop_off,
        cast(null as integer) as benefit_years,
        cast(null as double) as discount_rate,
        case step_rows.step
            when 'total_present_value' then totals.present_value
            when 'net_present_value' then round(totals.present_value - inputs.input_value, 2)
        end as present_value,
        totals.assumption_version
    from totals
    inner join inputs
        on totals.pcn_code = inputs.pcn_code and totals.financial_year_start = inputs.financial_year_start
    cross join outcome_count
    cross join summary_steps as step_rows
)

select
    pcn_code,
    icb_code,
    financial_year,
    financial_year_start,
    scenario,
    outcome,
    step_order,
    step,
    quantity,
    unit,
    people,
    financial_proxy,
    price_year,
    gross_value,
    deadweight,
    displacement,
    attribution,
    adjusted_value,
    drop_off,
    benefit_years,
    discount_rate,
    present_value,
    assumption_version
from walk
