{#-
    One row per scheduled instalment of a loan in fct_loans: what was due and when, what was
    paid by the as-of date, and how many days past due it is. Delinquency runs from the due date
    to the earlier of the paid-off date and the as-of date.
-#}
with

installments as (

    select * from {{ ref('int_installments_repaid') }}

),

loans as (

    select * from {{ ref('fct_loans') }}

),

final as (

    select
        installments.installment_id,
        installments.loan_id,
        installments.installment_number,
        installments.due_date,
        installments.principal_due_cny,
        installments.interest_due_cny,
        installments.total_due_cny,
        installments.paid_cny,
        installments.repayments_count,
        installments.first_paid_at,
        installments.last_paid_at,
        installments.paid_off_date,
        installments.is_paid_off,
        installments.due_date <= {{ as_of_date() }} as is_due,
        cast(
            {{ days_past_due(
                'installments.due_date', 'installments.paid_off_date', as_of_date()
            ) }} as integer
        ) as days_past_due,
        {{ as_of_date() }} as as_of_date
    from installments
    where installments.loan_id in (select loans.loan_id from loans)

)

select * from final
