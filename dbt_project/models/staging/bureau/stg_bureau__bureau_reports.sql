with

source as (

    select * from {{ source('bureau', 'bureau_reports') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column
renamed as (

    select
        cast(report_id as {{ text_type() }}) as report_id,
        cast(customer_id as {{ text_type() }}) as customer_id,
        cast(reported_at as timestamp) as reported_at,
        cast(cast(reported_at as timestamp) as date) as reported_date,
        cast(bureau_score as integer) as bureau_score,
        cast(credit_accounts_count as integer) as credit_accounts_count,
        cast(open_loans_count as integer) as open_loans_count,
        cast(outstanding_balance_cny as decimal(14, 2)) as outstanding_balance_cny,
        cast(max_days_past_due_24m as integer) as max_days_past_due_24m,
        cast(inquiries_6m_count as integer) as inquiries_6m_count,
        cast(months_since_first_credit as integer) as months_since_first_credit,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- a report re-delivered on a later day is known by its latest delivery
final as (

    {{ keep_latest_delivery('renamed', ['report_id']) }}

)

select * from final
