{#-
    Everything the lender could know about an application when it arrived: application facts,
    the applicant as a customer, the latest earlier bureau report, earlier app/spend
    behaviour and earlier links to other customers (shared device, IP, mobile), as known on the
    as-of date. Computed only for the applications whose rows the
    as-of date owns (int_applications_scoped): fct_application_features and
    fct_application_training_set select their slices from it.
-#}
with

scoped as (

    select * from {{ ref('int_applications_scoped') }}

),

applications as (

    select * from {{ ref('stg_los__applications') }}
    where application_id in (select scoped.application_id from scoped)

),

customers as (

    select * from {{ ref('stg_los__customers') }}

),

bureau_features as (

    select * from {{ ref('int_application_bureau_features') }}

),

behaviour_features as (

    select * from {{ ref('int_application_behaviour_features') }}

),

link_features as (

    select * from {{ ref('int_application_link_features') }}

),

-- application facts with the applicant's attributes, age taken on the application date
applicants as (

    select
        applications.application_id,
        applications.customer_id,
        applications.applied_at,
        applications.applied_date,
        {{ month_start('applications.applied_date') }} as application_month,
        applications.channel,
        applications.product,
        applications.requested_amount_cny,
        applications.term_months,
        applications.purpose,
        applications.decision,
        applications.is_approved,
        cast({{ age_in_years('customers.birth_date', 'applications.applied_date') }} as integer)
            as age_at_application_years,
        customers.sex,
        customers.province,
        customers.city,
        customers.is_urban,
        customers.is_new_citizen,
        customers.education,
        customers.occupation,
        customers.monthly_income_cny,
        cast(
            {{ days_between('customers.registered_at', 'applications.applied_at') }} as integer
        ) as customer_tenure_days
    from applications
    inner join customers
        on applications.customer_id = customers.customer_id

),

-- requested credit and known bureau debt against a year of declared income
affordability as (

    select
        applicants.application_id,
        {{ safe_ratio(
            'applicants.requested_amount_cny',
            '12 * applicants.monthly_income_cny'
        ) }} as loan_to_income_ratio,
        {{ safe_ratio(
            'applicants.requested_amount_cny'
            ~ ' + coalesce(bureau_features.bureau_outstanding_balance_cny, 0)',
            '12 * applicants.monthly_income_cny'
        ) }} as debt_to_income_ratio
    from applicants
    inner join bureau_features
        on applicants.application_id = bureau_features.application_id

),

final as (

    select
        applicants.*,
        affordability.loan_to_income_ratio,
        affordability.debt_to_income_ratio,
        bureau_features.* {{ except_columns(['bureau_features.application_id']) }},
        behaviour_features.* {{ except_columns(['behaviour_features.application_id']) }},
        link_features.* {{ except_columns(['link_features.application_id']) }}
    from applicants
    inner join affordability
        on applicants.application_id = affordability.application_id
    inner join bureau_features
        on applicants.application_id = bureau_features.application_id
    inner join behaviour_features
        on applicants.application_id = behaviour_features.application_id
    inner join link_features
        on applicants.application_id = link_features.application_id

)

select * from final
