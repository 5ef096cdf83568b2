-- Every current-version row of every month: a referral appears once per month it was open.
select
    referrals.file_id,
    referrals.record_number,
    files.period,
    referrals.provider_code,
    referrals.referral_id,
    {{ dbt.concat(["referrals.provider_code", "'-'", "referrals.referral_id"]) }} as referral_key,
    referrals.person_id,
    referrals.practice_code,
    referrals.referral_date,
    referrals.referral_source,
    referrals.referral_reasons,
    referrals.link_worker_id,
    referrals.first_contact_date,
    referrals.care_plan_agreed_date,
    referrals.discharge_date,
    referrals.discharge_reason
from {{ source('provider', 'referrals') }} as referrals
inner join {{ ref('stg_meta__files') }} as files
    on referrals.file_id = files.file_id
