-- The referral measures for every organisation (practice, PCN, ICB, England) and reporting period
-- (month, financial year, rolling 12 months). Each event counts at its practice and at the PCN and
-- ICB that practice belonged to in the event's month; flows count in every period containing the
-- month, the caseload at a period's start and end only in its first and last month.
with events as (
    select * from {{ ref('int_referral_events') }}
),

practice_months as (
    select * from {{ ref('int_practice_pcn_by_month') }}
),

periods as (
    select * from {{ ref('int_referral_periods') }}
),

org_levels as (
    {{ referral_org_levels() }}
),

event_orgs as (
    select
        org_levels.org_type,
        {{ referral_org_code(
            'org_levels.org_type', 'events.practice_code', 'practice_months.pcn_code', 'practice_months.icb_code'
        ) }} as org_code,
        events.event_type,
        events.event_month,
        events.person_id,
        events.link_worker_key,
        events.is_referred_by_general_practice,
        events.is_declined,
        events.days_to_first_contact,
        events.discharge_reason,
        events.contacts_offered,
        events.contacts_attended
    from events
    left join practice_months
        on
            events.practice_code = practice_months.practice_code
            and events.event_month = practice_months.month_start
    cross join org_levels
),

event_periods as (
    select
        event_orgs.*,
        periods.period_type,
        periods.period_start
    from event_orgs
    inner join periods
        on
            event_orgs.event_month = periods.month_start
            and (
                (event_orgs.event_type = 'open_at_month_start' and periods.is_first_month)
                or (event_orgs.event_type = 'open_at_month_end' and periods.is_last_month)
                or event_orgs.event_type not in ('open_at_month_start', 'open_at_month_end')
            )
    where event_orgs.org_code is not null
),

event_measures as (
    select
        period_type,
        period_start,
        org_type,
        org_code,
        sum(case when event_type = 'referral_received' then 1 else 0 end) as referrals_received,
        count(distinct case when event_type = 'referral_received' then person_id end) as people_referred,
        sum(
            case when event_type = 'referral_received' and is_referred_by_general_practice then 1 else 0 end
        ) as referrals_from_general_practice,
        sum(case when event_type = 'referral_received' and is_declined then 1 else 0 end) as referrals_declined,
        count(distinct case when event_type = 'signposted' then person_id end) as people_signposted,
        sum(case when event_type = 'first_contact' then 1 else 0 end) as referrals_seen,
        count(distinct case when event_type = 'first_contact' then person_id end) as people_seen,
        {{ percentile_cont("case when event_type = 'first_contact' then days_to_first_contact end", 0.5) }}
            as median_days_to_first_contact,
        {{ percentile_cont("case when event_type = 'first_contact' then days_to_first_contact end", 0.9) }}
            as p90_days_to_first_contact,
        sum(case when event_type = 'contacts' then contacts_offered else 0 end) as contacts_offered,
        sum(case when event_type = 'contacts' then contacts_attended else 0 end) as contacts_attended,
        count(
            distinct case when event_type = 'contacts' and contacts_attended > 0 then person_id end
        ) as people_attending,
        sum(case when event_type = 'care_plan_agreed' then 1 else 0 end) as care_plans_agreed,
        sum(case when event_type = 'discharge' then 1 else 0 end) as discharges,
        sum(case when event_type = 'discharge' and discharge_reason = 'completed' then 1 else 0 end)
            as discharges_completed,
        sum(case when event_type = 'discharge' and discharge_reason = 'declined' then 1 else 0 end)
            as discharges_declined,
        sum(case when event_type = 'discharge' and discharge_reason = 'disengaged' then 1 else 0 end)
            as discharges_disengaged,
        sum(case when event_type = 'discharge' and discharge_reason = 'moved_away' then 1 else 0 end)
            as discharges_moved_away,
        sum(case when event_type = 'discharge' and discharge_reason = 'deceased' then 1 else 0 end)
            as discharges_deceased,
        sum(case when event_type = 'discharge' and discharge_reason = 'transferred' then 1 else 0 end)
            as discharges_transferred,
        sum(case when event_type = 'discharge' and discharge_reason = 'other' then 1 else 0 end)
            as discharges_other,
        sum(case when event_type = 'open_at_month_start' then 1 else 0 end) as caseload_at_start,
        sum(case when event_type = 'open_at_month_end' then 1 else 0 end) as active_caseload,
        count(distinct case when event_type = 'open_at_month_end' then link_worker_key end)
            as link_workers_with_caseload
    from event_periods
    group by period_type, period_start, org_type, org_code
),

org_months as (
    -- the organisations in each month: open practices and practices with activity, and their
    -- PCN, ICB and England; with registered patients
    select
        org_levels.org_type,
        {{ referral_org_code(
            'org_levels.org_type', 'practice_months.practice_code', 'practice_months.pcn_code', 'practice_months.icb_code'
        ) }} as org_code,
        case org_levels.org_type
            when 'practice' then practice_months.practice_name
            when 'pcn' then practice_months.pcn_name
            when 'england' then 'England'
        end as org_name,
        practice_months.month_start,
        practice_months.registered_patients
    from practice_months
    cross join org_levels
    where
        practice_months.is_open
        or exists (
            select 1
            from events
            where
                events.practice_code = practice_months.practice_code
                and events.event_month = practice_months.month_start
        )
),

org_month_totals as (
    select
        org_type,
        org_code,
        month_start,
        max(org_name) as org_name,
        sum(registered_patients) as registered_patients
    from org_months
    where org_code is not null
    group by org_type, org_code, month_start
),

org_periods as (
    -- a period's registered patients: the mean of its months' (each month's practices)
    select
        periods.period_type,
        periods.period_start,
        org_month_totals.org_type,
        org_month_totals.org_code,
        max(org_month_totals.org_name) as org_name,
        cast(round(avg(org_month_totals.registered_patients), 0) as {{ dbt.type_int() }}) as registered_patients
    from org_month_totals
    inner join periods
        on org_month_totals.month_start = periods.month_start
    group by periods.period_type, periods.period_start, org_month_totals.org_type, org_month_totals.org_code
),

org_period_keys as (
    select
        period_type,
        period_start,
        org_type,
        org_code
    from org_periods
    union
    select
        period_type,
        period_start,
        org_type,
        org_code
    from event_measures
),

period_spans as (
    select distinct
        period_type,
        period_start,
        period_end,
        last_month_start,
        months_covered,
        months_with_provider_returns
    from periods
),

measures as (
    select
        org_period_keys.period_type,
        org_period_keys.period_start,
        period_spans.period_end,
        period_spans.last_month_start,
        period_spans.months_covered,
        period_spans.months_with_provider_returns,
        org_period_keys.org_type,
        org_period_keys.org_code,
        org_periods.org_name,
        org_periods.registered_patients,
        coalesce(event_measures.referrals_received, 0) as referrals_received,
        coalesce(event_measures.people_referred, 0) as people_referred,
        coalesce(event_measures.referrals_from_general_practice, 0) as referrals_from_general_practice,
        coalesce(event_measures.referrals_declined, 0) as referrals_declined,
        coalesce(event_measures.people_signposted, 0) as people_signposted,
        coalesce(event_measures.referrals_seen, 0) as referrals_seen,
        coalesce(event_measures.people_seen, 0) as people_seen,
        {{ round_half_up("event_measures.median_days_to_first_contact", 1) }} as median_days_to_first_contact,
        {{ round_half_up("event_measures.p90_days_to_first_contact", 1) }} as p90_days_to_first_contact,
        coalesce(event_measures.contacts_offered, 0) as contacts_offered,
        coalesce(event_measures.contacts_attended, 0) as contacts_attended,
        coalesce(event_measures.people_attending, 0) as people_attending,
        coalesce(event_measures.care_plans_agreed, 0) as care_plans_agreed,
        coalesce(event_measures.discharges, 0) as discharges,
        coalesce(event_measures.discharges_completed, 0) as discharges_completed,
        coalesce(event_measures.discharges_declined, 0) as discharges_declined,
        coalesce(event_measures.discharges_disengaged, 0) as discharges_disengaged,
        coalesce(event_measures.discharges_moved_away, 0) as discharges_moved_away,
        coalesce(event_measures.discharges_deceased, 0) as discharges_deceased,
        coalesce(event_measures.discharges_transferred, 0) as discharges_transferred,
        coalesce(event_measures.discharges_other, 0) as discharges_other,
        coalesce(event_measures.caseload_at_start, 0) as caseload_at_start,
        coalesce(event_measures.active_caseload, 0) as active_caseload,
        coalesce(event_measures.link_workers_with_caseload, 0) as link_workers_with_caseload
    from org_period_keys
    inner join period_spans
        on
            org_period_keys.period_type = period_spans.period_type
            and org_period_keys.period_start = period_spans.period_start
    left join org_periods
        on
            org_period_keys.period_type = org_periods.period_type
            and org_period_keys.period_start = org_periods.period_start
            and org_period_keys.org_type = org_periods.org_type
            and org_period_keys.org_code = org_periods.org_code
    left join event_measures
        on
            org_period_keys.period_type = event_measures.period_type
            and org_period_keys.period_start = event_measures.period_start
            and org_period_keys.org_type = event_measures.org_type
            and org_period_keys.org_code = event_measures.org_code
),

with_rates as (
    select
        *,
        case
            when registered_patients > 0
                then {{ round_half_up("1000.0 * referrals_received / registered_patients", 3) }}
        end as referrals_per_1000_patients,
        contacts_offered - contacts_attended as contacts_did_not_attend,
        case
            when people_attending > 0 then {{ round_half_up("1.0 * contacts_attended / people_attending", 2) }}
        end as contacts_per_person,
        case
            when contacts_offered > 0
                then {{ round_half_up("1.0 * (contacts_offered - contacts_attended) / contacts_offered", 4) }}
        end as dna_rate,
        case
            when link_workers_with_caseload > 0
                then {{ round_half_up("1.0 * active_caseload / link_workers_with_caseload", 2) }}
        end as caseload_per_link_worker
    from measures
)

select
    period_type,
    period_start,
    period_end,
    last_month_start,
    months_covered,
    months_with_provider_returns,
    org_type,
    org_code,
    org_name,
    {{ referral_measure_columns() }}
from with_rates
