{#-
    The date a build is "as of" (yyyy-mm-dd), from the environment variable
    `CREDITLAKE_AS_OF_DATE`, as a SQL date literal.

    Every model reads time through this macro so that a build for day D sees only what was known
    on D: a backfill of an old date rebuilds the warehouse as it was then. The date is read only
    when SQL executes, never while dbt parses: parsing gets a placeholder, so `dbt parse` and
    `dbt ls` need no date, and the manifest does not depend on it. That is why it is not a var:
    dbt re-parses the whole project whenever `--vars` change, which cost every daily build ~5 s
    (one date's vars are another's), while a date read at execution lets dbt's partial parsing
    reuse the manifest from one date to the next.
-#}
{% macro as_of_date_text() -%}
    {%- if not execute -%}
        {{ return('1970-01-01') }}
    {%- endif -%}
    {%- set text = env_var('CREDITLAKE_AS_OF_DATE', '') | trim -%}
    {%- if text == '' -%}
        {{ exceptions.raise_compiler_error(
            "the build's as-of date is required: set CREDITLAKE_AS_OF_DATE=yyyy-mm-dd (the "
            ~ "logical date of the build) or use orchestration.dbt.run_dbt"
        ) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "CREDITLAKE_AS_OF_DATE must be a date in yyyy-mm-dd form, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{% macro as_of_date() -%}
    cast('{{ as_of_date_text() }}' as date)
{%- endmacro %}


{#- True for bronze rows delivered by the as-of date (bronze is partitioned by delivery date). -#}
{% macro delivered_by_as_of_date(partition_column='ingest_date') -%}
    cast({{ partition_column }} as date) <= {{ as_of_date() }}
{%- endmacro %}
