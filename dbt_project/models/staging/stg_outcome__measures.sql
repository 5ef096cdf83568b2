select
    measures.file_id,
    measures.record_number,
    files.period,
    measures.provider_code,
    measures.referral_id,
    {{ dbt.concat(["measures.provider_code", "'-'", "measures.referral_id"]) }} as referral_key,
    measures.person_id,
    measures.assessment_date,
    measures.timepoint,
    measures.instrument,
    measures.item_1,
    measures.item_2,
    measures.item_3,
    measures.item_4,
    measures.item_5,
    measures.item_6,
    measures.item_7,
    measures.eq5d_vas
from {{ source('outcome', 'measures') }} as measures
inner join {{ ref('stg_meta__files') }} as files
    on measures.file_id = files.file_id
