-- Monthly referral counts per PCN, with the rate per 1,000 registered patients.
-- Every PCN has a row for every month in which any referral was received (zero when none).
with referrals as (
    select * from {{ ref('fct_referrals') }}
),

months as (
    select distinct referral_month as month_start
    from referrals
),

pcns as (
    select distinct pcn_code, pcn_name
    from {{ ref('stg_ods__pcn_membership') }}
),

practice_pcn_by_month as (
    -- the PCN each practice belonged to on the first day of the month
    select
        months.month_start,
        membership.practice_code,
        membership.pcn_code
    from months
    inner join {{ ref('stg_ods__pcn_membership') }} as membership
        on months.month_start between membership.start_date and membership.end_date_or_max
),

registered as (
    select
        practice_pcn_by_month.month_start,
        practice_pcn_by_month.pcn_code,
        sum(list_sizes.registered_patients) as registered_patients
    from practice_pcn_by_month
    inner join {{ ref('stg_ods__list_sizes') }} as list_sizes
        on practice_pcn_by_month.practice_code = list_sizes.practice_code
    group by practice_pcn_by_month.month_start, practice_pcn_by_month.pcn_code
),

counts as (
    select
        pcn_code,
        referral_month as month_start,
        count(*) as referrals_received,
        count(distinct person_id) as people_referred,
        sum(case when is_declined then 1 else 0 end) as referrals_declined,
        sum(case when is_referred_by_general_practice then 1 else 0 end) as referrals_from_general_practice
    from referrals
    where pcn_code is not null
    group by pcn_code, referral_month
)

select
    pcns.pcn_code,
    pcns.pcn_name,
    months.month_start,
    coalesce(counts.referrals_received, 0) as referrals_received,
    coalesce(counts.people_referred, 0) as people_referred,
    coalesce(counts.referrals_declined, 0) as referrals_declined,
    coalesce(counts.referrals_from_general_practice, 0) as referrals_from_general_practice,
    registered.registered_patients,
    case
        when registered.registered_patients > 0
            then round(1000.0 * coalesce(counts.referrals_received, 0) / registered.registered_patients, 3)
    end as referrals_per_1000_patients
from pcns
cross join months
left join counts
    on pcns.pcn_code = counts.pcn_code and months.month_start = counts.month_start
left join registered
    on pcns.pcn_code = registered.pcn_code and months.month_start = registered.month_start
