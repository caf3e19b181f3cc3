"""The governance site (``creditlake report``): what a risk committee reads about a run.

One module per role: :mod:`.lake_sections` (quality gates, quarantine, freshness),
:mod:`.catalog_sections` (PII catalog, lineage), :mod:`.model_sections` (registry, aliases,
monitoring) and :mod:`.links` (Data Docs, dbt docs) gather each section's rows; :mod:`.plots`
draws the figures, :mod:`.render` fills the Jinja2 template and :mod:`.site` writes the folder.
"""
