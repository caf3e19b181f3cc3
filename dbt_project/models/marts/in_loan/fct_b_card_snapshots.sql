{#-
    Event mart: one row per loan current at a complete month end (int_b_card_snapshots), owned
    by the first as-of date after the month end on which the loan was known, with what was known
    at the month end and the application's features: what the behaviour scorecard scores to
    propose the month's credit-limit changes. No label: it is six months away
    (fct_b_card_training_set adds it once it is known).
-#}
with

snapshots as (

    select * from {{ ref('int_b_card_snapshots') }}
    where owner_date = {{ as_of_date() }}

),

features as (

    select * from {{ ref('int_application_features') }}

),

final as (

    select
        snapshots.loan_month_id,
        snapshots.loan_id,
        snapshots.month_end,
        snapshots.snapshot_month,
        snapshots.months_on_book,
        snapshots.principal_cny,
        snapshots.max_days_past_due_to_date,
        snapshots.installments_due_count,
        snapshots.late_installments_count,
        snapshots.early_installments_count,
        snapshots.outstanding_principal_share,
        snapshots.days_to_next_due,
        snapshots.transactions_month_count,
        snapshots.borrowing_transactions_month_count,
        snapshots.transactions_prior_3m_count,
        snapshots.borrowing_transactions_prior_3m_count,
        features.* exclude (features.decision, features.is_approved),
        {{ as_of_date() }} as as_of_date
    from snapshots
    inner join features
        on snapshots.application_id = features.application_id

)

select * from final
