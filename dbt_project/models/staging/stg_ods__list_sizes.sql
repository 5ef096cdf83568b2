-- Registered patients per practice from the latest NHS Digital extract (totals: sex and age ALL).
with latest as (
    select max(extract_date) as extract_date
    from {{ source('ods', 'list_sizes') }}
    where sex = 'ALL' and age_band = 'ALL'
)

select
    list_sizes.practice_code,
    list_sizes.extract_date,
    list_sizes.patients as registered_patients
from {{ source('ods', 'list_sizes') }} as list_sizes
inner join latest
    on list_sizes.extract_date = latest.extract_date
where list_sizes.sex = 'ALL' and list_sizes.age_band = 'ALL'
