-- Referral measures per practice, PCN, ICB and England for the 12 months ending with each month.
with measures as (
    select * from {{ ref('int_referral_measures') }}
    where period_type = 'rolling_12m'
)

select
    org_type,
    org_code,
    org_name,
    last_month_start as month_start,
    period_start,
    period_end,
    months_covered,
    months_with_provider_returns,
    registered_patients,
    referrals_received,
    people_referred,
    referrals_from_general_practice,
    referrals_per_1000_patients,
    referrals_declined,
    people_signposted,
    referrals_seen,
    people_seen,
    median_days_to_first_contact,
    p90_days_to_first_contact,
    contacts_offered,
    contacts_attended,
    contacts_did_not_attend,
    people_attending,
    contacts_per_person,
    dna_rate,
    care_plans_agreed,
    discharges,
    discharges_completed,
    discharges_declined,
    discharges_disengaged,
    discharges_moved_away,
    discharges_deceased,
    discharges_transferred,
    discharges_other,
    caseload_at_start,
    active_caseload,
    link_workers_with_caseload,
    caseload_per_link_worker
from measures
