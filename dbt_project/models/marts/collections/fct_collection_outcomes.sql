{#-
    Event mart: what the collections team did about each entry into collections
    (int_collection_entries) during the `bad_days_past_due` days after the due date, and whether
    the borrower cured within them: actions and calls made, first contact, the first promise to
    pay and whether it was kept. Owned by the entry's labelled date (the cure is known then) and
    never rewritten; the outcomes as of D are every row with `as_of_date <= D`.
-#}
with

entries as (

    select * from {{ ref('int_collection_entries') }}
    where labelled_date = {{ as_of_date() }}

),

installments as (

    select * from {{ ref('int_installments_repaid') }}

),

actions as (

    select * from {{ ref('stg_los__collection_actions') }}

),

-- the actions on the missed instalment inside the cure window
window_actions as (

    select
        entries.installment_id,
        actions.channel,
        actions.outcome,
        actions.action_date,
        actions.promised_date
    from entries
    inner join actions
        on
            entries.loan_id = actions.loan_id
            and entries.installment_number = actions.installment_number
            and entries.due_date < actions.action_date
            and entries.due_date + {{ days_interval(var('bad_days_past_due')) }}
            >= actions.action_date

),

per_entry as (

    select
        installment_id,
        count(*) as actions_count,
        count(*) filter (where channel = 'call') as calls_count,
        min(action_date) filter (
            where outcome in ('promise_to_pay', 'refused')
        ) as first_contact_date,
        min(promised_date) filter (where outcome = 'promise_to_pay') as first_promised_date,
        bool_or(outcome = 'wrong_number') as has_wrong_number
    from window_actions
    group by installment_id

),

final as (

    select
        entries.installment_id,
        entries.loan_id,
        entries.installment_number,
        entries.due_date,
        entries.entry_month,
        cast(coalesce(per_entry.actions_count, 0) as integer) as actions_count,
        cast(coalesce(per_entry.calls_count, 0) as integer) as calls_count,
        per_entry.first_contact_date is not null as is_contacted,
        cast(
            {{ days_between('entries.due_date', 'per_entry.first_contact_date') }} as integer
        ) as days_to_first_contact,
        per_entry.first_promised_date is not null as is_promised,
        case
            when
                per_entry.first_promised_date is null
                or per_entry.first_promised_date
                > entries.due_date + {{ days_interval(var('bad_days_past_due')) }}
                then null
            when installments.paid_off_date <= per_entry.first_promised_date then 1
            else 0
        end as is_promise_kept,
        coalesce(per_entry.has_wrong_number, false) as has_wrong_number,
        1 - entries.is_not_cured as is_cured,
        {{ as_of_date() }} as as_of_date
    from entries
    inner join installments
        on entries.installment_id = installments.installment_id
    left join per_entry
        on entries.installment_id = per_entry.installment_id

)

select * from final
