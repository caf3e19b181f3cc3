with

source as (

    select * from {{ source('los', 'repayment_schedules') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column
renamed as (

    select
        cast(installment_id as varchar) as installment_id,
        cast(loan_id as varchar) as loan_id,
        cast(installment_number as integer) as installment_number,
        cast(due_date as date) as due_date,
        cast(principal_due_cny as decimal(12, 2)) as principal_due_cny,
        cast(interest_due_cny as decimal(12, 2)) as interest_due_cny,
        cast(total_due_cny as decimal(12, 2)) as total_due_cny,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as varchar) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- an instalment re-delivered on a later day (a rescheduled loan) is known by its latest delivery,
-- which keeps the date it was first delivered (event marts own its row from then)
final as (

    select
        *,
        {{ first_delivery_date(['installment_id']) }} as first_ingest_date
    from renamed
    {{ keep_latest_delivery(['installment_id']) }}

)

select * from final
