-- Social return on investment per PCN, financial year and scenario (low / central / high): the
-- present value of the valued outcomes (sroi_walk shows how each is reached), the inputs (provider
-- costs), the net present value and the ratio (GBP of social value per GBP 1 of input), with the
-- assumption version that produced them. Health benefit (QALYs) is reported apart.
with walk as (
    select * from {{ ref('sroi_walk') }}
),

inputs as (
    select * from {{ ref('int_sroi_inputs') }}
)

select
    inputs.pcn_code,
    inputs.icb_code,
    inputs.financial_year,
    inputs.financial_year_start,
    walk.scenario,
    inputs.months_with_costs,
    inputs.input_value,
    max(case when walk.step = 'total_present_value' then walk.present_value end) as present_value,
    max(case when walk.step = 'net_present_value' then walk.present_value end) as net_present_value,
    max(case when walk.step = 'sroi_ratio' then walk.quantity end) as sroi_ratio,
    max(walk.assumption_version) as assumption_version
from inputs
inner join walk
    on inputs.pcn_code = walk.pcn_code and inputs.financial_year_start = walk.financial_year_start
group by
    inputs.pcn_code,
    inputs.icb_code,
    inputs.financial_year,
    inputs.financial_year_start,
    walk.scenario,
    inputs.months_with_costs,
    inputs.input_value
