{#-
    Event mart: one row per loan and month end, the loan's delinquency as it stood at the end
    of each month on book (int_loan_month_ends). The row of month end M is owned by the first
    as-of date after M on which the loan was known, computed from the repayments delivered by
    that date, and never rewritten: the month-end book as the lender saw it.
-#}
with

month_ends as (

    select * from {{ ref('int_loan_month_ends') }}
    where owner_date = {{ as_of_date() }}

),

final as (

    select
        loan_month_id,
        loan_id,
        month_end,
        cohort_month,
        months_on_book,
        days_past_due,
        max_days_past_due_to_date,
        delinquency_bucket,
        is_ever_30_dpd,
        is_ever_90_dpd,
        is_closed,
        {{ as_of_date() }} as as_of_date
    from month_ends

)

select * from final
