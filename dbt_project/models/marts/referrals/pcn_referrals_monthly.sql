{{ config(materialized='view') }}
-- Monthly referral counts per PCN with the rate per 1,000 registered patients: the PCN rows of
-- referral_measures_monthly under the names the monthly CSV report reads.
select
    month_start,
    org_code as pcn_code,
    org_name as pcn_name,
    referrals_received,
    people_referred,
    referrals_declined,
    referrals_from_general_practice,
    registered_patients,
    referrals_per_1000_patients
from {{ ref('referral_measures_monthly') }}
where org_type = 'pcn'
