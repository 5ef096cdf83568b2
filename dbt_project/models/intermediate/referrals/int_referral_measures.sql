-- The referral measures for every organisation (practice, PCN, ICB, England) and reporting period
-- (month, financial year, rolling 12 months). Each event counts at its practice and at the PCN and
-- ICB that practice belonged to in the event's month; flows count in every period containing the
-- month, the caseload at a period's start and end only in its first and last month.
--
-- The events (tens of millions of rows at national scale, each with a 64-character pseudonym) are
-- read per practice and month first and never multiplied by the four organisation levels or by the up
-- to 14 periods a month lies in: sums and caseloads are added up per practice and month; waits are
-- kept as how many referrals waited each number of days; distinct people as one numbered row per
-- person, organisation and month, counted by the month the person was last counted before.
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

practice_month_sums as (
    -- one pass over the events: what each practice's month adds to every measure that is a count or a sum
    select
        practice_code,
        event_month,
        sum(case when event_type not in ('open_at_month_start', 'open_at_month_end') then 1 else 0 end)
            as flow_events,
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
            as discharges_other,
        sum(case when event_type = 'open_at_month_start' then 1 else 0 end) as caseload_at_start,
        sum(case when event_type = 'open_at_month_end' then 1 else 0 end) as active_caseload
    from events
    group by practice_code, event_month
),

practice_month_org_codes as (
    select
        practice_month_sums.practice_code,
        practice_month_sums.event_month,
        org_levels.org_type,
        {{ referral_org_code(
            'org_levels.org_type', 'practice_month_sums.practice_code', 'practice_months.pcn_code', 'practice_months.icb_code'
        ) }} as org_code
    from practice_month_sums
    left join practice_months
        on
            practice_month_sums.practice_code = practice_months.practice_code
            and practice_month_sums.event_month = practice_months.month_start
    cross join org_levels
),

practice_month_orgs as (
    -- the organisations a practice's month counts towards: the practice, the PCN and ICB it belonged to
    -- that month (none when it had none), and England
    select * from practice_month_org_codes
    where org_code is not null
),

sums_by_org_month as (
    select
        practice_month_orgs.org_type,
        practice_month_orgs.org_code,
        practice_month_orgs.event_month,
        sum(practice_month_sums.flow_events) as flow_events,
        sum(practice_month_sums.referrals_received) as referrals_received,
        sum(practice_month_sums.referrals_from_general_practice) as referrals_from_general_practice,
        sum(practice_month_sums.referrals_declined) as referrals_declined,
        sum(practice_month_sums.referrals_seen) as referrals_seen,
        sum(practice_month_sums.contacts_offered) as contacts_offered,
        sum(practice_month_sums.contacts_attended) as contacts_attended,
        sum(practice_month_sums.care_plans_agreed) as care_plans_agreed,
        sum(practice_month_sums.discharges) as discharges,
        sum(practice_month_sums.discharges_completed) as discharges_completed,
        sum(practice_month_sums.discharges_declined) as discharges_declined,
        sum(practice_month_sums.discharges_disengaged) as discharges_disengaged,
        sum(practice_month_sums.discharges_moved_away) as discharges_moved_away,
        sum(practice_month_sums.discharges_deceased) as discharges_deceased,
        sum(practice_month_sums.discharges_transferred) as discharges_transferred,
        sum(practice_month_sums.discharges_other) as discharges_other,
        sum(practice_month_sums.caseload_at_start) as caseload_at_start,
        sum(practice_month_sums.active_caseload) as active_caseload
    from practice_month_sums
    inner join practice_month_orgs
        on
            practice_month_sums.practice_code = practice_month_orgs.practice_code
            and practice_month_sums.event_month = practice_month_orgs.event_month
    group by practice_month_orgs.org_type, practice_month_orgs.org_code, practice_month_orgs.event_month
),

sums as (
    -- flows add up over the period's months, the caseload is its first month's opening and its last
    -- month's closing one; an organisation has a row when it had a flow in the period or a caseload there
    select
        periods.period_type,
        periods.period_start,
        sums_by_org_month.org_type,
        sums_by_org_month.org_code,
        sum(sums_by_org_month.referrals_received) as referrals_received,
        sum(sums_by_org_month.referrals_from_general_practice) as referrals_from_general_practice,
        sum(sums_by_org_month.referrals_declined) as referrals_declined,
        sum(sums_by_org_month.referrals_seen) as referrals_seen,
        sum(sums_by_org_month.contacts_offered) as contacts_offered,
        sum(sums_by_org_month.contacts_attended) as contacts_attended,
        sum(sums_by_org_month.care_plans_agreed) as care_plans_agreed,
        sum(sums_by_org_month.discharges) as discharges,
        sum(sums_by_org_month.discharges_completed) as discharges_completed,
        sum(sums_by_org_month.discharges_declined) as discharges_declined,
        sum(sums_by_org_month.discharges_disengaged) as discharges_disengaged,
        sum(sums_by_org_month.discharges_moved_away) as discharges_moved_away,
        sum(sums_by_org_month.discharges_deceased) as discharges_deceased,
        sum(sums_by_org_month.discharges_transferred) as discharges_transferred,
        sum(sums_by_org_month.discharges_other) as discharges_other,
        sum(case when periods.is_first_month then sums_by_org_month.caseload_at_start else 0 end)
            as caseload_at_start,
        sum(case when periods.is_last_month then sums_by_org_month.active_caseload else 0 end) as active_caseload
    from sums_by_org_month
    inner join periods
        on sums_by_org_month.event_month = periods.month_start
    group by periods.period_type, periods.period_start, sums_by_org_month.org_type, sums_by_org_month.org_code
    having
        sum(sums_by_org_month.flow_events) > 0
        or sum(case when periods.is_first_month then sums_by_org_month.caseload_at_start else 0 end) > 0
        or sum(case when periods.is_last_month then sums_by_org_month.active_caseload else 0 end) > 0
),

link_workers_by_practice_month as (
    select distinct
        practice_code,
        event_month,
        link_worker_key
    from events
    where event_type = 'open_at_month_end' and link_worker_key is not null
),

link_workers as (
    -- distinct link workers with a referral open at the end of the period's last month
    select
        periods.period_type,
        periods.period_start,
        practice_month_orgs.org_type,
        practice_month_orgs.org_code,
        count(distinct link_workers_by_practice_month.link_worker_key) as link_workers_with_caseload
    from link_workers_by_practice_month
    inner join practice_month_orgs
        on
            link_workers_by_practice_month.practice_code = practice_month_orgs.practice_code
            and link_workers_by_practice_month.event_month = practice_month_orgs.event_month
    inner join periods
        on
            link_workers_by_practice_month.event_month = periods.month_start
            and periods.is_last_month
    group by periods.period_type, periods.period_start, practice_month_orgs.org_type, practice_month_orgs.org_code
),

person_numbers as (
    -- a number for each person, so that the rows per person and organisation below carry a number
    -- rather than the 64-character pseudonym
    select
        person_id,
        row_number() over (order by person_id) as person_number
    from (
        select distinct person_id
        from events
        where person_id is not null
    ) as people_with_events
),

people_by_practice_month as (
    -- each person once per practice, month and kind of flow they were counted for
    select distinct
        events.practice_code,
        events.event_month,
        person_numbers.person_number,
        case events.event_type
            when 'referral_received' then 'referred'
            when 'signposted' then 'signposted'
            when 'first_contact' then 'seen'
            when 'contacts' then 'attending'
        end as people_measure
    from events
    inner join person_numbers
        on events.person_id = person_numbers.person_id
    where
        events.event_type in ('referral_received', 'signposted', 'first_contact')
        or (events.event_type = 'contacts' and events.contacts_attended > 0)
),

people_by_org_month as (
    select distinct
        practice_month_orgs.org_type,
        practice_month_orgs.org_code,
        practice_month_orgs.event_month,
        people_by_practice_month.person_number,
        people_by_practice_month.people_measure
    from people_by_practice_month
    inner join practice_month_orgs
        on
            people_by_practice_month.practice_code = practice_month_orgs.practice_code
            and people_by_practice_month.event_month = practice_month_orgs.event_month
),

people_appearances as (
    -- with the month each person was last counted before, for the same organisation and kind of flow
    select
        org_type,
        org_code,
        event_month,
        people_measure,
        lag(event_month) over (
            partition by org_type, org_code, people_measure, person_number
            order by event_month
        ) as previous_month
    from people_by_org_month
),

people_appearance_counts as (
    -- the people themselves are no longer needed: how many appeared in a month after last appearing in
    -- another (or never) is all a period asks
    select
        org_type,
        org_code,
        event_month,
        previous_month,
        sum(case when people_measure = 'referred' then 1 else 0 end) as people_referred,
        sum(case when people_measure = 'signposted' then 1 else 0 end) as people_signposted,
        sum(case when people_measure = 'seen' then 1 else 0 end) as people_seen,
        sum(case when people_measure = 'attending' then 1 else 0 end) as people_attending
    from people_appearances
    group by org_type, org_code, event_month, previous_month
),

people as (
    -- distinct people in a period without a distinct count over every month's rows: a person counts in
    -- the month of the period they first appear in, the one whose previous appearance, if any, is
    -- before the period starts (periods are runs of whole months)
    select
        periods.period_type,
        periods.period_start,
        people_appearance_counts.org_type,
        people_appearance_counts.org_code,
        sum(people_appearance_counts.people_referred) as people_referred,
        sum(people_appearance_counts.people_signposted) as people_signposted,
        sum(people_appearance_counts.people_seen) as people_seen,
        sum(people_appearance_counts.people_attending) as people_attending
    from people_appearance_counts
    inner join periods
        on people_appearance_counts.event_month = periods.month_start
    where
        people_appearance_counts.previous_month is null
        or people_appearance_counts.previous_month < periods.period_start
    group by
        periods.period_type,
        periods.period_start,
        people_appearance_counts.org_type,
        people_appearance_counts.org_code
),

waits_by_practice_month as (
    select
        practice_code,
        event_month,
        days_to_first_contact,
        count(*) as referrals_seen
    from events
    where event_type = 'first_contact' and days_to_first_contact is not null
    group by practice_code, event_month, days_to_first_contact
),

waits_by_period as (
    -- how many referrals seen in the period waited each number of days
    select
        periods.period_type,
        periods.period_start,
        practice_month_orgs.org_type,
        practice_month_orgs.org_code,
        waits_by_practice_month.days_to_first_contact,
        sum(waits_by_practice_month.referrals_seen) as referrals_seen
    from waits_by_practice_month
    inner join practice_month_orgs
        on
            waits_by_practice_month.practice_code = practice_month_orgs.practice_code
            and waits_by_practice_month.event_month = practice_month_orgs.event_month
    inner join periods
        on waits_by_practice_month.event_month = periods.month_start
    group by
        periods.period_type,
        periods.period_start,
        practice_month_orgs.org_type,
        practice_month_orgs.org_code,
        waits_by_practice_month.days_to_first_contact
),

waits_in_order as (
    -- how many waited at most each number of days, for the percentile's position
    select
        period_type,
        period_start,
        org_type,
        org_code,
        days_to_first_contact,
        referrals_seen,
        sum(referrals_seen) over (
            partition by period_type, period_start, org_type, org_code
            order by days_to_first_contact
            rows between unbounded preceding and current row
        ) as referrals_seen_within,
        sum(referrals_seen) over (
            partition by period_type, period_start, org_type, org_code
        ) as referrals_seen_in_period
    from waits_by_period
),

waits as (
    select
        period_type,
        period_start,
        org_type,
        org_code,
        {{ percentile_cont_from_counts(
            'days_to_first_contact', 'referrals_seen', 'referrals_seen_within', 'referrals_seen_in_period', 0.5
        ) }} as median_days_to_first_contact,
        {{ percentile_cont_from_counts(
            'days_to_first_contact', 'referrals_seen', 'referrals_seen_within', 'referrals_seen_in_period', 0.9
        ) }} as p90_days_to_first_contact
    from waits_in_order
    group by period_type, period_start, org_type, org_code
),

event_measures as (
    -- zeros for the measures an organisation had no events for come in `measures` below
    select
        sums.period_type,
        sums.period_start,
        sums.org_type,
        sums.org_code,
        sums.referrals_received,
        people.people_referred,
        sums.referrals_from_general_practice,
        sums.referrals_declined,
        people.people_signposted,
        sums.referrals_seen,
        people.people_seen,
        waits.median_days_to_first_contact,
        waits.p90_days_to_first_contact,
        sums.contacts_offered,
        sums.contacts_attended,
        people.people_attending,
        sums.care_plans_agreed,
        sums.discharges,
        sums.discharges_completed,
        sums.discharges_declined,
        sums.discharges_disengaged,
        sums.discharges_moved_away,
        sums.discharges_deceased,
        sums.discharges_transferred,
        sums.discharges_other,
        sums.caseload_at_start,
        sums.active_caseload,
        link_workers.link_workers_with_caseload
    from sums
    left join people
        on
            sums.period_type = people.period_type
            and sums.period_start = people.period_start
            and sums.org_type = people.org_type
            and sums.org_code = people.org_code
    left join waits
        on
            sums.period_type = waits.period_type
            and sums.period_start = waits.period_start
            and sums.org_type = waits.org_type
            and sums.org_code = waits.org_code
    left join link_workers
        on
            sums.period_type = link_workers.period_type
            and sums.period_start = link_workers.period_start
            and sums.org_type = link_workers.org_type
            and sums.org_code = link_workers.org_code
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
            from practice_month_sums
            where
                practice_month_sums.practice_code = practice_months.practice_code
                and practice_month_sums.event_month = practice_months.month_start
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
