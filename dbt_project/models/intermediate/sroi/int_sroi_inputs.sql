-- SROI inputs: what the link-worker service cost per PCN and financial year (every cost type the
-- providers report: staff, overheads, activities and volunteer time), and how many months of costs
-- that covers. The PCN's ICB comes from ODS (the ICB of its member practices).
with costs as (
    select * from {{ ref('stg_provider__costs') }}
),

pcn_icbs as (
    select
        membership.pcn_code,
        max(practices.icb_code) as icb_code
    from {{ ref('stg_ods__pcn_membership') }} as membership
    inner join {{ ref('stg_ods__practices') }} as practices
        on membership.practice_code = practices.practice_code
    group by membership.pcn_code
),

pcn_years as (
    select
        pcn_code,
        {{ financial_year_start('period') }} as financial_year_start,
        sum(amount_gbp) as input_value,
        count(distinct period) as months_with_costs,
        count(distinct provider_code) as providers
    from costs
    group by pcn_code, {{ financial_year_start('period') }}
)

select
    pcn_years.pcn_code,
    pcn_icbs.icb_code,
    pcn_years.financial_year_start,
    {{ financial_year_label('pcn_years.financial_year_start') }} as financial_year,
    pcn_years.input_value,
    pcn_years.months_with_costs,
    pcn_years.providers
from pcn_years
left join pcn_icbs
    on pcn_years.pcn_code = pcn_icbs.pcn_code
