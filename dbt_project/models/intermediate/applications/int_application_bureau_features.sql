{#-
    The bureau picture the lender had when deciding: the latest report issued STRICTLY BEFORE the
    application. Thin-file applicants (no such report) get `has_bureau_report = false` and nulls.
-#}
with

-- only the applications the as-of date owns: the feature work stays flat as history grows
applications as (

    select * from {{ ref('int_applications_scoped') }}

),

bureau_reports as (

    select * from {{ ref('stg_bureau__bureau_reports') }}

),

-- the applicant's reports issued before the application, newest first
reports_before_application as (

    select
        applications.application_id,
        applications.applied_at,
        bureau_reports.report_id,
        bureau_reports.reported_at,
        bureau_reports.bureau_score,
        bureau_reports.credit_accounts_count,
        bureau_reports.open_loans_count,
        bureau_reports.outstanding_balance_cny,
        bureau_reports.max_days_past_due_24m,
        bureau_reports.inquiries_6m_count,
        bureau_reports.months_since_first_credit,
        row_number() over (
            partition by applications.application_id
            order by bureau_reports.reported_at desc, bureau_reports.report_id desc
        ) as recency_rank
    from applications
    inner join bureau_reports
        on
            applications.customer_id = bureau_reports.customer_id
            and applications.applied_at > bureau_reports.reported_at

),

-- the newest of them
latest_report as (

    select * from reports_before_application
    where recency_rank = 1

),

final as (

    select
        applications.application_id,
        latest_report.report_id is not null as has_bureau_report,
        latest_report.report_id as bureau_report_id,
        latest_report.reported_at as bureau_reported_at,
        cast(
            {{ days_between('latest_report.reported_at', 'applications.applied_at') }} as integer
        ) as days_since_bureau_report,
        latest_report.bureau_score,
        latest_report.credit_accounts_count as bureau_credit_accounts_count,
        latest_report.open_loans_count as bureau_open_loans_count,
        latest_report.outstanding_balance_cny as bureau_outstanding_balance_cny,
        latest_report.max_days_past_due_24m as bureau_max_days_past_due_24m,
        latest_report.inquiries_6m_count as bureau_inquiries_6m_count,
        latest_report.months_since_first_credit as bureau_months_since_first_credit
    from applications
    left join latest_report
        on applications.application_id = latest_report.application_id

)

select * from final
