-- One row per referral episode: the person's GP appointments at their practice in the window
-- before the referral date and the window after it (183 days each, about six months; the referral
-- day itself, often the consultation that made the referral, is in neither), attended and did not
-- attend (DNA) counted apart. A window is complete only when the practice sent an appointments file
-- for every month the two windows touch; incomplete episodes are flagged, not dropped, and the
-- aggregates leave them out. Cohort: declined (the person declined), engaged (first contact made
-- and not declined) or not_contacted (neither, yet).
{%- set window_days = var('utilisation_window_days', 183) %}

with referrals as (
    select * from {{ ref('fct_referrals') }}
),

appointments as (
    select * from {{ ref('stg_practice__appointments') }}
    where staff_role = 'gp'
),

appointment_file_months as (
    select distinct
        submitter_code as practice_code,
        period as month_start
    from {{ ref('stg_meta__files') }}
    where table_name = 'practice_appointments'
),

episodes as (
    select
        referral_key,
        person_id,
        practice_code,
        pcn_code,
        icb_code,
        referral_date,
        referral_month,
        case
            when is_declined then 'declined'
            when first_contact_date is not null then 'engaged'
            else 'not_contacted'
        end as cohort,
        cast({{ dbt.dateadd('day', -window_days, 'referral_date') }} as date) as before_window_start,
        cast({{ dbt.dateadd('day', -1, 'referral_date') }} as date) as before_window_end,
        cast({{ dbt.dateadd('day', 1, 'referral_date') }} as date) as after_window_start,
        cast({{ dbt.dateadd('day', window_days, 'referral_date') }} as date) as after_window_end
    from referrals
),

episode_months as (
    select
        referral_key,
        practice_code,
        cast({{ dbt.date_trunc('month', 'before_window_start') }} as date) as first_month,
        cast({{ dbt.date_trunc('month', 'after_window_end') }} as date) as last_month
    from episodes
),

coverage as (
    select
        episode_months.referral_key,
        {{ dbt.datediff('episode_months.first_month', 'episode_months.last_month', 'month') }} + 1 as months_needed,
        count(appointment_file_months.month_start) as months_with_data
    from episode_months
    left join appointment_file_months
        on
            episode_months.practice_code = appointment_file_months.practice_code
            and appointment_file_months.month_start between episode_months.first_month and episode_months.last_month
    group by
        episode_months.referral_key,
        episode_months.first_month,
        episode_months.last_month
),

appointment_counts as (
    select
        episodes.referral_key,
        sum(
            case
                when appointments.appointment_date <= episodes.before_window_end
                    and appointments.appointment_status = 'attended' then 1
                else 0
            end
        ) as gp_appointments_before,
        sum(
            case
                when appointments.appointment_date >= episodes.after_window_start
                    and appointments.appointment_status = 'attended' then 1
                else 0
            end
        ) as gp_appointments_after,
        sum(
            case
                when appointments.appointment_date <= episodes.before_window_end
                    and appointments.appointment_status = 'dna' then 1
                else 0
            end
        ) as gp_dnas_before,
        sum(
            case
                when appointments.appointment_date >= episodes.after_window_start
                    and appointments.appointment_status = 'dna' then 1
                else 0
            end
        ) as gp_dnas_after
    from episodes
    inner join appointments
        on
            episodes.person_id = appointments.person_id
            and episodes.practice_code = appointments.practice_code
            and appointments.appointment_date between episodes.before_window_start and episodes.after_window_end
            and episodes.referral_date <> appointments.appointment_date
    group by episodes.referral_key
)

select
    episodes.referral_key,
    episodes.person_id,
    episodes.practice_code,
    episodes.pcn_code,
    episodes.icb_code,
    episodes.referral_date,
    episodes.referral_month,
    episodes.cohort,
    episodes.before_window_start,
    episodes.before_window_end,
    episodes.after_window_start,
    episodes.after_window_end,
    coverage.months_needed,
    coverage.months_with_data,
    coverage.months_with_data = coverage.months_needed as has_complete_windows,
    coalesce(appointment_counts.gp_appointments_before, 0) as gp_appointments_before,
    coalesce(appointment_counts.gp_appointments_after, 0) as gp_appointments_after,
    coalesce(appointment_counts.gp_dnas_before, 0) as gp_dnas_before,
    coalesce(appointment_counts.gp_dnas_after, 0) as gp_dnas_after
from episodes
inner join coverage
    on episodes.referral_key = coverage.referral_key
left join appointment_counts
    on episodes.referral_key = appointment_counts.referral_key
