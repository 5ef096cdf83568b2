-- Referral measures per practice, PCN, ICB and England for each financial year (April to March),
-- to date while the year is in progress.
with measures as (
    select * from {{ ref('int_referral_measures') }}
    where period_type = 'financial_year'
)

select
    org_type,
    org_code,
    org_name,
    {{ financial_year_label('period_start') }} as financial_year,
    period_start,
    period_end,
    months_covered,
    months_with_provider_returns,
    {{ referral_measure_columns() }}
from measures
