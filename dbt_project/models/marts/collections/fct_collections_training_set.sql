{#-
    Event mart: the collections model's (C-card) training set, one row per entry of a loan into
    collections (int_collection_entries: an instalment missed while the loan was current) whose
    label became known on the as-of date, with what was known at entry (the instalment, the
    loan's repayment history, whether part was paid by the due date) and the application's
    features. Label is_not_cured: the instalment was still unpaid `bad_days_past_due` days
    later. The row is owned by its labelled date and never rewritten; the training set as of D
    is every row with `as_of_date <= D`. `entry_month` drives out-of-time splits.
-#}
with

entries as (

    select * from {{ ref('int_collection_entries') }}
    where labelled_date = {{ as_of_date() }}

),

features as (

    select * from {{ ref('int_application_features') }}

),

final as (

    select
        entries.installment_id,
        entries.loan_id,
        entries.installment_number,
        entries.due_date,
        entries.entry_month,
        entries.total_due_cny,
        entries.is_partly_paid_at_due,
        entries.earlier_late_installments_count,
        entries.earlier_max_days_past_due,
        features.* {{ except_columns(['features.decision', 'features.is_approved']) }},
        entries.is_not_cured,
        {{ as_of_date() }} as as_of_date
    from entries
    inner join features
        on entries.application_id = features.application_id

)

select * from final
