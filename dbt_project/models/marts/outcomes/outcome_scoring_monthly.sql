-- Administrations submitted per provider, month of assessment and instrument, by scoring status:
-- 'scored' or the reason an administration could not be scored (missing_item, item_out_of_range,
-- item_not_in_instrument, vas_out_of_range, unknown_instrument). Counts what was left out of the
-- outcome figures and why, so no administration disappears silently.
select
    provider_code,
    assessment_month,
    instrument,
    coalesce(not_scored_reason, 'scored') as scoring_status,
    count(*) as administrations
from {{ ref('outcome_scores') }}
group by provider_code, assessment_month, instrument, coalesce(not_scored_reason, 'scored')
