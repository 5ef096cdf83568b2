-- Rows that failed validation, or were valid but belonged to a file rejected whole (FILE_REJECTED):
-- one per row, with its first reason. The row's content (record, message) stays in quarantine.
select
    file_id,
    record_number,
    line_number,
    table_name,
    column_name,
    reason_code,
    error_count,
    quarantined_at
from {{ source('quarantine', 'rows') }}
