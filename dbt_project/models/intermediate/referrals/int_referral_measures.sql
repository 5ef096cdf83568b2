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

-- The events are kept apart by what a period needs of them, so that no row is multiplied by more
-- periods than it counts in (at national scale every month has millions of open referrals, and each
-- month lies in up to 14 periods): sums are added up per organisation and month before they meet
-- the periods; distinct people and waits need their rows; the caseload meets only the periods it
-- opens or closes.
flow_events as (
    select *
    from event_orgs
    where
        org_code is not null
        and event_type not in ('open_at_month_start', 'open_at_month_end')
),

flow_sums_by_month as (
    select
        org_type,
        org_code,
        event_month,
        sum(case when event_type = 'referral_received' then 1 else 0 end) as referrals_received,
        sum(
            case when event_type = 'referral_received' and is_referred_by_general_practice then 1 else 0 end
        ) as referrals_from_general_practice,
        sum(case when event_type = 'referral_received' and is_declined then 1 else 0 end) as referrals_declined,
        sum(case when event_type = 'first_contact' then 1 else 0 end) as referrals_seen,
        sum(case when event_type = 'contacts' then contacts_offered else 0 end) as contacts_offered,
        sum(case when event_type = 'contacts' then contacts_attended else 0 end) as contacts_attended,
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
            as discharges_other
    from flow_events
    group by org_type, org_code, event_month
),

flow_sums as (
    select
        periods.period_type,
        periods.period_start,
        flow_sums_by_month.org_type,
        flow_sums_by_month.org_code,
        sum(flow_sums_by_month.referrals_received) as referrals_received,
        sum(flow_sums_by_month.referrals_from_general_practice) as referrals_from_general_practice,
        sum(flow_sums_by_month.referrals_declined) as referrals_declined,
        sum(flow_sums_by_month.referrals_seen) as referrals_seen,
        sum(flow_sums_by_month.contacts_offered) as contacts_offered,
        sum(flow_sums_by_month.contacts_attended) as contacts_attended,
        sum(flow_sums_by_month.care_plans_agreed) as care_plans_agreed,
        sum(flow_sums_by_month.discharges) as discharges,
        sum(flow_sums_by_month.discharges_completed) as discharges_completed,
        sum(flow_sums_by_month.discharges_declined) as discharges_declined,
        sum(flow_sums_by_month.discharges_disengaged) as discharges_disengaged,
        sum(flow_sums_by_month.discharges_moved_away) as discharges_moved_away,
        sum(flow_sums_by_month.discharges_deceased) as discharges_deceased,
        sum(flow_sums_by_month.discharges_transferred) as discharges_transferred,
        sum(flow_sums_by_month.discharges_other) as discharges_other
    from flow_sums_by_month
    inner join periods
        on flow_sums_by_month.event_month = periods.month_start
    group by periods.period_type, periods.period_start, flow_sums_by_month.org_type, flow_sums_by_month.org_code
),

people_by_month as (
    -- each person once per organisation, month and kind of flow they were counted for
    select distinct
        org_type,
        org_code,
        event_month,
        person_id,
        case event_type
            when 'referral_received' then 'referred'
            when 'signposted' then 'signposted'
            when 'first_contact' then 'seen'
            when 'contacts' then 'attending'
        end as people_measure
    from flow_events
    where
        person_id is not null
        and (
            event_type in ('referral_received', 'signposted', 'first_contact')
            or (event_type = 'contacts' and contacts_attended > 0)
        )
),

people_appearances as (
    -- with the month each person was last counted before, for the same organisation and kind of flow
    select
        org_type,
        org_code,
        event_month,
        person_id,
        people_measure,
        lag(event_month) over (
            partition by org_type, org_code, people_measure, person_id
            order by event_month
        ) as previous_month
    from people_by_month
),

people as (
    -- distinct people in a period without a distinct count over every month's rows (which does not fit in
    -- memory at national scale): a person counts in the month of the period they first appear in, the one
    -- whose previous appearance, if any, is before the period starts (periods are runs of whole months)
    select
        periods.period_type,
        periods.period_start,
        people_appearances.org_type,
        people_appearances.org_code,
        sum(case when people_appearances.people_measure = 'referred' then 1 else 0 end) as people_referred,
        sum(case when people_appearances.people_measure = 'signposted' then 1 else 0 end) as people_signposted,
        sum(case when people_appearances.people_measure = 'seen' then 1 else 0 end) as people_seen,
        sum(case when people_appearances.people_measure = 'attending' then 1 else 0 end) as people_attending
    from people_appearances
    inner join periods
        on people_appearances.event_month = periods.month_start
    where people_appearances.previous_month is null or people_appearances.previous_month < periods.period_start
    group by periods.period_type, periods.period_start, people_appearances.org_type, people_appearances.org_code
),

waits as (
    select
        periods.period_type,
        periods.period_start,
        flow_events.org_type,
        flow_events.org_code,
        {{ percentile_cont("flow_events.days_to_first_contact", 0.5) }} as median_days_to_first_contact,
        {{ percentile_cont("flow_events.days_to_first_contact", 0.9) }} as p90_days_to_first_contact
    from flow_events
    inner join periods
        on flow_events.event_month = periods.month_start
    where flow_events.event_type = 'first_contact'
    group by periods.period_type, periods.period_start, flow_events.org_type, flow_events.org_code
),

caseload_at_start as (
    select
        periods.period_type,
        periods.period_start,
        event_orgs.org_type,
        event_orgs.org_code,
        count(*) as caseload_at_start
    from event_orgs
    inner join periods
        on
            event_orgs.event_month = periods.month_start
            and periods.is_first_month
    where event_orgs.org_code is not null and event_orgs.event_type = 'open_at_month_start'
    group by periods.period_type, periods.period_start, event_orgs.org_type, event_orgs.org_code
),

caseload_at_end as (
    select
        periods.period_type,
        periods.period_start,
        event_orgs.org_type,
        event_orgs.org_code,
        count(*) as active_caseload,
        count(distinct event_orgs.link_worker_key) as link_workers_with_caseload
    from event_orgs
    inner join periods
        on
            event_orgs.event_month = periods.month_start
            and periods.is_last_month
    where event_orgs.org_code is not null and event_orgs.event_type = 'open_at_month_end'
    group by periods.period_type, periods.period_start, event_orgs.org_type, event_orgs.org_code
),

event_keys as (
    select
        period_type,
        period_start,
        org_type,
        org_code
    from flow_sums
    union
    select
        period_type,
        period_start,
        org_type,
        org_code
    from caseload_at_start
    union
    select
        period_type,
        period_start,
        org_type,
        org_code
    from caseload_at_end
),

event_measures as (
    -- zeros for the measures an organisation had no events for come in `measures` below
    select
        event_keys.period_type,
        event_keys.period_start,
        event_keys.org_type,
        event_keys.org_code,
        flow_sums.referrals_received,
        people.people_referred,
        flow_sums.referrals_from_general_practice,
        flow_sums.referrals_declined,
        people.people_signposted,
        flow_sums.referrals_seen,
        people.people_seen,
        waits.median_days_to_first_contact,
        waits.p90_days_to_first_contact,
        flow_sums.contacts_offered,
        flow_sums.contacts_attended,
        people.people_attending,
        flow_sums.care_plans_agreed,
        flow_sums.discharges,
        flow_sums.discharges_completed,
        flow_sums.discharges_declined,
        flow_sums.discharges_disengaged,
        flow_sums.discharges_moved_away,
        flow_sums.discharges_deceased,
        flow_sums.discharges_transferred,
        flow_sums.discharges_other,
        caseload_at_start.caseload_at_start,
        caseload_at_end.active_caseload,
        caseload_at_end.link_workers_with_caseload
    from event_keys
    left join flow_sums
        on
            event_keys.period_type = flow_sums.period_type
            and event_keys.period_start = flow_sums.period_start
            and event_keys.org_type = flow_sums.org_type
            and event_keys.org_code = flow_sums.org_code
    left join people
        on
            event_keys.period_type = people.period_type
            and event_keys.period_start = people.period_start
            and event_keys.org_type = people.org_type
            and event_keys.org_code = people.org_code
    left join waits
        on
            event_keys.period_type = waits.period_type
            and event_keys.period_start = waits.period_start
            and event_keys.org_type = waits.org_type
            and event_keys.org_code = waits.org_code
    left join caseload_at_start
        on
            event_keys.period_type = caseload_at_start.period_type
            and event_keys.period_start = caseload_at_start.period_start
            and event_keys.org_type = caseload_at_start.org_type
            and event_keys.org_code = caseload_at_start.org_code
    left join caseload_at_end
        on
            event_keys.period_type = caseload_at_end.period_type
            and event_keys.period_start = caseload_at_end.period_start
            and event_keys.org_type = caseload_at_end.org_type
            and event_keys.org_code = caseload_at_end.org_code
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
