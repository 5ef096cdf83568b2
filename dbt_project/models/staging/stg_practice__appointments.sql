select
    appointments.file_id,
    appointments.record_number,
    files.period,
    appointments.practice_code,
    appointments.person_id,
    appointments.appointment_date,
    appointments.staff_role,
    appointments.status as appointment_status
from {{ source('practice', 'appointments') }} as appointments
inner join {{ ref('stg_meta__files') }} as files
    on appointments.file_id = files.file_id
