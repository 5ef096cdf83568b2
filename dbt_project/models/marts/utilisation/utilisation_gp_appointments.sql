-- GP demand before and after referral: per organisation (PCN, ICB, England), period of referral
-- (month, financial year) and cohort (engaged, declined, not_contacted), the GP appointments
-- attended in the six months before and after referral, per person, the change and the % change.
-- Only episodes whose two windows lie wholly inside the appointment data are counted;
-- episodes_incomplete says how many were left out.
with windows as (
    select * from {{ ref('int_gp_appointment_windows') }}
),

episode_periods as (
    select
        referral_key,
        person_id,
        pcn_code,
        icb_code,
        cohort,
        has_complete_windows,
        gp_appointments_before,
        gp_appointments_after,
        gp_dnas_before,
        gp_dnas_after,
        'month' as period_type,
        referral_month as period_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'referral_month')) }} as date) as period_end
    from windows
    union all
    select
        referral_key,
        person_id,
        pcn_code,
        icb_code,
        cohort,
        has_complete_windows,
        gp_appointments_before,
        gp_appointments_after,
        gp_dnas_before,
        gp_dnas_after,
        'financial_year' as period_type,
        {{ financial_year_start('referral_date') }} as period_start,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', 12, financial_year_start('referral_date'))) }} as date
        ) as period_end
    from windows
),

org_episodes as (
    select
        'pcn' as org_type,
        episode_periods.pcn_code as org_code,
        episode_periods.person_id,
        episode_periods.cohort,
        episode_periods.has_complete_windows,
        episode_periods.gp_appointments_before,
        episode_periods.gp_appointments_after,
        episode_periods.gp_dnas_before,
        episode_periods.gp_dnas_after,
        episode_periods.period_type,
        episode_periods.period_start,
        episode_periods.period_end
    from episode_periods
    where episode_periods.pcn_code is not null
    union all
    select
        'icb' as org_type,
        episode_periods.icb_code as org_code,
        episode_periods.person_id,
        episode_periods.cohort,
        episode_periods.has_complete_windows,
        episode_periods.gp_appointments_before,
        episode_periods.gp_appointments_after,
        episode_periods.gp_dnas_before,
        episode_periods.gp_dnas_after,
        episode_periods.period_type,
        episode_periods.period_start,
        episode_periods.period_end
    from episode_periods
    where episode_periods.icb_code is not null
    union all
    select
        'england' as org_type,
        '{{ var("england_org_code", "ENG") }}' as org_code,
        episode_periods.person_id,
        episode_periods.cohort,
        episode_periods.has_complete_windows,
        episode_periods.gp_appointments_before,
        episode_periods.gp_appointments_after,
        episode_periods.gp_dnas_before,
        episode_periods.gp_dnas_after,
        episode_periods.period_type,
        episode_periods.period_start,
        episode_periods.period_end
    from episode_periods
),

aggregated as (
    select
        org_type,
        org_code,
        period_type,
        period_start,
        period_end,
        cohort,
        sum(case when has_complete_windows then 1 else 0 end) as episodes,
        count(distinct case when has_complete_windows then person_id end) as people,
        sum(case when has_complete_windows then 0 else 1 end) as episodes_incomplete,
        sum(case when has_complete_windows then gp_appointments_before else 0 end) as gp_appointments_before,
        sum(case when has_complete_windows then gp_appointments_after else 0 end) as gp_appointments_after,
        sum(case when has_complete_windows then gp_dnas_before else 0 end) as gp_dnas_before,
        sum(case when has_complete_windows then gp_dnas_after else 0 end) as gp_dnas_after
    from org_episodes
    group by org_type, org_code, period_type, period_start, period_end, cohort
)

select
    org_type,
    org_code,
    period_type,
    period_start,
    period_end,
    cohort,
    episodes,
    people,
    episodes_incomplete,
    gp_appointments_before,
    gp_appointments_after,
    gp_dnas_before,
    gp_dnas_after,
    case
        when episodes > 0 then {{ round_half_up("1.0 * gp_appointments_before / episodes", 3) }}
    end as gp_appointments_before_per_person,
    case
        when episodes > 0 then {{ round_half_up("1.0 * gp_appointments_after / episodes", 3) }}
    end as gp_appointments_after_per_person,
    case
        when episodes > 0
            then {{ round_half_up("1.0 * (gp_appointments_after - gp_appointments_before) / episodes", 3) }}
    end as change_per_person,
    case
        when gp_appointments_before > 0
            then {{ round_half_up(
                "100.0 * (gp_appointments_after - gp_appointments_before) / gp_appointments_before", 1
            ) }}
    end as pct_change
from aggregated
