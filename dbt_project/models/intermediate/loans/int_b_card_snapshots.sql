{#-
    The behaviour scorecard's (B-card) snapshots: every loan current at a complete month end (M0:
    nothing past due, not closed, never 30+ days past due; int_loan_month_ends), with only what
    was known at that month end: how the loan had been repaid (instalments due, late, paid
    early, the principal still to pay, days to the next due date) and the borrower's spending in
    that calendar month and the three before it (cash withdrawals and peer transfers are how a
    borrower short of money borrows to repay). The label is_bad_6m: 30+ days past due by the
    end of the `performance_window_months`-th month after, read from that month end's row, so
    it is known once that row is (labelled_date). owner_date owns the snapshot in
    fct_b_card_snapshots (scored for limit proposals), labelled_date its row in
    fct_b_card_training_set.
-#}
{%- set borrowing_categories = "('cash_withdrawal', 'p2p_transfer')" -%}

with

month_ends as (

    select * from {{ ref('int_loan_month_ends') }}

),

known_loans as (

    select * from {{ ref('int_loans_known') }}

),

loans as (

    select * from {{ ref('stg_los__loans') }}

),

installments as (

    select * from {{ ref('int_installments_repaid') }}

),

transactions as (

    select * from {{ ref('stg_behaviour__transactions') }}

),

-- loans current at a month end
snapshots as (

    select
        month_ends.loan_month_id,
        month_ends.loan_id,
        known_loans.application_id,
        known_loans.customer_id,
        month_ends.month_end,
        {{ month_start('month_ends.month_end') }} as snapshot_month,
        month_ends.months_on_book,
        month_ends.max_days_past_due_to_date,
        loans.principal_cny,
        month_ends.owner_date
    from month_ends
    inner join known_loans
        on month_ends.loan_id = known_loans.loan_id
    inner join loans
        on month_ends.loan_id = loans.loan_id
    where
        month_ends.delinquency_bucket = 'M0'
        and not month_ends.is_ever_30_dpd

),

-- repayment of the instalments due before the month end (all paid off: the loan is current).
-- Nothing about an instalment due on or after it is read, not even an early payment: whether
-- the next instalment gets paid is the outcome being predicted, not a feature of the month end.
repayment_history as (

    select
        snapshots.loan_month_id,
        count(*) filter (where installments.due_date < snapshots.month_end)
            as installments_due_count,
        count(*) filter (
            where
            installments.due_date < snapshots.month_end
            and installments.paid_off_date > installments.due_date
        ) as late_installments_count,
        count(*) filter (
            where
            installments.due_date < snapshots.month_end
            and installments.paid_off_date < installments.due_date
        ) as early_installments_count,
        sum(installments.principal_due_cny) filter (
            where installments.due_date >= snapshots.month_end
        ) as outstanding_principal_cny,
        min(installments.due_date) filter (
            where installments.due_date >= snapshots.month_end
        ) as next_due_date
    from snapshots
    inner join installments
        on snapshots.loan_id = installments.loan_id
    group by snapshots.loan_month_id

),

-- the borrower's spending in the snapshot's month and the three months before it
spending as (

    select
        snapshots.loan_month_id,
        count(*) filter (
            where transactions.transacted_date >= snapshots.snapshot_month
        ) as transactions_month_count,
        count(*) filter (
            where
            transactions.transacted_date >= snapshots.snapshot_month
            and transactions.category in {{ borrowing_categories }}
        ) as borrowing_transactions_month_count,
        count(*) filter (
            where transactions.transacted_date < snapshots.snapshot_month
        ) as transactions_prior_3m_count,
        count(*) filter (
            where
            transactions.transacted_date < snapshots.snapshot_month
            and transactions.category in {{ borrowing_categories }}
        ) as borrowing_transactions_prior_3m_count
    from snapshots
    inner join transactions
        on
            snapshots.customer_id = transactions.customer_id
            and transactions.transacted_date
            between {{ add_months('snapshots.snapshot_month', -3) }} and snapshots.month_end
    group by snapshots.loan_month_id

),

final as (

    select
        snapshots.loan_month_id,
        snapshots.loan_id,
        snapshots.application_id,
        snapshots.month_end,
        snapshots.snapshot_month,
        snapshots.months_on_book,
        snapshots.principal_cny,
        snapshots.max_days_past_due_to_date,
        cast(coalesce(history.installments_due_count, 0) as integer) as installments_due_count,
        cast(coalesce(history.late_installments_count, 0) as integer)
            as late_installments_count,
        cast(coalesce(history.early_installments_count, 0) as integer)
            as early_installments_count,
        {{ safe_ratio(
            'coalesce(history.outstanding_principal_cny, 0)', 'snapshots.principal_cny'
        ) }} as outstanding_principal_share,
        cast(
            {{ days_between('snapshots.month_end', 'history.next_due_date') }} as integer
        ) as days_to_next_due,
        cast(coalesce(spending.transactions_month_count, 0) as integer)
            as transactions_month_count,
        cast(coalesce(spending.borrowing_transactions_month_count, 0) as integer)
            as borrowing_transactions_month_count,
        cast(coalesce(spending.transactions_prior_3m_count, 0) as integer)
            as transactions_prior_3m_count,
        cast(coalesce(spending.borrowing_transactions_prior_3m_count, 0) as integer)
            as borrowing_transactions_prior_3m_count,
        snapshots.owner_date,
        case
            when label_month.loan_month_id is null then null
            when label_month.is_ever_30_dpd then 1
            else 0
        end as is_bad_6m,
        label_month.loan_month_id is not null as is_labelled,
        label_month.owner_date as labelled_date
    from snapshots
    left join repayment_history as history
        on snapshots.loan_month_id = history.loan_month_id
    left join spending
        on snapshots.loan_month_id = spending.loan_month_id
    left join month_ends as label_month
        on
            snapshots.loan_id = label_month.loan_id
            and label_month.month_end = last_day(
                {{ add_months('snapshots.month_end', var('performance_window_months')) }}
            )

)

select * from final
