{#-
    Marts that follow the as-of date. Every mart row is owned by exactly one as-of date, held in
    its `as_of_date` column, and the build for date D rewrites D's rows and nothing else:

    * event marts (one row per application, instalment, training example) hold each row in the
      slice of the first as-of date on which the record and every parent it needs were
      delivered, computed as known on that date; later dates never rewrite it;
    * snapshot marts (customers, loans) hold one slice per as-of date with the state of every
      entity known by then.

    A slice is a function of the published bronze and its date alone, so the dates can be built
    in any order, re-run or backfilled, and the warehouse ends up the same.
-#}

{#-
    The as-of date's slice is `as_of_date = <the build's date>`: the predicate a strategy deletes
    by and a reader filters by.
-#}
{% macro in_as_of_date_slice(column='as_of_date') -%}
    {{ column }} = {{ as_of_date() }}
{%- endmacro %}


{#-
    The incremental strategy of the marts (`incremental_strategy='replace_as_of_date'`): delete
    the build date's slice, insert the rows just built, in the materialization's one transaction.
    Deleting by the date, not by the keys of the new rows, means a slice that shrank (a
    re-published delivery with fewer rows) leaves nothing stale behind. A row dated otherwise
    would belong to another date's build, so the statement fails instead of writing it.
-#}
{% macro get_incremental_replace_as_of_date_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    select error('rows outside the as-of date ' || cast({{ as_of_date() }} as varchar)
        || ' reached {{ target }}: every row must belong to the slice its build owns')
    from {{ source }}
    where as_of_date is distinct from {{ as_of_date() }};

    delete from {{ target }}
    where {{ in_as_of_date_slice() }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{%- endmacro %}


{#-
    Data tests check what the build's date wrote: dbt_project.yml gives every mart test
    `where: "as_of_date = __as_of_date__"` (the date's slice) and every staging test
    `where: "ingest_date = __as_of_date__"` (the date's delivery), and this override of dbt's
    `get_where_subquery` puts the build's date in place of the placeholder (a YAML config cannot
    call a macro). Other dates' rows were tested when their builds wrote them.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__as_of_date__' in where -%}
            {%- set where = where | replace('__as_of_date__', as_of_date()) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
