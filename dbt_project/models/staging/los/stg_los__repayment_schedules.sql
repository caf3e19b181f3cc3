with

source as (

    select * from {{ source('los', 'repayment_schedules') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column
renamed as (

    select
        cast(installment_id as {{ text_type() }}) as installment_id,
        cast(loan_id as {{ text_type() }}) as loan_id,
        cast(installment_number as integer) as installment_number,
        cast(due_date as date) as due_date,
        cast(principal_due_cny as decimal(12, 2)) as principal_due_cny,
        cast(interest_due_cny as decimal(12, 2)) as interest_due_cny,
        cast(total_due_cny as decimal(12, 2)) as total_due_cny,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- an instalment re-delivered on a later day (a rescheduled loan) is known by its latest delivery,
-- which keeps the date it was first delivered (event marts own its row from then)
final as (

    {{ keep_latest_delivery('renamed', ['installment_id'], with_first_delivery_date=true) }}

)

select * from final
