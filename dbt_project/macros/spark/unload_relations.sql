{#-
    Write relations (schema.name strings) to Parquet folders <path>/<schema.name>/ through the target's own
    connection: how orchestration/spark/compare.py reads what Spark built (tables and views alike) for the
    row-for-row comparison with DuckDB, e.g.
    dbt run-operation unload_relations --args '{relations: [marts.fct_referrals], path: /tmp/unloaded}'
-#}
{% macro unload_relations(relations, path) -%}
    {{ return(adapter.dispatch('unload_relations', 'sprx')(relations, path)) }}
{%- endmacro %}

{% macro default__unload_relations(relations, path) -%}
    {{ exceptions.raise_compiler_error(
        "unload_relations is written for Spark; DuckDB's marts are read from the warehouse file itself"
    ) }}
{%- endmacro %}

{% macro spark__unload_relations(relations, path) -%}
    {%- set unloaded = [] -%}
    {%- for relation in relations -%}
        {%- set schema_name, identifier = relation.split('.') -%}
        {#- a relation the build did not create is left out: the comparison reports it as not built -#}
        {%- if adapter.get_relation(database=none, schema=schema_name, identifier=identifier) is not none -%}
            {%- do run_query(
                "insert overwrite directory '" ~ path ~ "/" ~ relation ~ "' using parquet select * from " ~ relation
            ) -%}
            {%- do unloaded.append(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do log('unloaded ' ~ (unloaded | length) ~ ' of ' ~ (relations | length) ~ ' relations to ' ~ path, info=true) -%}
{%- endmacro %}
