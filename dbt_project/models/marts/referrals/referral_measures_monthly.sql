-- Referral measures per practice, PCN, ICB and England for each month.
with measures as (
    select * from {{ ref('int_referral_measures') }}
    where period_type = 'month'
),

practice_months as (
    select * from {{ ref('int_practice_pcn_by_month') }}
)

select
    measures.org_type,
    measures.org_code,
    measures.org_name,
    measures.period_start as month_start,
    measures.period_end as month_end,
    {{ referral_measure_columns('measures.') }},
    measures.months_with_provider_returns = 1 as has_provider_returns,
    case when measures.org_type = 'practice' then practice_months.pcn_code end as parent_pcn_code,
    case when measures.org_type = 'practice' then practice_months.icb_code end as parent_icb_code
from measures
left join practice_months
    on
        measures.org_code = practice_months.practice_code
        and measures.period_start = practice_months.month_start
        and measures.org_type = 'practice'
