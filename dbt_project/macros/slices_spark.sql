{#-
    The marts' `replace_as_of_date` strategy on dbt-spark (macros/slices.sql has DuckDB's).

    dbt-spark's incremental materialization accepts only its own strategies (append, merge,
    insert_overwrite, microbatch) and builds their SQL in the two macros below, which this
    project overrides by name to add `replace_as_of_date` and hand every other strategy back to
    dbt-spark's own macros unchanged.

    Plain Parquet tables have no DELETE, so the slice is a table partition (dbt_project.yml gives
    the marts `partition_by: as_of_date` on Spark) and the build replaces it with a static
    partition overwrite: the date's partition is replaced even when the new slice is empty, and
    no other partition is touched, which is DuckDB's delete-then-insert. As there, a row dated
    otherwise fails the build before anything is written.
-#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'replace_as_of_date' -%}
        {%- do return(raw_strategy) -%}
    {%- endif -%}
    {%- do return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) -%}
{%- endmacro %}


{% macro dbt_spark_get_incremental_sql(
    strategy, source, target, existing, unique_key, incremental_predicates
) -%}
    {%- if strategy == 'replace_as_of_date' -%}
        {{ spark_replace_as_of_date_sql(source, target) }}
    {%- else -%}
        {{ dbt_spark.dbt_spark_get_incremental_sql(
            strategy, source, target, existing, unique_key, incremental_predicates
        ) }}
    {%- endif -%}
{%- endmacro %}


{% macro spark_replace_as_of_date_sql(source, target) -%}
    {%- set slice_date = as_of_date_text() -%}
    {%- set columns = adapter.get_columns_in_relation(target)
        | rejectattr('name', 'equalto', 'as_of_date')
        | map(attribute='quoted') | join(', ') -%}
    {%- if execute -%}
        {%- do run_query(
            "select raise_error('rows outside the as-of date ' || cast(" ~ as_of_date()
            ~ " as string) || ' reached " ~ target ~ ": every row must belong to the slice "
            ~ "its build owns') from " ~ source ~ " where as_of_date is distinct from "
            ~ as_of_date()
        ) -%}
    {%- endif -%}
    insert overwrite table {{ target }}
    partition (as_of_date = '{{ slice_date }}')
    select {{ columns }}
    from {{ source }}
{%- endmacro %}
