{#-
    The first-payment-default label of each loan (FPD, 首期逾期), the anti-fraud model's label: the
    first instalment was `bad_days_past_due`+ days past due. A fraudster never pays, so an FPD is
    how fraud shows in the books; a genuine borrower who fails at once shows the same way, which
    is why the label is FPD and not "fraud" (the truth of fraud stays with the generator's
    oracle). The label exists once `bad_days_past_due` days after the first due date have been
    observed by the as-of date; before that it is null.
-#}
with

installments as (

    select * from {{ ref('int_installments_repaid') }}
    where installment_number = 1

),

observed as (

    select
        loan_id,
        due_date as first_due_date,
        paid_off_date,
        due_date + {{ days_interval(var('bad_days_past_due')) }} as first_payment_observed_date
    from installments

),

final as (

    select
        loan_id,
        first_due_date,
        first_payment_observed_date,
        first_payment_observed_date <= {{ as_of_date() }} as is_first_payment_observed,
        cast({{ days_past_due(
            'first_due_date',
            'paid_off_date',
            'least(first_payment_observed_date, ' ~ as_of_date() ~ ')'
        ) }} as integer) as first_payment_days_past_due,
        case
            when first_payment_observed_date > {{ as_of_date() }} then null
            when {{ days_past_due(
                'first_due_date', 'paid_off_date', 'first_payment_observed_date'
            ) }} >= {{ var('bad_days_past_due') }} then 1
            else 0
        end as is_first_payment_default
    from observed

)

select * from final
