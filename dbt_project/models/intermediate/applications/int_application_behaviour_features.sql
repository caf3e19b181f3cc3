{#-
    Point-in-time behaviour features of each application: only app events and transactions
    STRICTLY BEFORE the application's `applied_at` count, over the 30 and 90 days before it
    (window of N days = [applied_at - N days, applied_at)). Shares are null when their denominator
    is empty (no logins, no spend): "no information" is not the same as 0.
-#}
{%- set windows_days = [30, 90] -%}
{%- set spend_categories = ['online_gaming', 'cash_withdrawal', 'p2p_transfer', 'luxury'] -%}

with

-- only the applications the as-of date owns: the feature work stays flat as history grows
applications as (

    select * from {{ ref('int_applications_scoped') }}

),

app_events as (

    select * from {{ ref('stg_behaviour__app_events') }}

),

transactions as (

    select * from {{ ref('stg_behaviour__transactions') }}

),

-- the applicant's app events strictly before the application, flagged by window
events_before_application as (

    select
        applications.application_id,
        applications.applied_at,
        {%- for days in windows_days %}
        app_events.event_at >= applications.applied_at - {{ days_interval(days) }}
            as is_within_{{ days }}_days,
        {%- endfor %}
        app_events.event_at,
        app_events.event_type,
        app_events.page,
        app_events.is_night_time,
        app_events.device_id_token
    from applications
    inner join app_events
        on
            applications.customer_id = app_events.customer_id
            and applications.applied_at > app_events.event_at

),

-- counts and shares of app activity per window, and recency of the last event
event_features as (

    select
        application_id,
        {%- for days in windows_days %}
        count(*) filter (where is_within_{{ days }}_days) as app_events_{{ days }}d_count,
        count(*) filter (
            where is_within_{{ days }}_days and event_type = 'login'
        ) as logins_{{ days }}d_count,
        {{ safe_ratio(
            "count(*) filter (where is_within_" ~ days ~ "_days and event_type = 'login' and is_night_time)",
            "count(*) filter (where is_within_" ~ days ~ "_days and event_type = 'login')"
        ) }} as night_logins_{{ days }}d_share,
        count(*) filter (
            where is_within_{{ days }}_days and event_type = 'page_view' and page = 'loan_apply'
        ) as loan_apply_page_views_{{ days }}d_count,
        count(*) filter (
            where is_within_{{ days }}_days and event_type = 'device_change'
        ) as device_changes_{{ days }}d_count,
        count(*) filter (
            where is_within_{{ days }}_days and event_type = 'location_change'
        ) as location_changes_{{ days }}d_count,
        count(distinct device_id_token) filter (
            where is_within_{{ days }}_days
        ) as distinct_devices_{{ days }}d_count,
        {%- endfor %}
        {{ days_between('max(event_at)', 'max(applied_at)') }} as days_since_last_app_event
    from events_before_application
    group by application_id

),

-- the applicant's transactions strictly before the application, flagged by window
transactions_before_application as (

    select
        applications.application_id,
        applications.applied_at,
        {%- for days in windows_days %}
        transactions.transacted_at >= applications.applied_at - {{ days_interval(days) }}
            as is_within_{{ days }}_days,
        {%- endfor %}
        transactions.transacted_at,
        transactions.transaction_amount_cny,
        transactions.category
    from applications
    inner join transactions
        on
            applications.customer_id = transactions.customer_id
            and applications.applied_at > transactions.transacted_at

),

-- spend per window, its mix by risky category, and recency of the last transaction
transaction_features as (

    select
        application_id,
        {%- for days in windows_days %}
        count(*) filter (where is_within_{{ days }}_days) as transactions_{{ days }}d_count,
        coalesce(
            sum(transaction_amount_cny) filter (where is_within_{{ days }}_days), 0
        ) as spend_{{ days }}d_cny,
        {%- for category in spend_categories %}
        {{ safe_ratio(
            "coalesce(sum(transaction_amount_cny) filter (where is_within_" ~ days
            ~ "_days and category = '" ~ category ~ "'), 0)",
            "sum(transaction_amount_cny) filter (where is_within_" ~ days ~ "_days)"
        ) }} as {{ category }}_spend_{{ days }}d_share,
        {%- endfor %}
        {%- endfor %}
        {{ days_between('max(transacted_at)', 'max(applied_at)') }} as days_since_last_transaction
    from transactions_before_application
    group by application_id

),

-- one row per application; no history at all means zero counts and null shares and recency
final as (

    select
        applications.application_id,
        {%- for days in windows_days %}
        cast(coalesce(event_features.app_events_{{ days }}d_count, 0) as integer)
            as app_events_{{ days }}d_count,
        cast(coalesce(event_features.logins_{{ days }}d_count, 0) as integer)
            as logins_{{ days }}d_count,
        cast(event_features.night_logins_{{ days }}d_share as double)
            as night_logins_{{ days }}d_share,
        cast(coalesce(event_features.loan_apply_page_views_{{ days }}d_count, 0) as integer)
            as loan_apply_page_views_{{ days }}d_count,
        cast(coalesce(event_features.device_changes_{{ days }}d_count, 0) as integer)
            as device_changes_{{ days }}d_count,
        cast(coalesce(event_features.location_changes_{{ days }}d_count, 0) as integer)
            as location_changes_{{ days }}d_count,
        cast(coalesce(event_features.distinct_devices_{{ days }}d_count, 0) as integer)
            as distinct_devices_{{ days }}d_count,
        cast(coalesce(transaction_features.transactions_{{ days }}d_count, 0) as integer)
            as transactions_{{ days }}d_count,
        cast(coalesce(transaction_features.spend_{{ days }}d_cny, 0) as decimal(16, 2))
            as spend_{{ days }}d_cny,
        {%- for category in spend_categories %}
        cast(transaction_features.{{ category }}_spend_{{ days }}d_share as double)
            as {{ category }}_spend_{{ days }}d_share,
        {%- endfor %}
        {%- endfor %}
        cast(event_features.days_since_last_app_event as integer) as days_since_last_app_event,
        cast(transaction_features.days_since_last_transaction as integer)
            as days_since_last_transaction
    from applications
    left join event_features
        on applications.application_id = event_features.application_id
    left join transaction_features
        on applications.application_id = transaction_features.application_id

)

select * from final
