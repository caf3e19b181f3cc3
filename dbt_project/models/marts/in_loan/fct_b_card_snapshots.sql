{#-
    Event mart: one row per loan current at a complete month end (int_b_card_snapshots), owned
    by the first as-of date after the month end on which the loan was known, with what was known
    at the month end and the application's features: what the behaviour scorecard scores to
    propose the month's credit-limit changes. No label: it is six months away
    (fct_b_card_training_set adds it once it is known).
-#}
with

snapshots as (

    select * from {{ ref('int_b_card_snapshots') }}
    where owner_date = {{ as_of_date() }}

),

features as (

    select * from {{ ref('int_application_features') }}

),

final as (

    select
        snapshots.* {{ except_columns([
            'snapshots.application_id',
            'snapshots.owner_date',
            'snapshots.is_labelled',
            'snapshots.labelled_date',
            'snapshots.is_bad_6m'
        ]) }},
        features.* {{ except_columns(['features.decision', 'features.is_approved']) }},
        {{ as_of_date() }} as as_of_date
    from snapshots
    inner join features
        on snapshots.application_id = features.application_id

)

select * from final
