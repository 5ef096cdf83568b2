select
    contacts.file_id,
    contacts.record_number,
    files.period,
    contacts.provider_code,
    contacts.referral_id,
    {{ dbt.concat(["contacts.provider_code", "'-'", "contacts.referral_id"]) }} as referral_key,
    contacts.contact_date,
    contacts.mode as contact_mode,
    contacts.duration_minutes,
    contacts.attended = 'Y' as is_attended,
    contacts.activity_category,
    contacts.activity_provider
from {{ source('provider', 'contacts') }} as contacts
inner join {{ ref('stg_meta__files') }} as files
    on contacts.file_id = files.file_id
