-- The quantity of each valued outcome per PCN and financial year, before any financial proxy:
-- wellby - the change in ONS4 life satisfaction summed over the pairs whose follow-up is dated in
--   the year (points; one point for one person for a year is one WELLBY);
-- qaly - the change in the EQ-5D-5L index summed the same way (index points);
-- gp_appointments - GP appointments attended in the six months before referral minus the six months
--   after, for engaged people referred in the year with complete windows (utilisation_gp_appointments).
-- A negative quantity (things got worse) is kept: it lowers the value rather than being dropped.
with pairs as (
    select * from {{ ref('outcome_pairs') }}
    where has_follow_up and pcn_code is not null
),

utilisation as (
    select * from {{ ref('utilisation_gp_appointments') }}
    where org_type = 'pcn' and period_type = 'financial_year' and cohort = 'engaged'
),

pair_quantities as (
    select
        pcn_code,
        {{ financial_year_start('follow_up_date') }} as financial_year_start,
        case measure when 'ons4_life_satisfaction' then 'wellby' when 'eq5d_index' then 'qaly' end as outcome,
        change
    from pairs
    where measure in ('ons4_life_satisfaction', 'eq5d_index')
)

select
    pcn_code,
    financial_year_start,
    outcome,
    cast(sum(change) as {{ dbt.type_numeric() }}) as quantity,
    count(*) as people
from pair_quantities
group by pcn_code, financial_year_start, outcome
union all
select
    org_code as pcn_code,
    period_start as financial_year_start,
    'gp_appointments' as outcome,
    cast(gp_appointments_before - gp_appointments_after as {{ dbt.type_numeric() }}) as quantity,
    episodes as people
from utilisation
