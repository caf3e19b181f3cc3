{#-
    Keep one row per key: the latest delivery of it.

    A source may deliver a record again on a later day (a correction, or a re-sent extract);
    the latest delivery is the truth as of the build date. Ties within one delivery (which bronze
    deduplication should already prevent) go to the later ingest, then the later file row, so the
    choice is deterministic. Expects the staging lineage columns `ingest_date`, `ingested_at` and
    `source_row_number`.
-#}
{% macro keep_latest_delivery(key_columns) -%}
    {{ return(adapter.dispatch('keep_latest_delivery', 'creditlake')(key_columns)) }}
{%- endmacro %}

{% macro default__keep_latest_delivery(key_columns) -%}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by ingest_date desc, ingested_at desc, source_row_number desc
    ) = 1
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
