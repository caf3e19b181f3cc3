with

schedules as (

    select * from {{ ref('stg_los__repayment_schedules') }}

),

repayments as (

    select * from {{ ref('stg_los__repayments') }}

),

-- only money received by the as-of date counts: later payments are the future for this build
observed_repayments as (

    select
        repayments.repayment_id,
        repayments.loan_id,
        repayments.installment_number,
        repayments.paid_at,
        repayments.paid_date,
        repayments.repayment_amount_cny
    from repayments
    where repayments.paid_date <= {{ as_of_date() }}

),

-- each payment with the running total paid on its instalment, in the order the money arrived
running_totals as (

    select
        schedules.installment_id,
        schedules.total_due_cny,
        observed_repayments.paid_at,
        observed_repayments.paid_date,
        observed_repayments.repayment_amount_cny,
        sum(observed_repayments.repayment_amount_cny) over (
            partition by schedules.installment_id
            order by observed_repayments.paid_at, observed_repayments.repayment_id
            rows between unbounded preceding and current row
        ) as cumulative_paid_cny
    from observed_repayments
    inner join schedules
        on
            observed_repayments.loan_id = schedules.loan_id
            and observed_repayments.installment_number = schedules.installment_number

),

-- per instalment: money received, and the date the running total first covered what was due
repaid as (

    select
        installment_id,
        sum(repayment_amount_cny) as paid_cny,
        count(*) as repayments_count,
        min(paid_at) as first_paid_at,
        max(paid_at) as last_paid_at,
        min(
            case
                when cumulative_paid_cny >= total_due_cny - {{ var('paid_off_tolerance_cny') }}
                    then paid_date
            end
        ) as paid_off_date
    from running_totals
    group by installment_id

),

-- every scheduled instalment, repaid or not
final as (

    select
        schedules.installment_id,
        schedules.loan_id,
        schedules.installment_number,
        schedules.due_date,
        schedules.principal_due_cny,
        schedules.interest_due_cny,
        schedules.total_due_cny,
        cast(coalesce(repaid.paid_cny, 0) as decimal(14, 2)) as paid_cny,
        cast(coalesce(repaid.repayments_count, 0) as integer) as repayments_count,
        repaid.first_paid_at,
        repaid.last_paid_at,
        repaid.paid_off_date,
        repaid.paid_off_date is not null as is_paid_off
    from schedules
    left join repaid
        on schedules.installment_id = repaid.installment_id

)

select * from final
