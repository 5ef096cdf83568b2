-- Why rows and files were turned away: per submitter, month, table and reason code, the rows
-- quarantined for that reason (each row under its first reason; FILE_REJECTED for valid rows of a file
-- rejected whole), the files it affected (file-level reasons such as DUPLICATE_FILE or BAD_HEADER
-- count files even when no rows were kept), and the rejection rate: rows quarantined for the
-- reason as a share of the rows received for that table and month (duplicates excluded).
-- Rows the manifest counts as quarantined without a quarantine row take the file's own reason.
with manifest as (
    select manifest.*
    from {{ ref('stg_meta__file_manifest') }} as manifest
    inner join {{ ref('extract_tables') }} as extract_tables
        on manifest.table_name = extract_tables.table_name
    where manifest.submitter_code is not null and manifest.period is not null
),

quarantined as (
    select
        file_id,
        reason_code,
        count(*) as rows_quarantined
    from {{ ref('stg_quarantine__rows') }}
    group by file_id, reason_code
),

quarantined_per_file as (
    select
        file_id,
        sum(rows_quarantined) as rows_quarantined
    from quarantined
    group by file_id
),

file_reasons as (
    -- rows under their recorded reasons
    select
        manifest.file_id,
        quarantined.reason_code,
        quarantined.rows_quarantined
    from manifest
    inner join quarantined
        on manifest.file_id = quarantined.file_id
    union all
    -- the file's own reason: the rows counted but not recorded row by row (zero when all were)
    select
        manifest.file_id,
        coalesce(manifest.reason_code, 'UNRECORDED') as reason_code,
        manifest.rows_quarantined - coalesce(quarantined_per_file.rows_quarantined, 0) as rows_quarantined
    from manifest
    left join quarantined_per_file
        on manifest.file_id = quarantined_per_file.file_id
    where
        manifest.reason_code is not null
        or manifest.rows_quarantined > coalesce(quarantined_per_file.rows_quarantined, 0)
),

reason_counts as (
    select
        manifest.submitter_code,
        manifest.period,
        manifest.table_name,
        file_reasons.reason_code,
        count(distinct file_reasons.file_id) as files_affected,
        sum(file_reasons.rows_quarantined) as rows_quarantined
    from file_reasons
    inner join manifest
        on file_reasons.file_id = manifest.file_id
    group by manifest.submitter_code, manifest.period, manifest.table_name, file_reasons.reason_code
),

rows_received as (
    select
        submitter_code,
        period,
        table_name,
        sum(rows_received) as rows_received
    from manifest
    where status <> 'duplicate'
    group by submitter_code, period, table_name
)

select
    reason_counts.submitter_code,
    reason_counts.period,
    reason_counts.table_name,
    reason_counts.reason_code,
    reasons.reason_level,
    reason_counts.files_affected,
    reason_counts.rows_quarantined,
    coalesce(rows_received.rows_received, 0) as rows_received,
    case
        when rows_received.rows_received > 0
            then {{ round_half_up("1.0 * reason_counts.rows_quarantined / rows_received.rows_received", 4) }}
    end as rejection_rate
from reason_counts
left join rows_received
    on
        reason_counts.submitter_code = rows_received.submitter_code
        and reason_counts.period = rows_received.period
        and reason_counts.table_name = rows_received.table_name
left join {{ ref('rejection_reasons') }} as reasons
    on reason_counts.reason_code = reasons.reason_code
