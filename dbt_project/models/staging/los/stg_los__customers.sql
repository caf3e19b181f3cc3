with

source as (

    select * from {{ source('los', 'customers') }}
    where {{ delivered_by_as_of_date() }}

),

-- name and type every column; PII arrives as keyed tokens, so only tokens pass
renamed as (

    select
        cast(customer_id as {{ text_type() }}) as customer_id,
        cast(name_token as {{ text_type() }}) as name_token,
        cast(national_id_token as {{ text_type() }}) as national_id_token,
        cast(mobile_token as {{ text_type() }}) as mobile_token,
        cast(bank_card_number_token as {{ text_type() }}) as bank_card_number_token,
        cast(birth_date as date) as birth_date,
        cast(sex as {{ text_type() }}) as sex,
        cast(province as {{ text_type() }}) as province,
        cast(city as {{ text_type() }}) as city,
        lower(cast(residence_type as {{ text_type() }})) as residence_type,
        lower(cast(residence_type as {{ text_type() }})) = 'urban' as is_urban,
        -- the source codes 1/0; any other code becomes null and fails the not_null test
        case cast(is_new_citizen as integer)
            when 1 then true
            when 0 then false
        end as is_new_citizen,
        cast(education as {{ text_type() }}) as education,
        cast(occupation as {{ text_type() }}) as occupation,
        cast(monthly_income_cny as decimal(12, 2)) as monthly_income_cny,
        cast(registered_at as timestamp) as registered_at,
        cast(ingest_date as date) as ingest_date,
        cast(_batch_id as {{ text_type() }}) as ingest_batch_id,
        cast(_ingested_at as timestamp) as ingested_at,
        cast(_row_number as bigint) as source_row_number
    from source

),

-- a customer re-delivered on a later day is known by its latest delivery,
-- which keeps the date it was first delivered (event marts own its row from then)
final as (

    {{ keep_latest_delivery('renamed', ['customer_id'], with_first_delivery_date=true) }}

)

select * from final
