with

source as (

    select * from {{ source('los', 'repayments') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column
renamed as (

    select
        cast(repayment_id as {{ text_type() }}) as repayment_id,
        cast(loan_id as {{ text_type() }}) as loan_id,
        cast(installment_number as integer) as installment_number,
        cast(paid_at as timestamp) as paid_at,
        cast(cast(paid_at as timestamp) as date) as paid_date,
        cast(amount_cny as decimal(12, 2)) as repayment_amount_cny,
        cast(payment_channel as {{ text_type() }}) as payment_channel,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- a repayment re-delivered on a later day is known by its latest delivery
final as (

    {{ keep_latest_delivery('renamed', ['repayment_id']) }}

)

select * from final
