{#-
    Every row satisfies a SQL boolean expression (rows where it is false or null fail). Used for
    invariants between columns, e.g. `scheduled_total_cny >= scheduled_principal_cny`.
-#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(
        {%- if column_name is not none %} {{ column_name }} {% endif -%}
        {{ expression }},
        false
    )
{% endtest %}
