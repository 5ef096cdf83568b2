-- A practice belongs to one PCN at a time; end_date null means current.
select
    practice_code,
    pcn_code,
    pcn_name,
    pcn_sub_icb_code,
    start_date,
    end_date,
    coalesce(end_date, cast('9999-12-31' as date)) as end_date_or_max
from {{ source('ods', 'pcn_membership') }}
