{#-
    Snapshot mart: one slice per as-of date, one row per loan known by then (int_loans_known: its
    application and borrower are in the marts, so every foreign key joins; staging tests warn
    about the others). Each row holds the loan's terms, what the schedule adds up to (so a
    quality gate can check principal + interest against the schedule), repayment progress and
    delinquency as of the slice's date, and its credit label once mature. The build for D
    replaces D's slice only.
-#}
with

loans as (

    select * from {{ ref('stg_los__loans') }}

),

installments as (

    select * from {{ ref('int_installments_repaid') }}

),

performance as (

    select * from {{ ref('int_loans_performance_labelled') }}

),

known_loans as (

    select * from {{ ref('int_loans_known') }}

),

-- what the schedule adds up to, and how far repayment has got by the as-of date
schedule_totals as (

    select
        loan_id,
        count(*) as installments_count,
        sum(principal_due_cny) as scheduled_principal_cny,
        sum(interest_due_cny) as scheduled_interest_cny,
        sum(total_due_cny) as scheduled_total_cny,
        sum(paid_cny) as repaid_cny,
        count(*) filter (where is_paid_off) as paid_off_installments_count,
        max(
            {{ days_past_due('due_date', 'paid_off_date', as_of_date()) }}
        ) as max_days_past_due
    from installments
    group by loan_id

),

final as (

    select
        loans.loan_id,
        loans.application_id,
        loans.customer_id,
        loans.disbursed_at,
        loans.disbursed_date,
        loans.principal_cny,
        loans.apr,
        loans.term_months,
        loans.first_due_date,
        cast(coalesce(schedule_totals.installments_count, 0) as integer) as installments_count,
        cast(coalesce(schedule_totals.scheduled_principal_cny, 0) as decimal(14, 2))
            as scheduled_principal_cny,
        cast(coalesce(schedule_totals.scheduled_interest_cny, 0) as decimal(14, 2))
            as scheduled_interest_cny,
        cast(coalesce(schedule_totals.scheduled_total_cny, 0) as decimal(14, 2))
            as scheduled_total_cny,
        cast(coalesce(schedule_totals.repaid_cny, 0) as decimal(14, 2)) as repaid_cny,
        cast(coalesce(schedule_totals.paid_off_installments_count, 0) as integer)
            as paid_off_installments_count,
        cast(coalesce(schedule_totals.max_days_past_due, 0) as integer) as max_days_past_due,
        cast({{ calendar_months_between('loans.disbursed_date', as_of_date()) }} as integer)
            as months_on_book,
        performance.performance_window_end_date,
        performance.is_mature,
        performance.max_days_past_due_in_window,
        cast(performance.is_bad as integer) as is_bad,
        {{ as_of_date() }} as as_of_date
    from loans
    inner join known_loans
        on loans.loan_id = known_loans.loan_id
    inner join performance
        on loans.loan_id = performance.loan_id
    left join schedule_totals
        on loans.loan_id = schedule_totals.loan_id

)

select * from final
