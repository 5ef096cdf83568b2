-- Who is referred, against who is registered: per organisation (PCN, ICB, England), financial year,
-- dimension (age band at referral, sex, ethnic group, deprivation quintile) and category, the
-- referrals, their share, the registered population and its share, the ratio of the two shares and
-- the rate per 1,000 registered patients. Every category of every dimension has a row (zero when no
-- one in it was referred). Registered populations exist by age band and sex only (NHS Digital list
-- sizes): for ethnic group and deprivation the population columns are null, and the comparator is
-- the category's share of all referrals in England (england_share_of_known_referrals).
{%- set year_end = dbt.dateadd('day', -1, dbt.dateadd('month', 12, 'financial_year_months.financial_year_start')) %}

with referrals as (
    select * from {{ ref('int_equity_referrals') }}
),

categories as (
    select * from {{ ref('equity_categories') }}
),

population as (
    select * from {{ ref('stg_ods__list_sizes_by_age_sex') }}
),

membership as (
    select * from {{ ref('stg_ods__pcn_membership') }}
),

practices as (
    select * from {{ ref('stg_ods__practices') }}
),

referral_file_months as (
    select distinct period as month_start
    from {{ ref('stg_meta__files') }}
    where table_name = 'provider_referrals'
),

financial_year_months as (
    select
        {{ financial_year_start('month_start') }} as financial_year_start,
        count(*) as months_covered
    from referral_file_months
    group by {{ financial_year_start('month_start') }}
),

latest_extract as (
    select max(extract_date) as extract_date
    from population
),

financial_years as (
    -- the months of the year with referral data, and the day on which practices are placed in PCNs
    -- for the population: the year's last day, or the list-size extract date if that is earlier
    select
        financial_year_months.financial_year_start,
        financial_year_months.months_covered,
        case
            when
                latest_extract.extract_date is null
                or latest_extract.extract_date > {{ year_end }}
                then cast({{ year_end }} as date)
            else latest_extract.extract_date
        end as population_on
    from financial_year_months
    cross join latest_extract
),

referral_categories as (
    select
        referral_key,
        pcn_code,
        icb_code,
        financial_year_start,
        'age_band' as dimension,
        age_band as category
    from referrals
    union all
    select
        referral_key,
        pcn_code,
        icb_code,
        financial_year_start,
        'sex' as dimension,
        sex_category as category
    from referrals
    union all
    select
        referral_key,
        pcn_code,
        icb_code,
        financial_year_start,
        'ethnic_group' as dimension,
        ethnic_group as category
    from referrals
    union all
    select
        referral_key,
        pcn_code,
        icb_code,
        financial_year_start,
        'imd_quintile' as dimension,
        imd_quintile as category
    from referrals
),

org_referral_categories as (
    select
        'pcn' as org_type,
        pcn_code as org_code,
        financial_year_start,
        dimension,
        category
    from referral_categories
    where pcn_code is not null
    union all
    select
        'icb' as org_type,
        icb_code as org_code,
        financial_year_start,
        dimension,
        category
    from referral_categories
    where icb_code is not null
    union all
    select
        'england' as org_type,
        '{{ var("england_org_code", "ENG") }}' as org_code,
        financial_year_start,
        dimension,
        category
    from referral_categories
),

referral_counts as (
    select
        org_type,
        org_code,
        financial_year_start,
        dimension,
        category,
        count(*) as referrals
    from org_referral_categories
    group by org_type, org_code, financial_year_start, dimension, category
),

practice_pcns as (
    -- ODS ranges may touch (one ends the day the next starts): that day belongs to the newer PCN
    select
        financial_years.financial_year_start,
        membership.practice_code,
        membership.pcn_code,
        row_number() over (
            partition by financial_years.financial_year_start, membership.practice_code
            order by membership.start_date desc nulls last
        ) as membership_rank
    from financial_years
    inner join membership
        on financial_years.population_on between membership.start_date and membership.end_date_or_max
),

practice_orgs as (
    select
        financial_year_start,
        practice_code,
        'pcn' as org_type,
        pcn_code as org_code
    from practice_pcns
    where membership_rank = 1
    union all
    select
        financial_years.financial_year_start,
        practices.practice_code,
        'icb' as org_type,
        practices.icb_code as org_code
    from financial_years
    cross join practices
    where practices.icb_code is not null
    union all
    select
        financial_years.financial_year_start,
        practices.practice_code,
        'england' as org_type,
        '{{ var("england_org_code", "ENG") }}' as org_code
    from financial_years
    cross join practices
),

practice_population as (
    select
        practice_code,
        'age_band' as dimension,
        age_band as category,
        sum(registered_patients) as registered_patients
    from population
    group by practice_code, age_band
    union all
    select
        practice_code,
        'sex' as dimension,
        sex_category as category,
        sum(registered_patients) as registered_patients
    from population
    group by practice_code, sex_category
),

population_counts as (
    select
        practice_orgs.org_type,
        practice_orgs.org_code,
        practice_orgs.financial_year_start,
        practice_population.dimension,
        practice_population.category,
        sum(practice_population.registered_patients) as registered_population
    from practice_orgs
    inner join practice_population
        on practice_orgs.practice_code = practice_population.practice_code
    group by
        practice_orgs.org_type,
        practice_orgs.org_code,
        practice_orgs.financial_year_start,
        practice_population.dimension,
        practice_population.category
),

org_years as (
    select distinct
        org_type,
        org_code,
        financial_year_start
    from referral_counts
),

cells as (
    select
        org_years.org_type,
        org_years.org_code,
        org_years.financial_year_start,
        financial_years.months_covered,
        categories.dimension,
        categories.category,
        categories.category_name,
        categories.category_order,
        categories.is_known as is_known_category,
        categories.has_registered_population,
        coalesce(referral_counts.referrals, 0) as referrals,
        case when categories.has_registered_population then population_counts.registered_population end
            as registered_population
    from org_years
    inner join financial_years
        on org_years.financial_year_start = financial_years.financial_year_start
    cross join categories
    left join referral_counts
        on
            org_years.org_type = referral_counts.org_type
            and org_years.org_code = referral_counts.org_code
            and org_years.financial_year_start = referral_counts.financial_year_start
            and categories.dimension = referral_counts.dimension
            and categories.category = referral_counts.category
    left join population_counts
        on
            org_years.org_type = population_counts.org_type
            and org_years.org_code = population_counts.org_code
            and org_years.financial_year_start = population_counts.financial_year_start
            and categories.dimension = population_counts.dimension
            and categories.category = population_counts.category
),

cell_totals as (
    select
        *,
        sum(referrals) over (
            partition by org_type, org_code, financial_year_start, dimension
        ) as referrals_total,
        sum(case when is_known_category then referrals else 0 end) over (
            partition by org_type, org_code, financial_year_start, dimension
        ) as referrals_known,
        sum(case when has_registered_population then referrals else 0 end) over (
            partition by org_type, org_code, financial_year_start, dimension
        ) as referrals_comparable,
        sum(registered_population) over (
            partition by org_type, org_code, financial_year_start, dimension
        ) as registered_population_total
    from cells
),

shares as (
    select
        *,
        case when referrals_total > 0 then 1.0 * referrals / referrals_total end as share_of_referrals,
        case
            when is_known_category and referrals_known > 0 then 1.0 * referrals / referrals_known
        end as share_of_known_referrals,
        case
            when has_registered_population and referrals_comparable > 0 then 1.0 * referrals / referrals_comparable
        end as share_of_comparable_referrals,
        case
            when registered_population_total > 0 then 1.0 * registered_population / registered_population_total
        end as population_share
    from cell_totals
),

england_shares as (
    select
        financial_year_start,
        dimension,
        category,
        share_of_known_referrals as england_share_of_known_referrals
    from shares
    where org_type = 'england'
)

select
    shares.org_type,
    shares.org_code,
    {{ financial_year_label('shares.financial_year_start') }} as financial_year,
    shares.financial_year_start,
    shares.months_covered,
    shares.dimension,
    shares.category,
    shares.category_name,
    shares.category_order,
    shares.is_known_category,
    shares.referrals,
    shares.referrals_total,
    {{ round_half_up("shares.share_of_referrals", 4) }} as share_of_referrals,
    {{ round_half_up("shares.share_of_known_referrals", 4) }} as share_of_known_referrals,
    shares.registered_population,
    {{ round_half_up("shares.population_share", 4) }} as population_share,
    case
        when shares.population_share > 0
            then {{ round_half_up("shares.share_of_comparable_referrals / shares.population_share", 3) }}
    end as referred_to_population_ratio,
    case
        when shares.registered_population > 0
            then {{ round_half_up("1000.0 * shares.referrals / shares.registered_population", 3) }}
    end as referrals_per_1000_registered,
    {{ round_half_up("england_shares.england_share_of_known_referrals", 4) }} as england_share_of_known_referrals,
    case
        when england_shares.england_share_of_known_referrals > 0
            then {{ round_half_up(
                "shares.share_of_known_referrals / england_shares.england_share_of_known_referrals", 3
            ) }}
    end as ratio_to_england_share
from shares
left join england_shares
    on
        shares.financial_year_start = england_shares.financial_year_start
        and shares.dimension = england_shares.dimension
        and shares.category = england_shares.category
