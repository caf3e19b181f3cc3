{#-
    Snapshot mart, one slice per as-of date: vintage curves of the book as known on that date.
    For each origination cohort (disbursement month) and month on book, how many of the cohort's
    loans had been 30+ and 90+ days past due at least once by then. A cohort's curve ends at the
    last complete month end before the as-of date.
-#}
with

month_ends as (

    select * from {{ ref('int_loan_month_ends') }}

),

final as (

    select
        {{ year_month_text('cohort_month') }} || ':'
        || lpad(cast(months_on_book as {{ text_type() }}), 2, '0') as vintage_cell_id,
        cohort_month,
        months_on_book,
        cast(count(*) as integer) as loans_count,
        cast(count(*) filter (where is_ever_30_dpd) as integer) as ever_30_dpd_count,
        cast(count(*) filter (where is_ever_90_dpd) as integer) as ever_90_dpd_count,
        {{ safe_ratio('count(*) filter (where is_ever_30_dpd)', 'count(*)') }}
            as ever_30_dpd_rate,
        {{ safe_ratio('count(*) filter (where is_ever_90_dpd)', 'count(*)') }}
            as ever_90_dpd_rate,
        {{ as_of_date() }} as as_of_date
    from month_ends
    group by cohort_month, months_on_book

)

select * from final
