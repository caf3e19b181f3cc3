with

source as (

    select * from {{ source('behaviour', 'app_events') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column; precise latitude/longitude are dropped (city level only)
renamed as (

    select
        cast(event_id as {{ text_type() }}) as event_id,
        cast(customer_id as {{ text_type() }}) as customer_id,
        cast(event_at as timestamp) as event_at,
        cast(cast(event_at as timestamp) as date) as event_date,
        lower(cast(event_type as {{ text_type() }})) as event_type,
        lower(cast(page as {{ text_type() }})) as page,
        {{ local_hour('event_at') }} < {{ var('night_end_hour') }} as is_night_time,
        cast(device_id_token as {{ text_type() }}) as device_id_token,
        cast(os as {{ text_type() }}) as os,
        cast(city as {{ text_type() }}) as city,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- an event re-delivered on a later day is known by its latest delivery
final as (

    {{ keep_latest_delivery('renamed', ['event_id']) }}

)

select * from final
