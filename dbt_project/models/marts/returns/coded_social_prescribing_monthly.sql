-- Practice-coded social prescribing per organisation (practice, PCN, ICB, England) and month: distinct
-- people whose GP record holds each social prescribing concept of the codelist in the month (the
-- national referral code on its own), with how many of the organisation's practices sent their record,
-- so a reader can tell a true zero from a month without records. The NHS England return reads it.
with practice_months as (
    select * from {{ ref('int_practice_pcn_by_month') }}
),

codelist as (
    select * from {{ ref('snomed_social_prescribing') }}
),

practice_events as (
    select * from {{ ref('stg_practice__events') }}
),

record_months as (
    -- practices whose practice_events file for the month was loaded
    select distinct
        submitter_code as practice_code,
        period as month_start
    from {{ ref('stg_meta__files') }}
    where table_name = 'practice_events'
),

org_levels as (
    {{ referral_org_levels() }}
),

practices_in_scope as (
    -- open practices, and practices that sent a record for the month
    select
        practice_months.practice_code,
        practice_months.practice_name,
        practice_months.month_start,
        practice_months.pcn_code,
        practice_months.pcn_name,
        practice_months.icb_code,
        record_months.practice_code is not null as has_record
    from practice_months
    left join record_months
        on
            practice_months.practice_code = record_months.practice_code
            and practice_months.month_start = record_months.month_start
    where practice_months.is_open or record_months.practice_code is not null
),

practice_orgs as (
    select
        org_levels.org_type,
        {{ referral_org_code(
            'org_levels.org_type', 'practices_in_scope.practice_code', 'practices_in_scope.pcn_code',
            'practices_in_scope.icb_code'
        ) }} as org_code,
        case org_levels.org_type
            when 'practice' then practices_in_scope.practice_name
            when 'pcn' then practices_in_scope.pcn_name
            when 'england' then 'England'
        end as org_name,
        practices_in_scope.practice_code,
        practices_in_scope.month_start,
        practices_in_scope.has_record
    from practices_in_scope
    cross join org_levels
),

org_practices as (
    select
        org_type,
        org_code,
        month_start,
        max(org_name) as org_name,
        count(distinct practice_code) as practices,
        count(distinct case when has_record then practice_code end) as practices_with_records
    from practice_orgs
    where org_code is not null
    group by org_type, org_code, month_start
),

coded_events as (
    select
        practice_events.practice_code,
        practice_events.person_id,
        cast({{ dbt.date_trunc('month', 'practice_events.event_date') }} as date) as month_start,
        codelist.category,
        codelist.is_national_referral_code
    from practice_events
    inner join codelist
        on practice_events.snomed_code = codelist.code
),

event_orgs as (
    select
        practice_orgs.org_type,
        practice_orgs.org_code,
        practice_orgs.month_start,
        coded_events.person_id,
        coded_events.category,
        coded_events.is_national_referral_code
    from coded_events
    inner join practice_orgs
        on
            coded_events.practice_code = practice_orgs.practice_code
            and coded_events.month_start = practice_orgs.month_start
    where practice_orgs.org_code is not null
),

event_counts as (
    select
        org_type,
        org_code,
        month_start,
        count(distinct case when is_national_referral_code then person_id end) as people_referred_national_code,
        count(distinct case when category = 'referred' then person_id end) as people_referred_any_code,
        count(distinct case when category = 'offered' then person_id end) as people_offered,
        count(distinct case when category = 'declined' then person_id end) as people_declined,
        count(distinct case when category = 'signposted' then person_id end) as people_signposted,
        count(distinct case when category = 'seen' then person_id end) as people_seen,
        count(distinct case when category = 'closed' then person_id end) as people_case_closed
    from event_orgs
    group by org_type, org_code, month_start
),

pcn_icbs as (
    -- a PCN's ICB: the ICB of most of its practices in the month (the lower code on a tie)
    select
        pcn_code,
        month_start,
        icb_code,
        row_number() over (
            partition by pcn_code, month_start
            order by count(*) desc, icb_code asc nulls last
        ) as icb_rank
    from practices_in_scope
    where pcn_code is not null
    group by pcn_code, month_start, icb_code
),

practice_parents as (
    select distinct
        practice_code,
        month_start,
        pcn_code,
        icb_code
    from practices_in_scope
)

select
    org_practices.org_type,
    org_practices.org_code,
    org_practices.org_name,
    org_practices.month_start,
    org_practices.practices,
    org_practices.practices_with_records,
    case
        when org_practices.org_type = 'practice' then practice_parents.pcn_code
    end as parent_pcn_code,
    case
        when org_practices.org_type = 'practice' then practice_parents.icb_code
        when org_practices.org_type = 'pcn' then pcn_icbs.icb_code
    end as parent_icb_code,
    coalesce(event_counts.people_referred_national_code, 0) as people_referred_national_code,
    coalesce(event_counts.people_referred_any_code, 0) as people_referred_any_code,
    coalesce(event_counts.people_offered, 0) as people_offered,
    coalesce(event_counts.people_declined, 0) as people_declined,
    coalesce(event_counts.people_signposted, 0) as people_signposted,
    coalesce(event_counts.people_seen, 0) as people_seen,
    coalesce(event_counts.people_case_closed, 0) as people_case_closed
from org_practices
left join event_counts
    on
        org_practices.org_type = event_counts.org_type
        and org_practices.org_code = event_counts.org_code
        and org_practices.month_start = event_counts.month_start
left join practice_parents
    on
        org_practices.org_type = 'practice'
        and org_practices.org_code = practice_parents.practice_code
        and org_practices.month_start = practice_parents.month_start
left join pcn_icbs
    on
        org_practices.org_type = 'pcn'
        and org_practices.org_code = pcn_icbs.pcn_code
        and org_practices.month_start = pcn_icbs.month_start
        and pcn_icbs.icb_rank = 1
