-- Coding concordance per GP practice and month, both ways round:
--  * provider referrals of the practice's patients received in the month, and how many of them have
--    the national SNOMED referral code in the practice record within the concordance window;
--  * national referral codes the practice recorded in the month, and how many of them no provider
--    knows about (no provider referral for that person at that practice within the window).
-- One row per practice and month for which the practice sent an events file: without the practice's
-- record concordance cannot be judged.
{%- set window_days = var('concordance_window_days') %}

with referrals as (
    select * from {{ ref('fct_referrals') }}
),

practice_months as (
    select distinct
        submitter_code as practice_code,
        period as month_start
    from {{ ref('stg_meta__files') }}
    where table_name = 'practice_events'
),

membership as (
    select * from {{ ref('stg_ods__pcn_membership') }}
),

coded_events as (
    select distinct
        practice_code,
        person_id,
        event_date
    from {{ ref('stg_practice__events') }}
    where snomed_code = '{{ var("national_referral_code") }}'
),

coded_events_matched as (
    select
        coded_events.practice_code,
        coded_events.person_id,
        coded_events.event_date,
        max(case when referrals.referral_key is not null then 1 else 0 end) as is_known_to_provider
    from coded_events
    left join referrals
        on
            coded_events.person_id = referrals.person_id
            and coded_events.practice_code = referrals.practice_code
            and coded_events.event_date
            between {{ dbt.dateadd('day', -window_days, 'referrals.referral_date') }}
            and {{ dbt.dateadd('day', window_days, 'referrals.referral_date') }}
    group by coded_events.practice_code, coded_events.person_id, coded_events.event_date
),

provider_counts as (
    select
        practice_code,
        referral_month as month_start,
        count(*) as provider_referrals,
        sum(case when has_national_referral_code then 1 else 0 end) as provider_referrals_coded
    from referrals
    group by practice_code, referral_month
),

practice_counts as (
    select
        practice_code,
        cast({{ dbt.date_trunc('month', 'event_date') }} as date) as month_start,
        count(*) as practice_coded_referrals,
        sum(1 - is_known_to_provider) as practice_coded_unknown_to_provider
    from coded_events_matched
    group by practice_code, cast({{ dbt.date_trunc('month', 'event_date') }} as date)
),

practice_pcns as (
    -- the PCN on the month's first day (the newer one where two ranges touch that day)
    select
        practice_months.practice_code,
        practice_months.month_start,
        membership.pcn_code,
        row_number() over (
            partition by practice_months.practice_code, practice_months.month_start
            order by membership.start_date desc nulls last
        ) as membership_rank
    from practice_months
    inner join membership
        on
            practice_months.practice_code = membership.practice_code
            and practice_months.month_start between membership.start_date and membership.end_date_or_max
),

counts as (
    select
        practice_months.practice_code,
        practice_pcns.pcn_code,
        practice_months.month_start,
        coalesce(provider_counts.provider_referrals, 0) as provider_referrals,
        coalesce(provider_counts.provider_referrals_coded, 0) as provider_referrals_coded,
        coalesce(practice_counts.practice_coded_referrals, 0) as practice_coded_referrals,
        coalesce(practice_counts.practice_coded_unknown_to_provider, 0) as practice_coded_unknown_to_provider
    from practice_months
    left join practice_pcns
        on
            practice_months.practice_code = practice_pcns.practice_code
            and practice_months.month_start = practice_pcns.month_start
            and practice_pcns.membership_rank = 1
    left join provider_counts
        on
            practice_months.practice_code = provider_counts.practice_code
            and practice_months.month_start = provider_counts.month_start
    left join practice_counts
        on
            practice_months.practice_code = practice_counts.practice_code
            and practice_months.month_start = practice_counts.month_start
)

select
    practice_code,
    pcn_code,
    month_start,
    provider_referrals,
    provider_referrals_coded,
    practice_coded_referrals,
    practice_coded_unknown_to_provider,
    case
        when provider_referrals > 0 then {{ round_half_up("1.0 * provider_referrals_coded / provider_referrals", 4) }}
    end as provider_referrals_coded_share,
    case
        when practice_coded_referrals > 0
            then {{ round_half_up("1.0 * practice_coded_unknown_to_provider / practice_coded_referrals", 4) }}
    end as practice_coded_unknown_share
from counts
