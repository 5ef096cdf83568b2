-- One row per referral received while its provider was sending referral files (referrals carried in
-- from before the provider's first month are left out), with the person's age band at referral, sex,
-- ethnic group and deprivation quintile, each 'unknown' (or not_known / not_stated) when the
-- practice record does not hold it.
with referrals as (
    select * from {{ ref('fct_referrals') }}
),

people as (
    select * from {{ ref('int_person_attributes') }}
),

provider_first_months as (
    select
        submitter_code as provider_code,
        min(period) as first_period
    from {{ ref('stg_meta__files') }}
    where table_name = 'provider_referrals'
    group by submitter_code
),

age_bands as (
    select * from {{ ref('age_bands') }}
),

sexes as (
    select * from {{ ref('sex_categories') }}
    where code_system = 'practice_events'
),

ethnic_groups as (
    select * from {{ ref('ethnic_category_groups') }}
),

deprivation as (
    select * from {{ ref('stg_ods__lsoa_imd') }}
),

referral_people as (
    select
        referrals.referral_key,
        referrals.person_id,
        referrals.practice_code,
        referrals.pcn_code,
        referrals.icb_code,
        referrals.referral_date,
        people.sex,
        people.ethnic_category,
        people.lsoa_code,
        case
            when people.date_of_birth <= referrals.referral_date
                then {{ age_in_years('people.date_of_birth', 'referrals.referral_date') }}
        end as age_at_referral
    from referrals
    inner join provider_first_months
        on
            referrals.provider_code = provider_first_months.provider_code
            and referrals.referral_date >= provider_first_months.first_period
    left join people
        on referrals.person_id = people.person_id
)

select
    referral_people.referral_key,
    referral_people.person_id,
    referral_people.practice_code,
    referral_people.pcn_code,
    referral_people.icb_code,
    referral_people.referral_date,
    {{ financial_year_start('referral_people.referral_date') }} as financial_year_start,
    referral_people.age_at_referral,
    coalesce(age_bands.age_band, 'unknown') as age_band,
    coalesce(sexes.sex_category, 'not_known') as sex_category,
    coalesce(ethnic_groups.ethnic_group, 'not_stated') as ethnic_group,
    coalesce(cast(deprivation.imd_quintile as {{ dbt.type_string() }}), 'unknown') as imd_quintile
from referral_people
left join age_bands
    on referral_people.age_at_referral between age_bands.age_from and age_bands.age_to
left join sexes
    on referral_people.sex = sexes.sex_code
left join ethnic_groups
    on referral_people.ethnic_category = ethnic_groups.ethnic_category
left join deprivation
    on referral_people.lsoa_code = deprivation.lsoa_code
