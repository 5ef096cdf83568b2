-- The reporting months the referral measures cover: from the month of the earliest referral (or
-- file, when earlier) to the latest month for which any file was loaded. Referrals received before
-- the first provider file are only those still open when reporting began: has_provider_returns
-- flags the months that providers reported.
with episodes as (
    select * from {{ ref('int_referral_episodes') }}
),

files as (
    select * from {{ ref('stg_meta__files') }}
),

activity_months as (
    select referral_month as month_start from episodes
    union all
    select period as month_start from files
),

bounds as (
    select
        (select min(month_start) from activity_months) as first_month,
        (select max(period) from files) as last_month
),

month_numbers as (
    -- 0, 1, 2, ...: enough for a century of months
    select generated_number - 1 as month_number
    from ({{ dbt.generate_series(1200) }}) as series
),

months as (
    select cast({{ dbt.dateadd('month', 'month_numbers.month_number', 'bounds.first_month') }} as date) as month_start
    from bounds
    cross join month_numbers
    where month_numbers.month_number <= {{ dbt.datediff('bounds.first_month', 'bounds.last_month', 'month') }}
),

provider_returns as (
    select distinct period as month_start
    from files
    where table_name = 'provider_referrals'
)

select
    months.month_start,
    cast({{ dbt.last_day('months.month_start', 'month') }} as date) as month_end,
    {{ financial_year_start('months.month_start') }} as financial_year_start,
    provider_returns.month_start is not null as has_provider_returns
from months
left join provider_returns
    on months.month_start = provider_returns.month_start
