{#-
    Snapshot mart: one slice per as-of date, one row per customer delivered by then, with the
    attributes of the latest delivery by that date. A customer re-delivered later changes later
    slices only. The build for D replaces D's slice only.
-#}
with

customers as (

    select * from {{ ref('stg_los__customers') }}

),

-- identifiers only as keyed tokens, birth date generalised to its year, location to city
final as (

    select
        customer_id,
        name_token,
        national_id_token,
        mobile_token,
        bank_card_number_token,
        cast(year(birth_date) as integer) as birth_year,
        sex,
        province,
        city,
        is_urban,
        is_new_citizen,
        education,
        occupation,
        monthly_income_cny,
        registered_at,
        {{ as_of_date() }} as as_of_date
    from customers

)

select * from final
