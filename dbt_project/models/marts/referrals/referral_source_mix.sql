-- Who referred people: referrals received per source, organisation and reporting period (month,
-- financial year, rolling 12 months), with each source's share. Only sources with referrals.
with events as (
    select * from {{ ref('int_referral_events') }}
    where event_type = 'referral_received'
),

practice_months as (
    select * from {{ ref('int_practice_pcn_by_month') }}
),

periods as (
    select * from {{ ref('int_referral_periods') }}
),

sources as (
    select * from {{ ref('referral_sources') }}
),

org_levels as (
    {{ referral_org_levels() }}
),

practice_month_sources as (
    select
        practice_code,
        event_month,
        referral_source,
        count(*) as referrals
    from events
    group by practice_code, event_month, referral_source
),

org_period_sources as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        org_levels.org_type,
        {{ referral_org_code(
            'org_levels.org_type', 'practice_month_sources.practice_code', 'practice_months.pcn_code', 'practice_months.icb_code'
        ) }} as org_code,
        practice_month_sources.referral_source,
        practice_month_sources.referrals
    from practice_month_sources
    left join practice_months
        on
            practice_month_sources.practice_code = practice_months.practice_code
            and practice_month_sources.event_month = practice_months.month_start
    inner join periods
        on practice_month_sources.event_month = periods.month_start
    cross join org_levels
),

source_counts as (
    select
        period_type,
        period_start,
        period_end,
        org_type,
        org_code,
        referral_source,
        sum(referrals) as referrals
    from org_period_sources
    where org_code is not null
    group by period_type, period_start, period_end, org_type, org_code, referral_source
),

with_totals as (
    select
        *,
        sum(referrals) over (partition by period_type, period_start, org_type, org_code) as referrals_received
    from source_counts
)

select
    with_totals.period_type,
    with_totals.period_start,
    with_totals.period_end,
    with_totals.org_type,
    with_totals.org_code,
    with_totals.referral_source,
    sources.referral_source_name,
    sources.is_general_practice,
    with_totals.referrals,
    with_totals.referrals_received,
    {{ round_half_up("1.0 * with_totals.referrals / with_totals.referrals_received", 4) }} as share_of_referrals
from with_totals
left join sources
    on with_totals.referral_source = sources.referral_source
