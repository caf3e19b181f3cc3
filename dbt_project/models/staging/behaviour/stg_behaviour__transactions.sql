with

source as (

    select * from {{ source('behaviour', 'transactions') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column
renamed as (

    select
        cast(transaction_id as {{ text_type() }}) as transaction_id,
        cast(customer_id as {{ text_type() }}) as customer_id,
        cast(transacted_at as timestamp) as transacted_at,
        cast(cast(transacted_at as timestamp) as date) as transacted_date,
        cast(amount_cny as decimal(12, 2)) as transaction_amount_cny,
        lower(cast(category as {{ text_type() }})) as category,
        cast(merchant_id as {{ text_type() }}) as merchant_id,
        cast(merchant_name as {{ text_type() }}) as merchant_name,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- a transaction re-delivered on a later day is known by its latest delivery
final as (

    {{ keep_latest_delivery('renamed', ['transaction_id']) }}

)

select * from final
