{#-
    Keep one row per key: the latest delivery of it, as a whole `select` over `relation`.

    A source may deliver a record again on a later day (a correction, or a re-sent extract);
    the latest delivery is the truth as of the build date. Ties within one delivery (which bronze
    deduplication should already prevent) go to the later ingest, then the later file row, so the
    choice is deterministic. Expects the staging lineage columns `ingest_date`, `ingested_at` and
    `source_row_number`. With `with_first_delivery_date`, each kept row also carries
    `first_ingest_date` (first_delivery_date below), computed before the filter.
-#}
{% macro keep_latest_delivery(relation, key_columns, with_first_delivery_date=false) -%}
    {{ return(adapter.dispatch('keep_latest_delivery', 'creditlake')(
        relation, key_columns, with_first_delivery_date
    )) }}
{%- endmacro %}

{% macro latest_delivery_order() -%}
    order by ingest_date desc, ingested_at desc, source_row_number desc
{%- endmacro %}

{% macro default__keep_latest_delivery(relation, key_columns, with_first_delivery_date) -%}
    select
        *
        {%- if with_first_delivery_date %},
        {{ first_delivery_date(key_columns) }} as first_ingest_date
        {%- endif %}
    from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        {{ latest_delivery_order() }}
    ) = 1
{%- endmacro %}

{#- Spark SQL has no `qualify`: rank in a subquery, filter outside, drop the rank. -#}
{% macro spark__keep_latest_delivery(relation, key_columns, with_first_delivery_date) -%}
    select * except (delivery_rank)
    from (
        select
            *,
            {%- if with_first_delivery_date %}
            {{ first_delivery_date(key_columns) }} as first_ingest_date,
            {%- endif %}
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                {{ latest_delivery_order() }}
            ) as delivery_rank
        from {{ relation }}
    ) as ranked_deliveries
    where delivery_rank = 1
{%- endmacro %}


{#-
    The date a key was first delivered (its earliest delivery by the as-of date). Event marts own
    a record's row on the first date it was known, so staging keeps that date beside the latest
    version of the row. A window over the same partition as `keep_latest_delivery`, evaluated
    before its filter.
-#}
{% macro first_delivery_date(key_columns) -%}
    {{ return(adapter.dispatch('first_delivery_date', 'creditlake')(key_columns)) }}
{%- endmacro %}

{% macro default__first_delivery_date(key_columns) -%}
    min(ingest_date) over (partition by {{ key_columns | join(', ') }})
{%- endmacro %}
