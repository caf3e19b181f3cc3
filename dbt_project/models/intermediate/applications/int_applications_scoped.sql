{#-
    The applications whose rows the as-of date owns in an application mart, and so the only
    ones whose features the build computes: those first known on the as-of date
    (fct_application_features), those whose loan's label became known on it
    (fct_application_training_set), those whose loan's first-payment-default label became
    known on it (fct_fraud_training_set) and those with a collections entry known or labelled on
    it (fct_collection_entries, fct_collections_training_set), and those with a B-card snapshot
    owned or labelled on it (fct_b_card_snapshots, fct_b_card_training_set). Everything else was written by the build of its own date.
-#}
with

applications as (

    select * from {{ ref('int_applications_known') }}

),

loans as (

    select * from {{ ref('int_loans_known') }}

),

-- applications with a loan labelled on the as-of date
labelled_today as (

    select application_id from loans
    where labelled_date = {{ as_of_date() }}

),

-- applications with a loan whose first payment's label became known on the as-of date
first_payment_labelled_today as (

    select application_id from loans
    where first_payment_labelled_date = {{ as_of_date() }}

),

-- applications with a collections entry that became known, or whose label did, on the as-of date
collections_labelled_today as (

    select distinct application_id from {{ ref('int_collection_entries') }}
    where
        labelled_date = {{ as_of_date() }}
        or entered_date = {{ as_of_date() }}

),

-- applications with a B-card month-end snapshot owned, or labelled, on the as-of date
b_card_today as (

    select distinct application_id from {{ ref('int_b_card_snapshots') }}
    where
        owner_date = {{ as_of_date() }}
        or labelled_date = {{ as_of_date() }}

),

final as (

    select
        applications.application_id,
        applications.customer_id,
        applications.applied_at,
        applications.known_date,
        applications.known_date = {{ as_of_date() }} as is_known_on_as_of_date,
        labelled_today.application_id is not null as is_labelled_on_as_of_date,
        first_payment_labelled_today.application_id is not null
            as is_first_payment_labelled_on_as_of_date,
        collections_labelled_today.application_id is not null
            as is_collections_labelled_on_as_of_date,
        b_card_today.application_id is not null as is_b_card_snapshot_on_as_of_date
    from applications
    left join labelled_today
        on applications.application_id = labelled_today.application_id
    left join first_payment_labelled_today
        on applications.application_id = first_payment_labelled_today.application_id
    left join collections_labelled_today
        on applications.application_id = collections_labelled_today.application_id
    left join b_card_today
        on applications.application_id = b_card_today.application_id
    where
        applications.known_date = {{ as_of_date() }}
        or labelled_today.application_id is not null
        or first_payment_labelled_today.application_id is not null
        or collections_labelled_today.application_id is not null
        or b_card_today.application_id is not null

)

select * from final
