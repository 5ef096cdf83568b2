-- One row per referral: the state reported in the latest month the provider sent it
-- ("the latest accepted version wins", DESIGN.md).
with ranked as (
    select
        *,
        row_number() over (
            partition by referral_key
            order by period desc, file_id desc, record_number desc
        ) as recency_rank
    from {{ ref('stg_provider__referrals') }}
)

select
    referral_key,
    provider_code,
    referral_id,
    person_id,
    practice_code,
    referral_date,
    referral_source,
    referral_reasons,
    link_worker_id,
    first_contact_date,
    care_plan_agreed_date,
    discharge_date,
    discharge_reason,
    period as last_reported_period
from ranked
where recency_rank = 1
