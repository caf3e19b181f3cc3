with

source as (

    select * from {{ source('los', 'loans') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column
renamed as (

    select
        cast(loan_id as {{ text_type() }}) as loan_id,
        cast(application_id as {{ text_type() }}) as application_id,
        cast(customer_id as {{ text_type() }}) as customer_id,
        cast(disbursed_at as timestamp) as disbursed_at,
        cast(cast(disbursed_at as timestamp) as date) as disbursed_date,
        cast(principal_cny as decimal(12, 2)) as principal_cny,
        cast(apr as decimal(6, 4)) as apr,
        cast(term_months as integer) as term_months,
        cast(first_due_date as date) as first_due_date,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- a loan re-delivered on a later day is known by its latest delivery,
-- which keeps the date it was first delivered (event marts own its row from then)
final as (

    {{ keep_latest_delivery('renamed', ['loan_id'], with_first_delivery_date=true) }}

)

select * from final
