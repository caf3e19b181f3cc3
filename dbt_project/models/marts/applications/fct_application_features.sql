{#-
    Event mart: one row per application with everything the lender could know when it arrived.
    The row is owned by the application's known date (the first as-of date on which it and its
    applicant were delivered), computed as known on that date, and never rewritten by a later
    date. The build for date D writes the applications first known on D.
-#}
with

features as (

    select * from {{ ref('int_application_features') }}

),

scoped as (

    select * from {{ ref('int_applications_scoped') }}

),

-- the applications first known on the as-of date
final as (

    select
        features.*,
        {{ as_of_date() }} as as_of_date
    from features
    inner join scoped
        on features.application_id = scoped.application_id
    where scoped.is_known_on_as_of_date

)

select * from final
