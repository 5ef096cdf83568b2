select
    provider_costs.file_id,
    provider_costs.record_number,
    provider_costs.provider_code,
    provider_costs.pcn_code,
    provider_costs.period,
    provider_costs.cost_type,
    provider_costs.amount_gbp
from {{ source('provider', 'costs') }} as provider_costs
inner join {{ ref('stg_meta__files') }} as files
    on provider_costs.file_id = files.file_id
