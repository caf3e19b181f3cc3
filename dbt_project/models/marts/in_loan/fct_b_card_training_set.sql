{#-
    Event mart: the behaviour scorecard's (B-card) training set, one row per loan current at a
    complete month end (int_b_card_snapshots) whose label became known on the as-of date: what
    was known at the month end, the application's features, and is_bad_6m (30+ days past due by
    the end of the sixth month after). Owned by its labelled date and never rewritten; the
    training set as of D is every row with `as_of_date <= D`. `snapshot_month` drives
    out-of-time splits.
-#}
with

snapshots as (

    select * from {{ ref('int_b_card_snapshots') }}
    where labelled_date = {{ as_of_date() }}

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
            'snapshots.labelled_date'
        ]) }},
        features.* {{ except_columns(['features.decision', 'features.is_approved']) }},
        {{ as_of_date() }} as as_of_date
    from snapshots
    inner join features
        on snapshots.application_id = features.application_id

)

select * from final
