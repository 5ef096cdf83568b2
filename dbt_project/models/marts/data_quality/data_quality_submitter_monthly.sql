-- Data quality per submitter (practice or provider) and reporting month: what was sent (files,
-- rows), what got through (validity), how complete the key fields are, how soon after the month's
-- end it arrived (timeliness), for practices how well their coding matches the providers'
-- referrals (concordance), and a 0-100 score in the spirit of NHS Digital's Data Quality Maturity
-- Index: score = sum(weight x component score) / sum(weight), over the components that apply
-- (weights in the data_quality_weights seed; a component that does not apply, such as concordance
-- for a provider, shares its weight out over the others).
with manifest as (
    select
        manifest.*,
        extract_tables.submitter_type
    from {{ ref('stg_meta__file_manifest') }} as manifest
    inner join {{ ref('extract_tables') }} as extract_tables
        on manifest.table_name = extract_tables.table_name
    where manifest.submitter_code is not null and manifest.period is not null
),

completeness as (
    select * from {{ ref('data_quality_field_completeness') }}
),

concordance as (
    select * from {{ ref('concordance_practice_monthly') }}
),

weights as (
    select
        max(case when component = 'validity' then weight end) as validity_weight,
        max(case when component = 'completeness' then weight end) as completeness_weight,
        max(case when component = 'timeliness' then weight end) as timeliness_weight,
        max(case when component = 'concordance' then weight end) as concordance_weight
    from {{ ref('data_quality_weights') }}
),

settings as (
    select
        max(case when setting = 'timeliness_full_marks_days' then value end) as full_marks_days,
        max(case when setting = 'timeliness_zero_marks_days' then value end) as zero_marks_days
    from {{ ref('data_quality_settings') }}
),

submissions as (
    select
        submitter_code,
        period,
        max(submitter_type) as submitter_type,
        count(*) as files_received,
        sum(case when status in ('loaded', 'superseded') then 1 else 0 end) as files_loaded,
        sum(case when status = 'superseded' then 1 else 0 end) as files_superseded,
        sum(case when status = 'rejected' then 1 else 0 end) as files_rejected,
        sum(case when status = 'duplicate' then 1 else 0 end) as files_duplicate,
        sum(case when status <> 'duplicate' then rows_received else 0 end) as rows_received,
        sum(case when status <> 'duplicate' then rows_loaded else 0 end) as rows_loaded,
        sum(case when status <> 'duplicate' then rows_quarantined else 0 end) as rows_quarantined,
        min(received_at) as first_received_at
    from manifest
    group by submitter_code, period
),

completeness_totals as (
    select
        submitter_code,
        period,
        sum(rows_checked) as completeness_checks,
        sum(rows_complete) as completeness_passed
    from completeness
    group by submitter_code, period
),

measures as (
    select
        submissions.*,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'submissions.period')) }} as date) as period_end,
        {{ dbt.datediff(
            dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'submissions.period')),
            'cast(submissions.first_received_at as date)',
            'day'
        ) }} as days_after_month_end,
        case
            when submissions.rows_received > 0 then 1.0 * submissions.rows_quarantined / submissions.rows_received
        end as rejection_rate,
        case
            when completeness_totals.completeness_checks > 0
                then 1.0 * completeness_totals.completeness_passed / completeness_totals.completeness_checks
        end as completeness_share,
        concordance.provider_referrals as concordance_referrals,
        case when submissions.submitter_type = 'practice' then concordance.provider_referrals_coded_share end
            as concordance_share
    from submissions
    left join completeness_totals
        on
            submissions.submitter_code = completeness_totals.submitter_code
            and submissions.period = completeness_totals.period
    left join concordance
        on
            submissions.submitter_code = concordance.practice_code
            and submissions.period = concordance.month_start
),

component_scores as (
    select
        measures.*,
        case
            when measures.rows_received > 0 then 100.0 * measures.rows_loaded / measures.rows_received
            when measures.files_rejected > 0 then 0.0
        end as validity_score,
        100.0 * measures.completeness_share as completeness_score,
        case
            when measures.days_after_month_end <= settings.full_marks_days then 100.0
            when measures.days_after_month_end >= settings.zero_marks_days then 0.0
            else 100.0 * (settings.zero_marks_days - measures.days_after_month_end)
                / (settings.zero_marks_days - settings.full_marks_days)
        end as timeliness_score,
        100.0 * measures.concordance_share as concordance_score
    from measures
    cross join settings
),

scored as (
    select
        component_scores.*,
        coalesce(weights.validity_weight * component_scores.validity_score, 0)
        + coalesce(weights.completeness_weight * component_scores.completeness_score, 0)
        + coalesce(weights.timeliness_weight * component_scores.timeliness_score, 0)
        + coalesce(weights.concordance_weight * component_scores.concordance_score, 0) as weighted_points,
        case when component_scores.validity_score is not null then weights.validity_weight else 0 end
        + case when component_scores.completeness_score is not null then weights.completeness_weight else 0 end
        + case when component_scores.timeliness_score is not null then weights.timeliness_weight else 0 end
        + case when component_scores.concordance_score is not null then weights.concordance_weight else 0 end
            as weight_applied
    from component_scores
    cross join weights
)

select
    submitter_code,
    submitter_type,
    period,
    files_received,
    files_loaded,
    files_superseded,
    files_rejected,
    files_duplicate,
    rows_received,
    rows_loaded,
    rows_quarantined,
    first_received_at,
    days_after_month_end,
    concordance_referrals,
    weight_applied,
    {{ round_half_up("rejection_rate", 4) }} as rejection_rate,
    {{ round_half_up("completeness_share", 4) }} as completeness_share,
    {{ round_half_up("concordance_share", 4) }} as concordance_share,
    {{ round_half_up("validity_score", 1) }} as validity_score,
    {{ round_half_up("completeness_score", 1) }} as completeness_score,
    {{ round_half_up("timeliness_score", 1) }} as timeliness_score,
    {{ round_half_up("concordance_score", 1) }} as concordance_score,
    case
        when weight_applied > 0 then {{ round_half_up("weighted_points / weight_applied", 1) }}
    end as data_quality_score
from scored
