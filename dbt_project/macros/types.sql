{#-
    The type of text columns in casts. DuckDB's `varchar` has no length; Spark's `varchar`
    requires one (DATATYPE_MISSING_SIZE) and its unbounded text type is `string`.
-#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type', 'creditlake')()) }}
{%- endmacro %}

{% macro default__text_type() -%}
    varchar
{%- endmacro %}

{% macro spark__text_type() -%}
    string
{%- endmacro %}
