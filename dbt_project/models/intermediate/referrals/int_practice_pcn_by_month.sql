-- One row per GP practice and reporting month: the PCN the practice belonged to that month, its
-- sub-ICB, ICB and region, and its registered patients. A practice belongs to one PCN at a time;
-- in a month when it moved, the month counts towards the PCN it belonged to on the month's first
-- day (or, when it belonged to none then, the first PCN it joined during the month).
with practices as (
    select * from {{ ref('stg_ods__practices') }}
),

membership as (
    select * from {{ ref('stg_ods__pcn_membership') }}
),

list_sizes as (
    select * from {{ ref('stg_ods__list_sizes') }}
),

months as (
    select * from {{ ref('int_referral_months') }}
),

practice_months as (
    select
        practices.practice_code,
        practices.practice_name,
        practices.sub_icb_code,
        practices.icb_code,
        practices.region_code,
        months.month_start,
        months.month_end,
        coalesce(practices.open_date <= months.month_end, true)
        and coalesce(practices.close_date >= months.month_start, true) as is_open
    from practices
    cross join months
),

memberships_in_month as (
    select
        practice_months.practice_code,
        practice_months.month_start,
        membership.pcn_code,
        membership.pcn_name,
        -- the membership in force on the first day (the newer one where two touch that day),
        -- else the first one to start during the month
        row_number() over (
            partition by practice_months.practice_code, practice_months.month_start
            order by
                case when membership.start_date <= practice_months.month_start then 0 else 1 end,
                case
                    when membership.start_date <= practice_months.month_start then membership.start_date
                end desc nulls last,
                membership.start_date asc nulls last
        ) as membership_rank
    from practice_months
    inner join membership
        on
            practice_months.practice_code = membership.practice_code
            and practice_months.month_end >= membership.start_date
            and practice_months.month_start <= membership.end_date_or_max
),

list_sizes_in_month as (
    -- the latest extract on or before the month's end; before the first extract, the first one
    select
        practice_months.practice_code,
        practice_months.month_start,
        list_sizes.extract_date,
        list_sizes.registered_patients,
        row_number() over (
            partition by practice_months.practice_code, practice_months.month_start
            order by
                case when list_sizes.extract_date <= practice_months.month_end then 0 else 1 end,
                case
                    when list_sizes.extract_date <= practice_months.month_end then list_sizes.extract_date
                end desc nulls last,
                list_sizes.extract_date asc nulls last
        ) as extract_rank
    from practice_months
    inner join list_sizes
        on practice_months.practice_code = list_sizes.practice_code
)

select
    practice_months.practice_code,
    practice_months.month_start,
    practice_months.practice_name,
    memberships_in_month.pcn_code,
    memberships_in_month.pcn_name,
    practice_months.sub_icb_code,
    practice_months.icb_code,
    practice_months.region_code,
    practice_months.is_open,
    list_sizes_in_month.registered_patients,
    list_sizes_in_month.extract_date as list_size_extract_date
from practice_months
left join memberships_in_month
    on
        practice_months.practice_code = memberships_in_month.practice_code
        and practice_months.month_start = memberships_in_month.month_start
        and memberships_in_month.membership_rank = 1
left join list_sizes_in_month
    on
        practice_months.practice_code = list_sizes_in_month.practice_code
        and practice_months.month_start = list_sizes_in_month.month_start
        and list_sizes_in_month.extract_rank = 1
