with

source as (

    select * from {{ source('los', 'applications') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column; the decision becomes a flag
renamed as (

    select
        cast(application_id as {{ text_type() }}) as application_id,
        cast(customer_id as {{ text_type() }}) as customer_id,
        cast(applied_at as timestamp) as applied_at,
        cast(cast(applied_at as timestamp) as date) as applied_date,
        cast(channel as {{ text_type() }}) as channel,
        cast(product as {{ text_type() }}) as product,
        cast(requested_amount_cny as decimal(12, 2)) as requested_amount_cny,
        cast(term_months as integer) as term_months,
        cast(purpose as {{ text_type() }}) as purpose,
        cast(device_id_token as {{ text_type() }}) as device_id_token,
        cast(ip_address_token as {{ text_type() }}) as ip_address_token,
        lower(cast(decision as {{ text_type() }})) as decision,
        lower(cast(decision as {{ text_type() }})) = 'approved' as is_approved,
        cast(decided_at as timestamp) as decided_at,
        cast(approved_amount_cny as decimal(12, 2)) as approved_amount_cny,
        cast(apr as decimal(6, 4)) as apr,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- an application re-delivered on a later day is known by its latest delivery,
-- which keeps the date it was first delivered (event marts own its row from then)
final as (

    {{ keep_latest_delivery('renamed', ['application_id'], with_first_delivery_date=true) }}

)

select * from final
