-- Referrals whose person has the national SNOMED referral code in their practice record
-- within the concordance window of the provider's referral date.
select distinct referrals.referral_key
from {{ ref('int_referrals_latest') }} as referrals
inner join {{ ref('stg_practice__events') }} as events
    on
        referrals.person_id = events.person_id
        and referrals.practice_code = events.practice_code
        and events.event_date
        between {{ dbt.dateadd('day', -var('concordance_window_days'), 'referrals.referral_date') }}
        and {{ dbt.dateadd('day', var('concordance_window_days'), 'referrals.referral_date') }}
where events.snomed_code = '{{ var("national_referral_code") }}'
