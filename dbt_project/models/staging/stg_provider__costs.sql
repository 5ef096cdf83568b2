select
    costs.file_id,
    costs.record_number,
    costs.provider_code,
    costs.pcn_code,
    costs.period,
    costs.cost_type,
    costs.amount_gbp
from {{ source('provider', 'costs') }} as costs
inner join {{ ref('stg_meta__files') }} as files
    on costs.file_id = files.file_id
