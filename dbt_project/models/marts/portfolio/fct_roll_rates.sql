{#-
    Snapshot mart, one slice per as-of date: roll rates of the book as known on that date. For
    each month end and each delinquency bucket a loan was in at the previous month end, how many
    loans moved to each bucket (M0-M6+, closed): the month-to-month transition matrix a
    collections team reads ("how much of M1 rolls to M2").
-#}
with

month_ends as (

    select * from {{ ref('int_loan_month_ends') }}

),

transitions as (

    select
        this_month.month_end,
        previous_month.delinquency_bucket as from_bucket,
        this_month.delinquency_bucket as to_bucket
    from month_ends as this_month
    inner join month_ends as previous_month
        on
            this_month.loan_id = previous_month.loan_id
            and this_month.months_on_book = previous_month.months_on_book + 1

),

counts as (

    select
        month_end,
        from_bucket,
        to_bucket,
        count(*) as loans_count
    from transitions
    group by month_end, from_bucket, to_bucket

),

final as (

    select
        {{ year_month_text('month_end') }} || ':' || from_bucket || '>' || to_bucket
            as transition_id,
        month_end,
        from_bucket,
        to_bucket,
        cast(loans_count as integer) as loans_count,
        {{ safe_ratio(
            'loans_count',
            'sum(loans_count) over (partition by month_end, from_bucket)'
        ) }} as roll_rate,
        {{ as_of_date() }} as as_of_date
    from counts

)

select * from final
