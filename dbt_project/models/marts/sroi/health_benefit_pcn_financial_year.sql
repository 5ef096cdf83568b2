-- Health benefit per PCN, financial year and scenario: the QALYs gained, from the change in the
-- EQ-5D-5L index of the people whose follow-up is dated in the year, after deadweight, displacement
-- and attribution, over the benefit period with drop-off, discounted at the health rate; valued at
-- the scenario's GBP per QALY. Reported apart from the SROI and never added into it: the same
-- improvement is already valued there as wellbeing.
with qaly_values as (
    select
        pcn_code,
        icb_code,
        financial_year,
        financial_year_start,
        scenario,
        people,
        quantity,
        financial_proxy,
        present_value,
        assumption_version,
        round(present_quantity, 4) as qaly_gain
    from {{ ref('int_sroi_outcome_values') }}
    where valuation = 'health_benefit' and outcome = 'qaly'
)

select
    pcn_code,
    icb_code,
    financial_year,
    financial_year_start,
    scenario,
    people as eq5d_pairs,
    quantity as eq5d_index_change,
    qaly_gain,
    financial_proxy as value_per_qaly,
    present_value as health_benefit_value,
    assumption_version
from qaly_values
