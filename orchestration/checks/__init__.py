"""Data-quality checks on the loaded raw tables: GX suites derived from the contracts, run per month.

Modules: `gx_suites` (suites and `validate_period`), `results` (`meta.dq_results`), `data_docs`
(the static GX Data Docs site) and `dagster_checks` (`gx_asset_checks`). Nothing here imports
great_expectations at module level: it costs seconds and the Dagster definitions must load fast.
"""
