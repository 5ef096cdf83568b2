"""A static GX Data Docs site under <output>/data_docs/, rebuilt after each validation run.

An ephemeral context forgets its results and its site index drops pages whose results it does not
hold, so the site would show only the last table checked. A file-backed GX project in <output>/gx/
keeps every validation result (JSON) and suite, so the index lists the history of every table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestration.checks.gx_suites import TableValidation, import_gx

SITE_NAME = "sprx"
_NOTHING = "(no new results)"


def _context(output_dir: Path) -> Any:
    """The file-backed GX project, with our site (re)pointed at this output folder."""
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(output_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str((output_dir / "data_docs").resolve()),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    sites = context.list_data_docs_sites()
    if SITE_NAME not in sites:
        context.add_data_docs_site(SITE_NAME, site)
    elif sites[SITE_NAME] != site:
        context.update_data_docs_site(SITE_NAME, site)
    if "local_site" in context.list_data_docs_sites():
        context.delete_data_docs_site("local_site")  # the default site would be a second copy
    return context


def build_data_docs(output_dir: Path, validations: Sequence[TableValidation]) -> Path:
    """Store the validations' GX results and rebuild the site; returns the path of its index.html.

    Results are keyed (suite, run_id, month); storing the same key again replaces the earlier result,
    so a retried run does not add duplicate pages. Empty months have no GX result and add no page.
    """
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    context = _context(output_dir)
    store = context.validation_results_store
    existing = store.list_keys()
    built: list[Any] = []
    for validation in validations:
        for suite, result in validation.gx_runs:
            context.suites.add_or_update(suite)
            suite_key = ExpectationSuiteIdentifier(name=suite.name)
            batch = f"{validation.period:%Y-%m}"
            for key in existing:
                if (
                    key.expectation_suite_identifier == suite_key
                    and key.run_id.run_name == validation.run_id
                    and key.batch_identifier == batch
                ):
                    store.remove_key(key)
            run = RunIdentifier(run_name=validation.run_id, run_time=validation.validated_at.astimezone())
            key = ValidationResultIdentifier(suite_key, run, batch)
            store.set(key, result)
            built += [key, suite_key]
    index = output_dir / "data_docs" / "index.html"
    if built or not index.exists():
        # an empty list would mean "rebuild every page"; a key that matches nothing rebuilds only the index
        context.build_data_docs(
            site_names=[SITE_NAME], resource_identifiers=built or [ExpectationSuiteIdentifier(name=_NOTHING)]
        )
    return index
