-- One row per person: date of birth, sex, ethnic category and LSOA as their latest practice event
-- record holds them. Provider referrals carry none of these, so this is where a referred person's
-- attributes come from; a person with no coded practice event has no row.
with events_ranked as (
    select
        person_id,
        practice_code,
        event_date,
        date_of_birth,
        sex,
        ethnic_category,
        lsoa_code,
        row_number() over (
            partition by person_id
            order by
                event_date desc nulls last,
                period desc nulls last,
                file_id desc nulls last,
                record_number desc nulls last
        ) as recency_rank
    from {{ ref('stg_practice__events') }}
)

select
    person_id,
    practice_code as recorded_by_practice_code,
    event_date as recorded_on,
    date_of_birth,
    sex,
    ethnic_category,
    lsoa_code
from events_ranked
where recency_rank = 1
