{#-
    Point-in-time link features of each application, the anti-fraud signals: how many OTHER
    customers' applications came STRICTLY BEFORE it from the same device or IP address (over the
    30 days before it, and ever), and how many other customers registered before it with the
    same mobile number. Devices, IPs and mobiles are compared by their keyed tokens, so the links
    are found without any raw identifier. `linked_customers_count` is the applicant's ring as far
    as direct links show it: the distinct other customers sharing any of the three.
-#}
with

-- only the applications the as-of date owns: the feature work stays flat as history grows
scoped as (

    select * from {{ ref('int_applications_scoped') }}

),

applications as (

    select * from {{ ref('stg_los__applications') }}

),

customers as (

    select * from {{ ref('stg_los__customers') }}

),

scoped_keys as (

    select
        scoped.application_id,
        scoped.customer_id,
        scoped.applied_at,
        applications.device_id_token,
        applications.ip_address_token,
        customers.mobile_token
    from scoped
    inner join applications
        on scoped.application_id = applications.application_id
    inner join customers
        on scoped.customer_id = customers.customer_id

),

-- other customers' earlier applications from the same device or the same IP address
shared_applications as (

    {%- for link, column in [('device', 'device_id_token'), ('ip', 'ip_address_token')] %}
    {%- if not loop.first %}

    union all
    {%- endif %}

    select
        scoped_keys.application_id,
        '{{ link }}' as link_kind,
        earlier.customer_id as linked_customer_id,
        earlier.applied_at >= scoped_keys.applied_at - {{ days_interval(30) }} as is_within_30_days
    from scoped_keys
    inner join applications as earlier
        on
            scoped_keys.{{ column }} = earlier.{{ column }}
            and scoped_keys.customer_id != earlier.customer_id
            and scoped_keys.applied_at > earlier.applied_at
    {%- endfor %}

),

-- other customers registered before the application with the same mobile number
shared_mobiles as (

    select
        scoped_keys.application_id,
        'mobile' as link_kind,
        other_customers.customer_id as linked_customer_id,
        true as is_within_30_days
    from scoped_keys
    inner join customers as other_customers
        on
            scoped_keys.mobile_token = other_customers.mobile_token
            and scoped_keys.customer_id != other_customers.customer_id
            and scoped_keys.applied_at > other_customers.registered_at

),

links as (

    select * from shared_applications
    union all
    select * from shared_mobiles

),

link_counts as (

    select
        application_id,
        count(*) filter (
            where link_kind = 'device' and is_within_30_days
        ) as device_shared_applications_30d_count,
        count(*) filter (
            where link_kind = 'ip' and is_within_30_days
        ) as ip_shared_applications_30d_count,
        count(distinct linked_customer_id) filter (
            where link_kind = 'device'
        ) as device_linked_customers_count,
        count(distinct linked_customer_id) filter (
            where link_kind = 'ip'
        ) as ip_linked_customers_count,
        count(distinct linked_customer_id) filter (
            where link_kind = 'mobile'
        ) as mobile_linked_customers_count,
        count(distinct linked_customer_id) as linked_customers_count
    from links
    group by application_id

),

-- one row per application; no link at all is zero
final as (

    select
        scoped.application_id,
        {%- for column in [
            'device_shared_applications_30d_count',
            'ip_shared_applications_30d_count',
            'device_linked_customers_count',
            'ip_linked_customers_count',
            'mobile_linked_customers_count',
            'linked_customers_count',
        ] %}
        cast(coalesce(link_counts.{{ column }}, 0) as integer) as {{ column }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from scoped
    left join link_counts
        on scoped.application_id = link_counts.application_id

)

select * from final
