{#-
    Event mart: the behaviour scorecard's (B-card) training set, one row per loan current at a
    complete month end (int_b_card_snapshots) whose label became known on the as-of date: what
    was known at the month end, the application's features, and is_bad_6m (30+ days past due by
    the end of the sixth month after). Owned by its labelled date and never rewritten; the
    training set as of D is every row with `as_of_date <= D`. `snapshot_month` drives
    out-of-time splits.
-#}
with

snapshots as (

    select * from {{ ref('int_b_card_snapshots') }}
    where labelled_date = {{ as_of_date() }}

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
        snapshots.is_bad_6m,
        {{ as_of_date() }} as as_of_date
    from snapshots
    inner join features
        on snapshots.application_id = features.application_id

)

select * from final
