{#-
    Event mart: the training set of the application scorecard, one row per approved application
    whose loan was disbursed and observed for its whole performance window, with the
    application's features and the loan's `is_bad` label. The row is owned by the loan's
    labelled date (the first as-of date on which the loan was known and mature), carries the
    features and label as known on that date, and is never rewritten. The training set as of D
    is every row with `as_of_date <= D`. `application_month` drives out-of-time splits.
-#}
with

features as (

    select * from {{ ref('int_application_features') }}

),

known_loans as (

    select * from {{ ref('int_loans_known') }}

),

loans as (

    select * from {{ ref('fct_loans') }}
    where {{ in_as_of_date_slice() }}

),

-- approved applications whose loan's label became known on the as-of date
labelled_applications as (

    select
        features.*,
        loans.loan_id,
        loans.disbursed_date,
        loans.principal_cny,
        loans.apr,
        loans.performance_window_end_date,
        loans.max_days_past_due_in_window,
        loans.is_bad
    from features
    inner join known_loans
        on features.application_id = known_loans.application_id
    inner join loans
        on known_loans.loan_id = loans.loan_id
    where
        features.is_approved
        and loans.is_mature
        and known_loans.labelled_date = {{ as_of_date() }}

),

final as (

    select
        *,
        {{ as_of_date() }} as as_of_date
    from labelled_applications

)

select * from final
