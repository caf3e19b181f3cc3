{#-
    The training set of the application scorecard: approved applications whose loan was
    disbursed and has been observed for the whole performance window by the as-of date, with
    their application-time features and the loan's `is_bad` label. Loans without the full window
    observed are left out: their label is not known yet. `application_month` drives out-of-time
    splits.
-#}
with

features as (

    select * from {{ ref('fct_application_features') }}

),

loans as (

    select * from {{ ref('fct_loans') }}

),

-- approved, disbursed and matured: the applications whose outcome is known
labelled_applications as (

    select
        features.* exclude (features.as_of_date),
        loans.loan_id,
        loans.disbursed_date,
        loans.principal_cny,
        loans.apr,
        loans.performance_window_end_date,
        loans.max_days_past_due_in_window,
        loans.is_bad
    from features
    inner join loans
        on features.application_id = loans.application_id
    where
        features.is_approved
        and loans.is_mature

),

final as (

    select
        *,
        {{ as_of_date() }} as as_of_date
    from labelled_applications

)

select * from final
