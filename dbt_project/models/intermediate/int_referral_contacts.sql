-- Contacts offered and attended per referral, across every month reported.
select
    referral_key,
    count(*) as contacts_offered,
    sum(case when is_attended then 1 else 0 end) as contacts_attended,
    min(case when is_attended then contact_date end) as first_attended_contact_date
from {{ ref('stg_provider__contacts') }}
group by referral_key
