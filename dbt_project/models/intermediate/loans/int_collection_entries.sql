{#-
    Every time a loan entered collections: an instalment not paid off on its due date while every
    earlier instalment had been (the loan was current until then and is now 1 day past due, M1).
    Known on the as-of date: what the collections model can know at entry (the instalment, how
    the loan had been repaid so far, whether part of the instalment was paid by its due date),
    and, once `bad_days_past_due` days have passed, the label: not cured, the instalment still
    unpaid after `bad_days_past_due` days (it rolled to 30+ days past due). entered_date is the
    first as-of date on which the entry was known (it owns the row in fct_collection_entries,
    which the collections queue scores); labelled_date the first on which the label was known
    (it owns the row in fct_collections_training_set).
-#}
with

known_loans as (

    select * from {{ ref('int_loans_known') }}

),

installments as (

    select * from {{ ref('int_installments_repaid') }}

),

-- each instalment with how the loan's earlier instalments stood on its due date
with_history as (

    select
        installments.*,
        max(coalesce(installments.paid_off_date, date '9999-12-31')) over (
            partition by installments.loan_id
            order by installments.installment_number
            rows between unbounded preceding and 1 preceding
        ) as earlier_paid_off_by
    from installments

),

-- entries: not paid off on the due date, every earlier instalment paid off by then
entries as (

    select * from with_history
    where
        coalesce(paid_off_date > due_date, true)
        and coalesce(earlier_paid_off_by <= due_date, true)
        and due_date < {{ as_of_date() }}

),

-- repayment history before the entry: late instalments, the worst delinquency so far
history as (

    select
        entries.installment_id,
        count(*) filter (where earlier.paid_off_date > earlier.due_date)
            as earlier_late_installments_count,
        max(
            {{ days_past_due('earlier.due_date', 'earlier.paid_off_date', 'entries.due_date') }}
        ) as earlier_max_days_past_due
    from entries
    inner join installments as earlier
        on
            entries.loan_id = earlier.loan_id
            and entries.installment_number > earlier.installment_number
    group by entries.installment_id

),

final as (

    select
        entries.installment_id,
        entries.loan_id,
        known_loans.application_id,
        entries.installment_number,
        entries.due_date,
        {{ month_start('entries.due_date') }} as entry_month,
        entries.total_due_cny,
        coalesce(cast(entries.first_paid_at as date) <= entries.due_date, false)
            as is_partly_paid_at_due,
        cast(coalesce(history.earlier_late_installments_count, 0) as integer)
            as earlier_late_installments_count,
        cast(coalesce(history.earlier_max_days_past_due, 0) as integer)
            as earlier_max_days_past_due,
        greatest(known_loans.known_date, cast(entries.due_date + interval 1 day as date))
            as entered_date,
        entries.due_date + {{ days_interval(var('bad_days_past_due')) }} <= {{ as_of_date() }}
            as is_labelled,
        case
            when
                entries.due_date + {{ days_interval(var('bad_days_past_due')) }}
                > {{ as_of_date() }}
                then null
            when {{ days_past_due(
                'entries.due_date',
                'entries.paid_off_date',
                'entries.due_date + ' ~ days_interval(var('bad_days_past_due'))
            ) }} >= {{ var('bad_days_past_due') }} then 1
            else 0
        end as is_not_cured,
        case
            when
                entries.due_date + {{ days_interval(var('bad_days_past_due')) }}
                <= {{ as_of_date() }}
                then greatest(
                    known_loans.known_date,
                    cast(entries.due_date + {{ days_interval(var('bad_days_past_due')) }} as date)
                )
        end as labelled_date
    from entries
    inner join known_loans
        on entries.loan_id = known_loans.loan_id
    left join history
        on entries.installment_id = history.installment_id

)

select * from final
