{#-
    The credit label of each loan: "bad" when any instalment due within the first
    `performance_window_months` months on book was `bad_days_past_due`+ days past due at any
    point up to the end of that window. The label exists only once the whole window has been
    observed by the as-of date (the loan is mature); immature loans have a null label.
-#}
with

loans as (

    select * from {{ ref('stg_los__loans') }}

),

installments as (

    select * from {{ ref('int_installments_repaid') }}

),

-- the performance window of each loan and whether the as-of date has seen all of it
windows as (

    select
        loan_id,
        disbursed_date,
        {{ add_months('disbursed_date', var('performance_window_months')) }}
            as performance_window_end_date,
        {{ add_months('disbursed_date', var('performance_window_months')) }}
        <= {{ as_of_date() }} as is_mature
    from loans

),

-- instalments due inside the window, with the worst delinquency seen by the window end (or as-of)
window_installments as (

    select
        windows.loan_id,
        {{ days_past_due(
            'installments.due_date',
            'installments.paid_off_date',
            'least(windows.performance_window_end_date, ' ~ as_of_date() ~ ')'
        ) }} as days_past_due_in_window
    from windows
    inner join installments
        on
            windows.loan_id = installments.loan_id
            and windows.performance_window_end_date >= installments.due_date

),

-- the worst instalment of each loan
worst_installment as (

    select
        loan_id,
        max(days_past_due_in_window) as max_days_past_due_in_window
    from window_installments
    group by loan_id

),

final as (

    select
        windows.loan_id,
        windows.performance_window_end_date,
        windows.is_mature,
        cast(coalesce(worst_installment.max_days_past_due_in_window, 0) as integer)
            as max_days_past_due_in_window,
        case
            when not windows.is_mature then null
            when
                coalesce(worst_installment.max_days_past_due_in_window, 0)
                >= {{ var('bad_days_past_due') }}
                then 1
            else 0
        end as is_bad
    from windows
    left join worst_installment
        on windows.loan_id = worst_installment.loan_id

)

select * from final
