-- One row per referral episode, placed in the PCN the practice belonged to on the referral date.
with referrals as (
    select * from {{ ref('int_referrals_latest') }}
),

practices as (
    select * from {{ ref('stg_ods__practices') }}
),

membership as (
    select * from {{ ref('stg_ods__pcn_membership') }}
),

contacts as (
    select * from {{ ref('int_referral_contacts') }}
),

coded as (
    select * from {{ ref('int_referral_practice_coding') }}
),

sources as (
    select * from {{ ref('referral_sources') }}
)

select
    referrals.referral_key,
    referrals.provider_code,
    referrals.referral_id,
    referrals.person_id,
    referrals.practice_code,
    membership.pcn_code,
    practices.sub_icb_code,
    practices.icb_code,
    practices.region_code,
    referrals.referral_date,
    cast({{ dbt.date_trunc('month', 'referrals.referral_date') }} as date) as referral_month,
    referrals.referral_source,
    sources.is_general_practice as is_referred_by_general_practice,
    referrals.referral_reasons,
    referrals.link_worker_id,
    referrals.first_contact_date,
    {{ dbt.datediff('referrals.referral_date', 'referrals.first_contact_date', 'day') }} as days_to_first_contact,
    coalesce(contacts.contacts_offered, 0) as contacts_offered,
    coalesce(contacts.contacts_attended, 0) as contacts_attended,
    referrals.care_plan_agreed_date,
    referrals.care_plan_agreed_date is not null as has_care_plan,
    referrals.discharge_date,
    referrals.discharge_reason,
    coalesce(referrals.discharge_reason = 'declined', false) as is_declined,
    case
        when referrals.discharge_reason = 'declined' then 'declined'
        when referrals.discharge_date is not null then 'discharged'
        when referrals.first_contact_date is not null then 'active'
        else 'awaiting_first_contact'
    end as referral_status,
    coded.referral_key is not null as has_national_referral_code,
    referrals.last_reported_period
from referrals
left join practices
    on referrals.practice_code = practices.practice_code
left join membership
    on
        referrals.practice_code = membership.practice_code
        and referrals.referral_date between membership.start_date and membership.end_date_or_max
left join contacts
    on referrals.referral_key = contacts.referral_key
left join coded
    on referrals.referral_key = coded.referral_key
left join sources
    on referrals.referral_source = sources.referral_source
