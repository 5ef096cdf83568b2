-- Completeness of key fields in the loaded rows (the current version of each month's file): per
-- submitter, month, table and field, the rows the check applies to and how many pass. Checks:
--  practice_events.lsoa_code          recorded (optional in the contract, needed for deprivation)
--  practice_events.ethnic_category    stated: not Z (not stated) or 99 (not known)
--  practice_events.sex                known: not X (not known)
--  provider_referrals.link_worker_id  recorded, once the person has had a first contact
--  provider_referrals.first_contact_date  recorded for referrals received at least
--      first_contact_expected_days (data_quality_settings) before the month's end, unless declined
with settings as (
    select max(case when setting = 'first_contact_expected_days' then value end) as first_contact_expected_days
    from {{ ref('data_quality_settings') }}
),

events as (
    select * from {{ ref('stg_practice__events') }}
),

referrals as (
    select
        referrals.*,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'referrals.period')) }} as date) as period_end
    from {{ ref('stg_provider__referrals') }} as referrals
),

checks as (
    select
        practice_code as submitter_code,
        period,
        'practice_events' as table_name,
        'lsoa_code' as field_name,
        case when lsoa_code is not null then 1 else 0 end as is_complete
    from events
    union all
    select
        practice_code as submitter_code,
        period,
        'practice_events' as table_name,
        'ethnic_category' as field_name,
        case when ethnic_category not in ('Z', '99') then 1 else 0 end as is_complete
    from events
    union all
    select
        practice_code as submitter_code,
        period,
        'practice_events' as table_name,
        'sex' as field_name,
        case when sex <> 'X' then 1 else 0 end as is_complete
    from events
    union all
    select
        provider_code as submitter_code,
        period,
        'provider_referrals' as table_name,
        'link_worker_id' as field_name,
        case when link_worker_id is not null then 1 else 0 end as is_complete
    from referrals
    where first_contact_date is not null
    union all
    select
        referrals.provider_code as submitter_code,
        referrals.period,
        'provider_referrals' as table_name,
        'first_contact_date' as field_name,
        case when referrals.first_contact_date is not null then 1 else 0 end as is_complete
    from referrals
    cross join settings
    where
        referrals.referral_date
        <= {{ dbt.dateadd('day', '-settings.first_contact_expected_days', 'referrals.period_end') }}
        and coalesce(referrals.discharge_reason, 'none') <> 'declined'
)

select
    submitter_code,
    period,
    table_name,
    field_name,
    count(*) as rows_checked,
    sum(is_complete) as rows_complete,
    {{ round_half_up("1.0 * sum(is_complete) / count(*)", 4) }} as completeness_share
from checks
group by submitter_code, period, table_name, field_name
