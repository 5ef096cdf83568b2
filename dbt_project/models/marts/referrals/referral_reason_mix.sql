-- Why people were referred: referrals per reason, organisation and reporting period (month,
-- financial year, rolling 12 months). A referral gives one or more reasons (';'-separated), so it
-- counts under each: share_of_referrals can sum to more than 1, share_of_reasons sums to 1.
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

reasons as (
    select * from {{ ref('referral_reasons') }}
),

org_levels as (
    {{ referral_org_levels() }}
),

referral_reasons_split as (
    -- one row per referral and reason it gives: a match of ';reason;' in ';reasons;'
    select
        events.referral_key,
        events.practice_code,
        events.event_month,
        reasons.referral_reason
    from events
    inner join reasons
        on {{ dbt.position(
            dbt.concat(["';'", "reasons.referral_reason", "';'"]),
            dbt.concat(["';'", dbt.replace("events.referral_reasons", "' '", "''"), "';'"])
        ) }} > 0
),

practice_month_referrals as (
    select
        practice_code,
        event_month,
        count(*) as referrals_received
    from events
    group by practice_code, event_month
),

practice_month_reasons as (
    select
        practice_code,
        event_month,
        referral_reason,
        count(*) as referrals_with_reason
    from referral_reasons_split
    group by practice_code, event_month, referral_reason
),

org_period_reasons as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        org_levels.org_type,
        {{ referral_org_code(
            'org_levels.org_type', 'practice_month_reasons.practice_code', 'practice_months.pcn_code', 'practice_months.icb_code'
        ) }} as org_code,
        practice_month_reasons.referral_reason,
        practice_month_reasons.referrals_with_reason
    from practice_month_reasons
    left join practice_months
        on
            practice_month_reasons.practice_code = practice_months.practice_code
            and practice_month_reasons.event_month = practice_months.month_start
    inner join periods
        on practice_month_reasons.event_month = periods.month_start
    cross join org_levels
),

org_period_referrals as (
    select
        periods.period_type,
        periods.period_start,
        org_levels.org_type,
        {{ referral_org_code(
            'org_levels.org_type', 'practice_month_referrals.practice_code', 'practice_months.pcn_code', 'practice_months.icb_code'
        ) }} as org_code,
        practice_month_referrals.referrals_received
    from practice_month_referrals
    left join practice_months
        on
            practice_month_referrals.practice_code = practice_months.practice_code
            and practice_month_referrals.event_month = practice_months.month_start
    inner join periods
        on practice_month_referrals.event_month = periods.month_start
    cross join org_levels
),

reason_counts as (
    select
        period_type,
        period_start,
        period_end,
        org_type,
        org_code,
        referral_reason,
        sum(referrals_with_reason) as referrals_with_reason
    from org_period_reasons
    where org_code is not null
    group by period_type, period_start, period_end, org_type, org_code, referral_reason
),

referral_totals as (
    select
        period_type,
        period_start,
        org_type,
        org_code,
        sum(referrals_received) as referrals_received
    from org_period_referrals
    where org_code is not null
    group by period_type, period_start, org_type, org_code
),

with_totals as (
    select
        reason_counts.*,
        referral_totals.referrals_received,
        sum(reason_counts.referrals_with_reason) over (
            partition by
                reason_counts.period_type, reason_counts.period_start, reason_counts.org_type, reason_counts.org_code
        ) as reasons_given
    from reason_counts
    inner join referral_totals
        on
            reason_counts.period_type = referral_totals.period_type
            and reason_counts.period_start = referral_totals.period_start
            and reason_counts.org_type = referral_totals.org_type
            and reason_counts.org_code = referral_totals.org_code
)

select
    with_totals.period_type,
    with_totals.period_start,
    with_totals.period_end,
    with_totals.org_type,
    with_totals.org_code,
    with_totals.referral_reason,
    reasons.referral_reason_name,
    with_totals.referrals_with_reason,
    with_totals.referrals_received,
    with_totals.reasons_given,
    {{ round_half_up("1.0 * with_totals.referrals_with_reason / with_totals.referrals_received", 4) }}
        as share_of_referrals,
    {{ round_half_up("1.0 * with_totals.referrals_with_reason / with_totals.reasons_given", 4) }} as share_of_reasons
from with_totals
left join reasons
    on with_totals.referral_reason = reasons.referral_reason
