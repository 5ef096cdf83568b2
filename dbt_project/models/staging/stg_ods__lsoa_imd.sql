-- One row per LSOA with its deprivation: the newest Indices of Deprivation edition that covers the
-- LSOA code (IoD2025 for 2021 LSOAs; IoD2019 for 2011 LSOAs that were not carried into 2021).
-- Decile 1 is the most deprived 10% of LSOAs in England; quintile = ceil(decile / 2) (DOMAIN.md).
with editions_ranked as (
    select
        lsoa_code,
        lsoa_name,
        lad_code,
        imd_edition,
        imd_score,
        imd_rank,
        imd_decile,
        row_number() over (
            partition by lsoa_code
            order by imd_edition desc nulls last
        ) as edition_rank
    from {{ source('ods', 'lsoa_imd') }}
)

select
    lsoa_code,
    lsoa_name,
    lad_code,
    imd_edition,
    imd_score,
    imd_rank,
    imd_decile,
    cast(ceil(imd_decile / 2.0) as integer) as imd_quintile
from editions_ranked
where edition_rank = 1
