{#-
    Event mart: the anti-fraud model's training set, one row per approved application whose
    loan's first instalment has been observed for `bad_days_past_due` days, with the
    application's features (link features included) and the first-payment-default label. The
    row is owned by the loan's first-payment labelled date, carries the features and label as
    known on that date, and is never rewritten. The training set as of D is every row with
    `as_of_date <= D`. `application_month` drives out-of-time splits.
-#}
with

features as (

    select * from {{ ref('int_application_features') }}

),

known_loans as (

    select * from {{ ref('int_loans_known') }}

),

first_payment as (

    select * from {{ ref('int_loans_first_payment') }}

),

-- approved applications whose loan's first payment was labelled on the as-of date
labelled_applications as (

    select
        features.*,
        known_loans.loan_id,
        first_payment.first_due_date,
        first_payment.first_payment_days_past_due,
        first_payment.is_first_payment_default
    from features
    inner join known_loans
        on features.application_id = known_loans.application_id
    inner join first_payment
        on known_loans.loan_id = first_payment.loan_id
    where
        features.is_approved
        and known_loans.first_payment_labelled_date = {{ as_of_date() }}

),

final as (

    select
        *,
        {{ as_of_date() }} as as_of_date
    from labelled_applications

)

select * from final
