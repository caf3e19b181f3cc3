{#- Credit-risk definitions shared by the installment facts and the training label. -#}

{#-
    Days past due of an instalment as observed on `observed_until`.

    Delinquency grows by a day every day from the due date until the instalment is paid off, so
    it is counted up to the earlier of the paid-off date and the observation date; an instalment
    not yet due, or paid on time, is 0 days past due. Evaluated at the end of a performance window
    this is also the worst delinquency the instalment reached inside that window.
-#}
{% macro days_past_due(due_date, paid_off_date, observed_until) -%}
    greatest(
        0,
        {{ days_between(
            due_date,
            'least(coalesce(' ~ paid_off_date ~ ', ' ~ observed_until ~ '), ' ~ observed_until ~ ')'
        ) }}
    )
{%- endmacro %}


{#-
    Age in whole years on `on_date` of someone born on `birth_date`: the year difference, less one
    until the birthday of that year has come (someone born on 29 February turns a year older on
    1 March in common years).
-#}
{% macro age_in_years(birth_date, on_date) -%}
    (
        year(cast({{ on_date }} as date)) - year(cast({{ birth_date }} as date))
        - case
            when month(cast({{ on_date }} as date)) * 100 + day(cast({{ on_date }} as date))
                < month(cast({{ birth_date }} as date)) * 100 + day(cast({{ birth_date }} as date))
                then 1
            else 0
        end
    )
{%- endmacro %}


{#- A ratio that is null, not an error or infinity, when the denominator is zero or missing. -#}
{% macro safe_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}


{#-
    The delinquency bucket of a number of days past due, as consumer-finance lenders count it:
    M0 current, M1 1-30 days, M2 31-60, ... M5 121-150, M6+ beyond 150 days.
-#}
{% macro delinquency_bucket(days) -%}
    case
        when {{ days }} <= 0 then 'M0'
        when {{ days }} <= 30 then 'M1'
        when {{ days }} <= 60 then 'M2'
        when {{ days }} <= 90 then 'M3'
        when {{ days }} <= 120 then 'M4'
        when {{ days }} <= 150 then 'M5'
        else 'M6+'
    end
{%- endmacro %}
