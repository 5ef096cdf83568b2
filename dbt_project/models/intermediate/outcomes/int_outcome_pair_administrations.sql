-- One row per referral and instrument that has a baseline: which scored administrations are the
-- baseline and the follow-up.
-- Baseline: the first scored administration from the referral date up to
-- var outcome_baseline_days_after_first_contact (30) days after the first contact (after the
-- referral date when no first contact is recorded).
-- Follow-up: the last scored administration from var outcome_follow_up_min_weeks (8) to
-- outcome_follow_up_max_weeks (26) weeks after the baseline (basis 'window'); failing that, when the
-- person was discharged before the window opened, the last administration after the baseline and
-- on or before the discharge date (basis 'discharge'). Only dates decide: the timepoint label a
-- provider gives an administration breaks ties on the same day and nothing more.
{%- set baseline_days = var('outcome_baseline_days_after_first_contact') %}
{%- set follow_up_min_days = var('outcome_follow_up_min_weeks') * 7 %}
{%- set follow_up_max_days = var('outcome_follow_up_max_weeks') * 7 %}

with scores as (
    select
        administration_key,
        referral_key,
        instrument,
        assessment_date,
        case timepoint when 'baseline' then 1 when 'follow_up' then 2 else 3 end as timepoint_order
    from {{ ref('outcome_scores') }}
    where is_scored
),

referrals as (
    select
        referral_key,
        referral_date,
        first_contact_date,
        discharge_date
    from {{ ref('fct_referrals') }}
),

baseline_candidates as (
    select
        scores.referral_key,
        scores.instrument,
        scores.administration_key,
        scores.assessment_date,
        referrals.discharge_date,
        row_number() over (
            partition by scores.referral_key, scores.instrument
            order by
                scores.assessment_date asc nulls last,
                scores.timepoint_order asc nulls last,
                scores.administration_key asc nulls last
        ) as baseline_rank
    from scores
    inner join referrals
        on scores.referral_key = referrals.referral_key
    where
        scores.assessment_date >= referrals.referral_date
        and scores.assessment_date
        <= {{ dbt.dateadd('day', baseline_days, 'coalesce(referrals.first_contact_date, referrals.referral_date)') }}
),

baselines as (
    select
        referral_key,
        instrument,
        administration_key as baseline_administration_key,
        assessment_date as baseline_date,
        discharge_date,
        cast({{ dbt.dateadd('day', follow_up_min_days, 'assessment_date') }} as date) as follow_up_window_start,
        cast({{ dbt.dateadd('day', follow_up_max_days, 'assessment_date') }} as date) as follow_up_window_end
    from baseline_candidates
    where baseline_rank = 1
),

follow_up_candidates as (
    select
        baselines.referral_key,
        baselines.instrument,
        scores.administration_key,
        scores.assessment_date,
        scores.timepoint_order,
        case
            when scores.assessment_date between baselines.follow_up_window_start and baselines.follow_up_window_end
                then 'window'
            when
                baselines.discharge_date < baselines.follow_up_window_start
                and scores.assessment_date <= baselines.discharge_date
                then 'discharge'
        end as follow_up_basis
    from baselines
    inner join scores
        on
            baselines.referral_key = scores.referral_key
            and baselines.instrument = scores.instrument
            and baselines.baseline_date < scores.assessment_date
),

follow_ups as (
    select
        referral_key,
        instrument,
        administration_key,
        assessment_date,
        follow_up_basis,
        row_number() over (
            partition by referral_key, instrument
            order by
                case follow_up_basis when 'window' then 1 else 2 end asc nulls last,
                assessment_date desc nulls last,
                timepoint_order desc nulls last,
                administration_key desc nulls last
        ) as follow_up_rank
    from follow_up_candidates
    where follow_up_basis is not null
)

select
    baselines.referral_key,
    baselines.instrument,
    baselines.baseline_administration_key,
    baselines.baseline_date,
    baselines.follow_up_window_start,
    baselines.follow_up_window_end,
    follow_ups.administration_key as follow_up_administration_key,
    follow_ups.assessment_date as follow_up_date,
    follow_ups.follow_up_basis
from baselines
left join follow_ups
    on
        baselines.referral_key = follow_ups.referral_key
        and baselines.instrument = follow_ups.instrument
        and follow_ups.follow_up_rank = 1
