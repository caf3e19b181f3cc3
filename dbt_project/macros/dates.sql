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


{#- Spark SQL spellings of the date macros above (dbt-spark target). -#}
{% macro spark__days_between(start_date, end_date) -%}
    datediff(cast({{ end_date }} as date), cast({{ start_date }} as date))
{%- endmacro %}

{#- Spark 3+ `add_months` clips month ends as DuckDB does (31 Jan + 1 = 28 Feb). -#}
{% macro spark__add_months(start_date, months) -%}
    add_months(cast({{ start_date }} as date), cast({{ months }} as integer))
{%- endmacro %}

{#- `trunc` keeps a date (Spark's `date_trunc` returns a timestamp). -#}
{% macro spark__month_start(value) -%}
    trunc(cast({{ value }} as date), 'MM')
{%- endmacro %}

{#- The session zone is UTC (as on DuckDB), so a plain timestamp is the UTC wall-clock time. -#}
{% macro spark__local_hour(utc_timestamp) -%}
    hour(from_utc_timestamp(cast({{ utc_timestamp }} as timestamp), '{{ var("local_timezone") }}'))
{%- endmacro %}


{#-
    An interval of `days` days, to add to or subtract from a date or timestamp. On DuckDB a date
    plus an interval is a timestamp; Spark's day-time interval gives a timestamp too, whereas its
    `interval n days` literal would keep a date.
-#}
{% macro days_interval(days) -%}
    {{ return(adapter.dispatch('days_interval', 'creditlake')(days)) }}
{%- endmacro %}

{% macro default__days_interval(days) -%}
    to_days({{ days }})
{%- endmacro %}

{% macro spark__days_interval(days) -%}
    make_dt_interval({{ days }})
{%- endmacro %}


{#- A date's year and month as text, `yyyy-mm` (the month part of keys such as `L1:2025-04`). -#}
{% macro year_month_text(value) -%}
    {{ return(adapter.dispatch('year_month_text', 'creditlake')(value)) }}
{%- endmacro %}

{% macro default__year_month_text(value) -%}
    strftime({{ value }}, '%Y-%m')
{%- endmacro %}

{% macro spark__year_month_text(value) -%}
    date_format({{ value }}, 'yyyy-MM')
{%- endmacro %}


{#-
    One row per month start from `first_month` to `last_month` (both month starts, inclusive):
    a set-returning expression for a select list, none when `last_month` is before
    `first_month`. Spark's `sequence` fails on such bounds instead, hence the guard there.
-#}
{% macro unnest_month_starts(first_month, last_month) -%}
    {{ return(adapter.dispatch('unnest_month_starts', 'creditlake')(first_month, last_month)) }}
{%- endmacro %}

{% macro default__unnest_month_starts(first_month, last_month) -%}
    unnest(generate_series({{ first_month }}, {{ last_month }}, interval 1 month))
{%- endmacro %}

{% macro spark__unnest_month_starts(first_month, last_month) -%}
    explode(
        case
            when cast({{ first_month }} as date) <= cast({{ last_month }} as date)
                then sequence(
                    cast({{ first_month }} as date), cast({{ last_month }} as date), interval 1 month
                )
        end
    )
{%- endmacro %}


{#- `alias.* <except_columns([...])>`: every column of a relation but the listed ones. -#}
{% macro except_columns(columns) -%}
    {{ return(adapter.dispatch('except_columns', 'creditlake')(columns)) }}
{%- endmacro %}

{% macro default__except_columns(columns) -%}
    exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__except_columns(columns) -%}
    except ({{ columns | join(', ') }})
{%- endmacro %}


{#-
    Calendar months from `start_date` to `end_date`: month boundaries crossed, not whole months
    elapsed (31 Jan to 1 Feb is 1), as DuckDB's `date_diff('month', ...)` counts them.
-#}
{% macro calendar_months_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('calendar_months_between', 'creditlake')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__calendar_months_between(start_date, end_date) -%}
    date_diff('month', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro spark__calendar_months_between(start_date, end_date) -%}
    (
        (year({{ end_date }}) * 12 + month({{ end_date }}))
        - (year({{ start_date }}) * 12 + month({{ start_date }}))
    )
{%- endmacro %}
