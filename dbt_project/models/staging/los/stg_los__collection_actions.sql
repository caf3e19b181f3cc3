with

source as (

    select * from {{ source('los', 'collection_actions') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column
renamed as (

    select
        cast(action_id as {{ text_type() }}) as action_id,
        cast(loan_id as {{ text_type() }}) as loan_id,
        cast(installment_number as integer) as installment_number,
        cast(action_at as timestamp) as action_at,
        cast(cast(action_at as timestamp) as date) as action_date,
        lower(cast(channel as {{ text_type() }})) as channel,
        lower(cast(outcome as {{ text_type() }})) as outcome,
        cast(contact_phone_token as {{ text_type() }}) as contact_phone_token,
        cast(collector_id as {{ text_type() }}) as collector_id,
        cast(promised_date as date) as promised_date,
        cast(promised_amount_cny as decimal(12, 2)) as promised_amount_cny,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- an action re-delivered on a later day is known by its latest delivery
final as (

    {{ keep_latest_delivery('renamed', ['action_id']) }}

)

select * from final
