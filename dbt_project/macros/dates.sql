{#- Date arithmetic, one small dispatchable macro per idea, so another engine needs one override. -#}

{#- Whole days from `start_date` to `end_date` (negative when end is earlier). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'creditlake')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}


{#- The date `months` calendar months after `start_date` (month ends clip: 31 Jan + 1 = 28 Feb). -#}
{% macro add_months(start_date, months) -%}
    {{ return(adapter.dispatch('add_months', 'creditlake')(start_date, months)) }}
{%- endmacro %}

{% macro default__add_months(start_date, months) -%}
    cast(cast({{ start_date }} as date) + to_months(cast({{ months }} as integer)) as date)
{%- endmacro %}


{#- First day of the month of a date or timestamp, as a date. -#}
{% macro month_start(value) -%}
    {{ return(adapter.dispatch('month_start', 'creditlake')(value)) }}
{%- endmacro %}

{% macro default__month_start(value) -%}
    cast(date_trunc('month', cast({{ value }} as date)) as date)
{%- endmacro %}


{#- Hour of day (0-23) of a UTC timestamp on the customers' local clock (var `local_timezone`). -#}
{% macro local_hour(utc_timestamp) -%}
    {{ return(adapter.dispatch('local_hour', 'creditlake')(utc_timestamp)) }}
{%- endmacro %}

{% macro default__local_hour(utc_timestamp) -%}
    hour(timezone('{{ var("local_timezone") }}', cast({{ utc_timestamp }} as timestamptz)))
{%- endmacro %}
