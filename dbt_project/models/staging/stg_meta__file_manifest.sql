-- Every entry of the ingestion manifest (a file, or one sheet of a workbook), whatever its status:
-- loaded (current), superseded (loaded, then replaced by a later version), rejected or duplicate.
select
    file_id,
    file_name,
    sheet_name,
    sha256,
    table_name,
    submitter_code,
    period,
    version,
    status,
    reason_code,
    rows_received,
    rows_loaded,
    rows_quarantined,
    received_at,
    loaded_at
from {{ source('meta', 'files') }}
