-- Referral measures per practice, PCN, ICB and England for the 12 months ending with each month.
with measures as (
    select * from {{ ref('int_referral_measures') }}
    where period_type = 'rolling_12m'
)

select
    org_type,
    org_code,
    org_name,
    last_month_start as month_start,
    period_start,
    period_end,
    months_covered,
    months_with_provider_returns,
    {{ referral_measure_columns() }}
from measures
