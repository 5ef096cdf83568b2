{#-
    The code of the organisation an activity counts towards at one level of the hierarchy
    (practice, pcn, icb, england), given the practice and the PCN and ICB the practice belonged
    to in the activity's month. Null when the practice had no organisation at that level.
-#}
{% macro referral_org_code(org_type, practice_code, pcn_code, icb_code) -%}
    case {{ org_type }}
        when 'practice' then {{ practice_code }}
        when 'pcn' then {{ pcn_code }}
        when 'icb' then {{ icb_code }}
        when 'england' then '{{ var('england_org_code', 'ENG') }}'
    end
{%- endmacro %}

{#- The organisation levels the referral measures are published at, as a one-column relation. -#}
{% macro referral_org_levels() -%}
    select 'practice' as org_type
    union all
    select 'pcn' as org_type
    union all
    select 'icb' as org_type
    union all
    select 'england' as org_type
{%- endmacro %}
