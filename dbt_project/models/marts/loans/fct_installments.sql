{#-
    Event mart: one row per scheduled instalment of a loan in fct_loans, as the schedule was
    delivered: what is due and when. The row is owned by the first as-of date on which both the
    instalment and its loan were known, and never rewritten by a later date. Repayment progress
    and delinquency change every day, so they live in the fct_loans snapshots.
-#}
with

schedules as (

    select * from {{ ref('stg_los__repayment_schedules') }}

),

known_loans as (

    select * from {{ ref('int_loans_known') }}

),

-- each instalment with the first as-of date on which it and its loan were both known
owned as (

    select
        schedules.*,
        greatest(schedules.first_ingest_date, known_loans.known_date) as known_date
    from schedules
    inner join known_loans
        on schedules.loan_id = known_loans.loan_id

),

-- the instalments first known on the as-of date
final as (

    select
        installment_id,
        loan_id,
        installment_number,
        due_date,
        principal_due_cny,
        interest_due_cny,
        total_due_cny,
        {{ as_of_date() }} as as_of_date
    from owned
    where known_date = {{ as_of_date() }}

)

select * from final
