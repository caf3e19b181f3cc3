{#-
    Every application the marts know by the as-of date, and the date they first knew it: the
    first as-of date on which both the application and its applicant had been delivered. That
    date owns the application's row in fct_application_features. Applications whose applicant
    has not been delivered are not known yet (the staging relationship test warns about them).
-#}
with

applications as (

    select * from {{ ref('stg_los__applications') }}

),

customers as (

    select * from {{ ref('stg_los__customers') }}

),

-- known once the later of the application and its applicant has been delivered
final as (

    select
        applications.application_id,
        applications.customer_id,
        applications.applied_at,
        applications.is_approved,
        greatest(applications.first_ingest_date, customers.first_ingest_date) as known_date
    from applications
    inner join customers
        on applications.customer_id = customers.customer_id

)

select * from final
