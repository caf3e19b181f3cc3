{#-
    The date a build is "as of", from the var `as_of_date` (yyyy-mm-dd), as a SQL date literal.

    Every model reads time through this macro so that a build for day D sees only what was known
    on D: a backfill of an old date rebuilds the warehouse as it was then. Parsing (`dbt parse`,
    `dbt ls`) does not execute SQL, so it gets a placeholder and needs no date.
-#}
{% macro as_of_date() -%}
    {%- set raw = var('as_of_date', none) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "dbt var `as_of_date` is required (yyyy-mm-dd, the logical date of the build): "
                ~ "pass --vars '{as_of_date: 2026-01-04}' or use orchestration.dbt.run_dbt"
            ) }}
        {%- endif -%}
        {%- set raw = '1970-01-01' -%}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "dbt var `as_of_date` must be a date in yyyy-mm-dd form, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    cast('{{ text }}' as date)
{%- endmacro %}


{#- True for bronze rows delivered by the as-of date (bronze is partitioned by delivery date). -#}
{% macro delivered_by_as_of_date(partition_column='ingest_date') -%}
    cast({{ partition_column }} as date) <= {{ as_of_date() }}
{%- endmacro %}
