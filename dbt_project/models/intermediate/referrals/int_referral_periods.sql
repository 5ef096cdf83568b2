-- The reporting periods the referral measures are published for, one row per period and month it
-- contains: each month; each financial year (April to March, to date while it is in progress);
-- and the 12 months ending with each month. Only months inside the reporting range count, so a
-- period at either end of the range can cover fewer months (months_covered says how many).
with months as (
    select * from {{ ref('int_referral_months') }}
),

calendar_months as (
    select
        'month' as period_type,
        month_start as period_start,
        month_start,
        month_end,
        has_provider_returns
    from months
),

financial_years as (
    select
        'financial_year' as period_type,
        financial_year_start as period_start,
        month_start,
        month_end,
        has_provider_returns
    from months
),

rolling_12_months as (
    -- a month belongs to the windows ending with it and with each of the 11 months after it
    select
        'rolling_12m' as period_type,
        cast({{ dbt.dateadd('month', -11, 'window_ends.month_start') }} as date) as period_start,
        months.month_start,
        months.month_end,
        months.has_provider_returns
    from months as window_ends
    inner join months
        on
            window_ends.month_start >= months.month_start
            and cast({{ dbt.dateadd('month', -11, 'window_ends.month_start') }} as date) <= months.month_start
),

period_months as (
    select * from calendar_months
    union all
    select * from financial_years
    union all
    select * from rolling_12_months
)

select
    period_type,
    period_start,
    month_start,
    max(month_end) over (partition by period_type, period_start) as period_end,
    max(month_start) over (partition by period_type, period_start) as last_month_start,
    month_start = min(month_start) over (partition by period_type, period_start) as is_first_month,
    month_start = max(month_start) over (partition by period_type, period_start) as is_last_month,
    count(*) over (partition by period_type, period_start) as months_covered,
    sum(case when has_provider_returns then 1 else 0 end) over (
        partition by period_type, period_start
    ) as months_with_provider_returns
from period_months
