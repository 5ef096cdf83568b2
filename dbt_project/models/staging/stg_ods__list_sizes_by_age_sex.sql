-- Registered patients per practice, sex and quinary age band (NHS Digital "Patients Registered at a
-- GP Practice", quinary-age file), from the latest extract that has age and sex rows. A practice
-- given only single years of age (gp-reg-pat-prac-sing-age) has them summed into the quinary bands;
-- when both are loaded the quinary rows are used, so no patient is counted twice.
with age_sex_rows as (
    select
        extract_date,
        practice_code,
        sex,
        age_band as list_size_age,
        patients
    from {{ source('ods', 'list_sizes') }}
    where sex <> 'ALL' and age_band <> 'ALL'
),

latest_extract as (
    select max(extract_date) as extract_date
    from age_sex_rows
),

age_labels as (
    select * from {{ ref('list_size_age_bands') }}
),

sexes as (
    select * from {{ ref('sex_categories') }}
    where code_system = 'list_sizes'
),

labelled_rows as (
    select
        age_sex_rows.practice_code,
        age_sex_rows.extract_date,
        sexes.sex_category,
        age_labels.age_band,
        age_labels.label_kind,
        age_sex_rows.patients
    from age_sex_rows
    inner join latest_extract
        on age_sex_rows.extract_date = latest_extract.extract_date
    inner join age_labels
        on age_sex_rows.list_size_age = age_labels.list_size_age
    inner join sexes
        on age_sex_rows.sex = sexes.sex_code
),

practice_label_kinds as (
    select
        practice_code,
        max(case when label_kind = 'quinary' then 1 else 0 end) as has_quinary_rows
    from labelled_rows
    group by practice_code
)

select
    labelled_rows.practice_code,
    labelled_rows.extract_date,
    labelled_rows.sex_category,
    labelled_rows.age_band,
    sum(labelled_rows.patients) as registered_patients
from labelled_rows
inner join practice_label_kinds
    on labelled_rows.practice_code = practice_label_kinds.practice_code
where
    labelled_rows.label_kind = 'both'
    or (labelled_rows.label_kind = 'quinary' and practice_label_kinds.has_quinary_rows = 1)
    or (labelled_rows.label_kind = 'single_year' and practice_label_kinds.has_quinary_rows = 0)
group by
    labelled_rows.practice_code,
    labelled_rows.extract_date,
    labelled_rows.sex_category,
    labelled_rows.age_band
