{#-
    No two rows share the same values of `columns` (e.g. one loan per application within one
    as-of date's snapshot). Our own macro because the project can use no dbt packages.
-#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as rows_with_these_values
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
