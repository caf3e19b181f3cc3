{#-
    Every loan the marts know by the as-of date: delivered, with its application known (see
    int_applications_known) and its borrower delivered. known_date is the first as-of date on
    which all of that held; labelled_date the first on which, in addition, the loan's performance
    window had ended, so its label was known: the date that owns its training-set row;
    first_payment_labelled_date the first on which its first-payment-default label was known
    (int_loans_first_payment): the date that owns its anti-fraud training-set row.
-#}
with

loans as (

    select * from {{ ref('stg_los__loans') }}

),

applications as (

    select * from {{ ref('int_applications_known') }}

),

customers as (

    select * from {{ ref('stg_los__customers') }}

),

performance as (

    select * from {{ ref('int_loans_performance_labelled') }}

),

first_payment as (

    select * from {{ ref('int_loans_first_payment') }}

),

-- known once the loan, its application and its borrower are all known
known_loans as (

    select
        loans.loan_id,
        loans.application_id,
        loans.customer_id,
        greatest(
            loans.first_ingest_date, applications.known_date, customers.first_ingest_date
        ) as known_date
    from loans
    inner join applications
        on loans.application_id = applications.application_id
    inner join customers
        on loans.customer_id = customers.customer_id

),

-- labelled once known and past the end of its performance window (or first payment's window)
final as (

    select
        known_loans.loan_id,
        known_loans.application_id,
        known_loans.customer_id,
        known_loans.known_date,
        case
            when performance.is_mature
                then greatest(known_loans.known_date, performance.performance_window_end_date)
        end as labelled_date,
        case
            when first_payment.is_first_payment_observed
                then greatest(known_loans.known_date, first_payment.first_payment_observed_date)
        end as first_payment_labelled_date
    from known_loans
    inner join performance
        on known_loans.loan_id = performance.loan_id
    left join first_payment
        on known_loans.loan_id = first_payment.loan_id

)

select * from final
