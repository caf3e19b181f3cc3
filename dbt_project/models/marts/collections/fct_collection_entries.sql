{#-
    Event mart: one row per entry of a loan into collections (int_collection_entries: an
    instalment missed while the loan was current), owned by the first as-of date on which the
    entry was known, with what was known then (the instalment, the loan's repayment history,
    whether part was paid by the due date) and the application's features: what the collections
    model scores to order the day's queue. No label: it is not known at entry
    (fct_collections_training_set adds it once it is).
-#}
with

entries as (

    select * from {{ ref('int_collection_entries') }}
    where entered_date = {{ as_of_date() }}

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
        {{ as_of_date() }} as as_of_date
    from entries
    inner join features
        on entries.application_id = features.application_id

)

select * from final
