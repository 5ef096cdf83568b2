select
    events.file_id,
    events.record_number,
    files.period,
    events.practice_code,
    events.person_id,
    events.date_of_birth,
    events.sex,
    events.ethnic_category,
    events.lsoa_code,
    events.event_date,
    events.snomed_code,
    events.snomed_term
from {{ source('practice', 'events') }} as events
inner join {{ ref('stg_meta__files') }} as files
    on events.file_id = files.file_id
