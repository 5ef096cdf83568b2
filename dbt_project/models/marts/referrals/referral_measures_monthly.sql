-- Referral measures per practice, PCN, ICB and England for each month.
with measures as (
    select * from {{ ref('int_referral_measures') }}
    where period_type = 'month'
),

practice_months as (
    select * from {{ ref('int_practice_pcn_by_month') }}
)

select
    measures.org_type,
    measures.org_code,
    measures.org_name,
    measures.period_start as month_start,
    measures.period_end as month_end,
    measures.registered_patients,
    measures.referrals_received,
    measures.people_referred,
    measures.referrals_from_general_practice,
    measures.referrals_per_1000_patients,
    measures.referrals_declined,
    measures.people_signposted,
    measures.referrals_seen,
    measures.people_seen,
    measures.median_days_to_first_contact,
    measures.p90_days_to_first_contact,
    measures.contacts_offered,
    measures.contacts_attended,
    measures.contacts_did_not_attend,
    measures.people_attending,
    measures.contacts_per_person,
    measures.dna_rate,
    measures.care_plans_agreed,
    measures.discharges,
    measures.discharges_completed,
    measures.discharges_declined,
    measures.discharges_disengaged,
    measures.discharges_moved_away,
    measures.discharges_deceased,
    measures.discharges_transferred,
    measures.discharges_other,
    measures.caseload_at_start,
    measures.active_caseload,
    measures.link_workers_with_caseload,
    measures.caseload_per_link_worker,
    measures.months_with_provider_returns = 1 as has_provider_returns,
    case when measures.org_type = 'practice' then practice_months.pcn_code end as parent_pcn_code,
    case when measures.org_type = 'practice' then practice_months.icb_code end as parent_icb_code
from measures
left join practice_months
    on
        measures.org_code = practice_months.practice_code
        and measures.period_start = practice_months.month_start
        and measures.org_type = 'practice'
