-- Loaded files that are the current version for their table, submitter and month.
select
    file_id,
    file_name,
    sheet_name,
    table_name,
    submitter_code,
    period,
    version,
    received_at,
    loaded_at
from {{ source('meta', 'files') }}
where status = 'loaded'
