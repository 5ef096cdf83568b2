{#- The referral measures every period grain carries (monthly, financial year, rolling 12 months), named once
    so a new measure is added in one place. `relation` prefixes each column (e.g. 'measures.'). -#}
{% macro referral_measure_columns(relation='') -%}
    {%- set columns = [
        'registered_patients', 'referrals_received', 'people_referred', 'referrals_from_general_practice',
        'referrals_per_1000_patients', 'referrals_declined', 'people_signposted', 'referrals_seen', 'people_seen',
        'median_days_to_first_contact', 'p90_days_to_first_contact', 'contacts_offered', 'contacts_attended',
        'contacts_did_not_attend', 'people_attending', 'contacts_per_person', 'dna_rate', 'care_plans_agreed',
        'discharges', 'discharges_completed', 'discharges_declined', 'discharges_disengaged',
        'discharges_moved_away', 'discharges_deceased', 'discharges_transferred', 'discharges_other',
        'caseload_at_start', 'active_caseload', 'link_workers_with_caseload', 'caseload_per_link_worker'
    ] -%}
    {%- for column in columns %}
    {{ relation }}{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
