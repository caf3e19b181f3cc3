{#-
    Schema `bronze` as dbt's sources read it: each source's table at the published Iceberg
    snapshot the build is pinned to (run as the project's `on-run-start` hook).

    The one place where the engines differ in how they reach bronze:

    * DuckDB: `orchestration.dbt.pin_bronze` has already defined `bronze.<source>` in the warehouse
      file (views over the snapshot's data files) before dbt starts, so nothing is left to do.
    * Spark: the Iceberg runtime jar cannot be loaded here (no Maven repository), so each source
      becomes a view over exactly the Parquet data files of its pinned snapshot, which
      `orchestration.dbt` lists from the catalog and passes as the var `bronze_files`
      (`{source: [file, ...]}`). Files of replaced or staged (unpublished) snapshots are never
      listed, so Spark reads what DuckDB reads. On EMR, where Spark has the Iceberg runtime and
      the Glue catalog, `bronze` is the Glue database itself and this macro would only pin each
      view to its snapshot (`select * from glue.bronze.<source> version as of <snapshot id>`).
-#}
{% macro register_bronze_sources() -%}
    {{ return(adapter.dispatch('register_bronze_sources', 'creditlake')()) }}
{%- endmacro %}

{% macro default__register_bronze_sources() -%}
    select 1 as bronze_pinned_before_dbt
{%- endmacro %}

{% macro spark__register_bronze_sources() -%}
    {%- set bronze_files = var('bronze_files', {}) -%}
    {%- if execute and bronze_files -%}
        {%- do run_query('create database if not exists bronze') -%}
        {%- for source_name, files in bronze_files.items() -%}
            {%- set reads = [] -%}
            {%- for file in files -%}
                {%- do reads.append('select * from parquet.`' ~ file | replace('`', '``') ~ '`') -%}
            {%- endfor -%}
            {%- do run_query(
                'create or replace view bronze.' ~ adapter.quote(source_name) ~ ' as '
                ~ reads | join(' union all ')
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1 as bronze_registered
{%- endmacro %}
