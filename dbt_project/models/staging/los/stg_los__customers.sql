with

source as (

    select * from {{ source('los', 'customers') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column; PII arrives as keyed tokens, so only tokens pass
renamed as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(name_token as varchar) as name_token,
        cast(national_id_token as varchar) as national_id_token,
        cast(mobile_token as varchar) as mobile_token,
        cast(bank_card_number_token as varchar) as bank_card_number_token,
        cast(birth_date as date) as birth_date,
        cast(sex as varchar) as sex,
        cast(province as varchar) as province,
        cast(city as varchar) as city,
        lower(cast(residence_type as varchar)) as residence_type,
        lower(cast(residence_type as varchar)) = 'urban' as is_urban,
        -- the source codes 1/0; any other code becomes null and fails the not_null test
        case cast(is_new_citizen as integer)
            when 1 then true
            when 0 then false
        end as is_new_citizen,
        cast(education as varchar) as education,
        cast(occupation as varchar) as occupation,
        cast(monthly_income_cny as decimal(12, 2)) as monthly_income_cny,
        cast(registered_at as timestamp) as registered_at,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as varchar) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- a customer re-delivered on a later day is known by its latest delivery,
-- which keeps the date it was first delivered (event marts own its row from then)
final as (

    select
        *,
        {{ first_delivery_date(['customer_id']) }} as first_ingest_date
    from renamed
    {{ keep_latest_delivery(['customer_id']) }}

)

select * from final
