-- One row per referral episode (provider + referral id) in its latest reported state, placed in the
-- PCN its practice belonged to on the referral date, with waits, contacts, care plan and discharge.
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
),

pcn_on_referral_date as (
    -- ODS ranges may touch (one ends the day the next starts): that day belongs to the new PCN
    select
        referrals.referral_key,
        membership.pcn_code,
        row_number() over (
            partition by referrals.referral_key
            order by membership.start_date desc nulls last
        ) as membership_rank
    from referrals
    inner join membership
        on
            referrals.practice_code = membership.practice_code
            and referrals.referral_date between membership.start_date and membership.end_date_or_max
)

select
    referrals.referral_key,
    referrals.provider_code,
    referrals.referral_id,
    referrals.person_id,
    referrals.practice_code,
    pcn_on_referral_date.pcn_code,
    practices.sub_icb_code,
    practices.icb_code,
    practices.region_code,
    referrals.referral_date,
    cast({{ dbt.date_trunc('month', 'referrals.referral_date') }} as date) as referral_month,
    referrals.referral_source,
    sources.is_general_practice as is_referred_by_general_practice,
    referrals.referral_reasons,
    referrals.link_worker_id,
    case
        when referrals.link_worker_id is not null
            then {{ dbt.concat(["referrals.provider_code", "'-'", "referrals.link_worker_id"]) }}
    end as link_worker_key,
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
left join pcn_on_referral_date
    on
        referrals.referral_key = pcn_on_referral_date.referral_key
        and pcn_on_referral_date.membership_rank = 1
left join contacts
    on referrals.referral_key = contacts.referral_key
left join coded
    on referrals.referral_key = coded.referral_key
left join sources
    on referrals.referral_source = sources.referral_source
