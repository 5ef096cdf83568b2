-- Everything the referral measures count, one row per countable event, each at a practice and in
-- a month: a referral received, a first contact, a care plan agreed, a discharge, a month's
-- contacts for a referral, a person's practice-coded signposting, and a referral open at the
-- start or at the end of a month (the caseload).
with episodes as (
    select * from {{ ref('int_referral_episodes') }}
),

contacts as (
    select * from {{ ref('stg_provider__contacts') }}
),

practice_events as (
    select * from {{ ref('stg_practice__events') }}
),

codelist as (
    select * from {{ ref('snomed_social_prescribing') }}
),

months as (
    select * from {{ ref('int_referral_months') }}
),

referrals_received as (
    select
        'referral_received' as event_type,
        referral_date as event_date,
        referral_key,
        person_id,
        practice_code,
        link_worker_key,
        referral_source,
        referral_reasons,
        is_referred_by_general_practice,
        is_declined,
        cast(null as {{ dbt.type_int() }}) as days_to_first_contact,
        cast(null as {{ dbt.type_string() }}) as discharge_reason,
        0 as contacts_offered,
        0 as contacts_attended
    from episodes
),

first_contacts as (
    select
        'first_contact' as event_type,
        first_contact_date as event_date,
        referral_key,
        person_id,
        practice_code,
        link_worker_key,
        referral_source,
        referral_reasons,
        is_referred_by_general_practice,
        is_declined,
        days_to_first_contact,
        cast(null as {{ dbt.type_string() }}) as discharge_reason,
        0 as contacts_offered,
        0 as contacts_attended
    from episodes
    where first_contact_date is not null
),

care_plans as (
    select
        'care_plan_agreed' as event_type,
        care_plan_agreed_date as event_date,
        referral_key,
        person_id,
        practice_code,
        link_worker_key,
        referral_source,
        referral_reasons,
        is_referred_by_general_practice,
        is_declined,
        cast(null as {{ dbt.type_int() }}) as days_to_first_contact,
        cast(null as {{ dbt.type_string() }}) as discharge_reason,
        0 as contacts_offered,
        0 as contacts_attended
    from episodes
    where care_plan_agreed_date is not null
),

discharges as (
    select
        'discharge' as event_type,
        discharge_date as event_date,
        referral_key,
        person_id,
        practice_code,
        link_worker_key,
        referral_source,
        referral_reasons,
        is_referred_by_general_practice,
        is_declined,
        cast(null as {{ dbt.type_int() }}) as days_to_first_contact,
        discharge_reason,
        0 as contacts_offered,
        0 as contacts_attended
    from episodes
    where discharge_date is not null
),

contacts_by_month as (
    -- a referral's contacts in a month (offered = held or missed), dated by the month's first contact
    select
        'contacts' as event_type,
        min(contacts.contact_date) as event_date,
        episodes.referral_key,
        episodes.person_id,
        episodes.practice_code,
        episodes.link_worker_key,
        episodes.referral_source,
        episodes.referral_reasons,
        episodes.is_referred_by_general_practice,
        episodes.is_declined,
        cast(null as {{ dbt.type_int() }}) as days_to_first_contact,
        cast(null as {{ dbt.type_string() }}) as discharge_reason,
        count(*) as contacts_offered,
        sum(case when contacts.is_attended then 1 else 0 end) as contacts_attended
    from contacts
    inner join episodes
        on contacts.referral_key = episodes.referral_key
    group by
        episodes.referral_key,
        episodes.person_id,
        episodes.practice_code,
        episodes.link_worker_key,
        episodes.referral_source,
        episodes.referral_reasons,
        episodes.is_referred_by_general_practice,
        episodes.is_declined,
        {{ dbt.date_trunc('month', 'contacts.contact_date') }}
),

signposting as (
    -- practice-coded signposting to social prescribing (the codelist's 'signposted' concepts)
    select distinct
        'signposted' as event_type,
        practice_events.event_date,
        cast(null as {{ dbt.type_string() }}) as referral_key,
        practice_events.person_id,
        practice_events.practice_code,
        cast(null as {{ dbt.type_string() }}) as link_worker_key,
        cast(null as {{ dbt.type_string() }}) as referral_source,
        cast(null as {{ dbt.type_string() }}) as referral_reasons,
        cast(null as boolean) as is_referred_by_general_practice,
        cast(null as boolean) as is_declined,
        cast(null as {{ dbt.type_int() }}) as days_to_first_contact,
        cast(null as {{ dbt.type_string() }}) as discharge_reason,
        0 as contacts_offered,
        0 as contacts_attended
    from practice_events
    inner join codelist
        on practice_events.snomed_code = codelist.code
    where codelist.category = 'signposted'
),

open_at_month_start as (
    -- received before the month and not discharged before its first day
    select
        'open_at_month_start' as event_type,
        months.month_start as event_date,
        episodes.referral_key,
        episodes.person_id,
        episodes.practice_code,
        episodes.link_worker_key,
        episodes.referral_source,
        episodes.referral_reasons,
        episodes.is_referred_by_general_practice,
        episodes.is_declined,
        cast(null as {{ dbt.type_int() }}) as days_to_first_contact,
        cast(null as {{ dbt.type_string() }}) as discharge_reason,
        0 as contacts_offered,
        0 as contacts_attended
    from episodes
    inner join months
        on
            episodes.referral_date < months.month_start
            and (episodes.discharge_date is null or episodes.discharge_date >= months.month_start)
),

open_at_month_end as (
    -- received on or before the month's last day and not discharged on or before it
    select
        'open_at_month_end' as event_type,
        months.month_end as event_date,
        episodes.referral_key,
        episodes.person_id,
        episodes.practice_code,
        episodes.link_worker_key,
        episodes.referral_source,
        episodes.referral_reasons,
        episodes.is_referred_by_general_practice,
        episodes.is_declined,
        cast(null as {{ dbt.type_int() }}) as days_to_first_contact,
        cast(null as {{ dbt.type_string() }}) as discharge_reason,
        0 as contacts_offered,
        0 as contacts_attended
    from episodes
    inner join months
        on
            episodes.referral_date <= months.month_end
            and (episodes.discharge_date is null or episodes.discharge_date > months.month_end)
),

events as (
    select * from referrals_received
    union all
    select * from first_contacts
    union all
    select * from care_plans
    union all
    select * from discharges
    union all
    select * from contacts_by_month
    union all
    select * from signposting
    union all
    select * from open_at_month_start
    union all
    select * from open_at_month_end
)

select
    event_type,
    event_date,
    cast({{ dbt.date_trunc('month', 'event_date') }} as date) as event_month,
    referral_key,
    person_id,
    practice_code,
    link_worker_key,
    referral_source,
    referral_reasons,
    is_referred_by_general_practice,
    is_declined,
    days_to_first_contact,
    discharge_reason,
    contacts_offered,
    contacts_attended
from events
