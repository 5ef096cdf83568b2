select
    practice_code,
    practice_name,
    sub_icb_code,
    icb_code,
    region_code,
    postcode,
    open_date,
    close_date,
    status as practice_status
from {{ source('ods', 'practices') }}
where is_gp_practice
