{#-
    Schemas are exactly `staging`, `intermediate` and `marts` (not dbt's default
    `<target schema>_<custom schema>`), because the rest of the platform (Great Expectations, ML
    training and scoring, the summary) reads `marts.<table>` by name.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
