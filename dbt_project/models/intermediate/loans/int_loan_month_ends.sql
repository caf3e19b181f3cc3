{#-
    Every loan known by the as-of date at every complete month end on book, with its
    delinquency as it stood then (as known on the as-of date): days past due, bucket (M0-M6+,
    or closed once every instalment is paid), the worst delinquency reached so far, and the
    as-of date that owns the row in fct_loan_month_ends (the first after the month end on which
    the loan was known). The vintage curves and roll rates of the date aggregate all of it, so
    each of their slices is a function of the date alone.
-#}
with

known_loans as (

    select * from {{ ref('int_loans_known') }}

),

loans as (

    select * from {{ ref('stg_los__loans') }}

),

installments as (

    select * from {{ ref('int_installments_repaid') }}

),

-- every complete month on book up to the as-of date, by its first day
loan_months as (

    select
        known_loans.loan_id,
        known_loans.known_date,
        loans.disbursed_date,
        {{ unnest_month_starts(
            "date_trunc('month', loans.disbursed_date)",
            "date_trunc('month', " ~ as_of_date() ~ ") - interval 1 month"
        ) }} as month_start
    from known_loans
    inner join loans
        on known_loans.loan_id = loans.loan_id

),

-- the month's end, owned from the day after it (or from when the loan was known, if later)
owned_months as (

    select
        loan_id,
        known_date,
        disbursed_date,
        month_end,
        greatest(cast(month_end + interval 1 day as date), known_date) as owner_date
    from (
        select
            *,
            cast(last_day(cast(month_start as date)) as date) as month_end
        from loan_months
    ) as month_ends

),

-- each instalment as it stood at the month end
installment_states as (

    select
        owned_months.loan_id,
        owned_months.month_end,
        {{ days_past_due(
            'installments.due_date', 'installments.paid_off_date', 'owned_months.month_end'
        ) }} as days_past_due_reached,
        installments.due_date <= owned_months.month_end
        and coalesce(installments.paid_off_date > owned_months.month_end, true)
            as is_unpaid_at_month_end,
        coalesce(installments.paid_off_date <= owned_months.month_end, false)
            as is_paid_off_at_month_end
    from owned_months
    inner join installments
        on owned_months.loan_id = installments.loan_id

),

month_end_states as (

    select
        loan_id,
        month_end,
        max(
            case when is_unpaid_at_month_end then days_past_due_reached else 0 end
        ) as days_past_due,
        max(days_past_due_reached) as max_days_past_due_to_date,
        bool_and(is_paid_off_at_month_end) as is_closed
    from installment_states
    group by loan_id, month_end

),

final as (

    select
        owned_months.loan_id || ':' || {{ year_month_text('owned_months.month_end') }}
            as loan_month_id,
        owned_months.loan_id,
        owned_months.month_end,
        {{ month_start('owned_months.disbursed_date') }} as cohort_month,
        cast({{ calendar_months_between(
            'owned_months.disbursed_date', 'owned_months.month_end'
        ) }} as integer) as months_on_book,
        cast(coalesce(month_end_states.days_past_due, 0) as integer) as days_past_due,
        cast(coalesce(month_end_states.max_days_past_due_to_date, 0) as integer)
            as max_days_past_due_to_date,
        case
            when coalesce(month_end_states.is_closed, false) then 'closed'
            else {{ delinquency_bucket('coalesce(month_end_states.days_past_due, 0)') }}
        end as delinquency_bucket,
        coalesce(month_end_states.max_days_past_due_to_date, 0) >= 30 as is_ever_30_dpd,
        coalesce(month_end_states.max_days_past_due_to_date, 0) >= 90 as is_ever_90_dpd,
        coalesce(month_end_states.is_closed, false) as is_closed,
        owned_months.owner_date
    from owned_months
    left join month_end_states
        on
            owned_months.loan_id = month_end_states.loan_id
            and owned_months.month_end = month_end_states.month_end

)

select * from final
