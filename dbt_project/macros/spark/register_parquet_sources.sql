{#-
    On engines other than DuckDB the raw layer is handed over as Parquet (orchestration/spark/export.py
    writes one folder per dbt source table: <SPRX_SPARK_DIR>/raw_parquet/<schema>/<identifier>/).
    Run at the start of every dbt invocation (on-run-start), this registers each source of the project
    as an external Parquet table in the engine's catalog, so `source()` resolves the same on both
    engines. The tables are dropped and re-created each run: an external table's drop keeps its
    files, and re-creating it picks up the schema and files of the latest export. DuckDB reads
    its own raw tables, so there it does nothing.
-#}
{% macro register_parquet_sources() -%}
    {{ return(adapter.dispatch('register_parquet_sources', 'sprx')()) }}
{%- endmacro %}

{% macro default__register_parquet_sources() -%}
{%- endmacro %}

{% macro spark__register_parquet_sources() -%}
    {%- if execute -%}
        {%- set parquet_root = env_var('SPRX_SPARK_DIR', '../data/spark') ~ '/raw_parquet' -%}
        {%- set schemas = [] -%}
        {%- for source_node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- if source_node.schema not in schemas -%}
                {%- do run_query('create schema if not exists ' ~ source_node.schema) -%}
                {%- do schemas.append(source_node.schema) -%}
            {%- endif -%}
            {%- set relation = source_node.schema ~ '.' ~ source_node.identifier -%}
            {%- set location = parquet_root ~ '/' ~ source_node.schema ~ '/' ~ source_node.identifier -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query('create table ' ~ relation ~ " using parquet location '" ~ location ~ "'") -%}
        {%- endfor -%}
        {%- do log('registered ' ~ (graph.sources | length) ~ ' Parquet sources from ' ~ parquet_root, info=true) -%}
    {%- endif -%}
{%- endmacro %}
