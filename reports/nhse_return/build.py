"""Build the monthly NHS England return: read the marts, validate, write a new version to the outbox or
recognise that nothing changed, and log every attempt.

Outbox layout under $SPRX_OUTPUT/nhse_return/:

    outbox/<YYYY-MM>/<primary|refresh>/v<N>/     management information (what NHS England receives)
    published/<YYYY-MM>/<primary|refresh>/v<N>/  the published variant (disclosure control applied)
    submission_log.jsonl                         one line per attempt: written, unchanged or blocked

Each version folder holds the CSV, the XLSX and manifest.json. A version is never changed or removed;
a build whose CSV and XLSX equal the latest version's byte for byte is logged as unchanged and writes
nothing, a different one becomes v<N+1>.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock

from orchestration.months import add_months, month_end
from reports.disclosure import DisclosureRule
from reports.nhse_return import provenance
from reports.nhse_return.catalogue import Catalogue, load_catalogue
from reports.nhse_return.extract import MonthData, read_month
from reports.nhse_return.submission import Submission, deadline_working_day
from reports.nhse_return.validation import JumpSettings, ValidationResult, validate
from reports.nhse_return.variants import ReturnRow, Variant, build_rows
from reports.nhse_return.writers import CoverFacts, csv_bytes, json_bytes, xlsx_bytes

log = logging.getLogger(__name__)

FOLDERS = {Variant.MANAGEMENT_INFORMATION: "outbox", Variant.PUBLISHED: "published"}
LOG_NAME = "submission_log.jsonl"
VERSION_FOLDER = re.compile(r"^v(\d+)$")
STATEMENTS = {
    Variant.MANAGEMENT_INFORMATION: (
        "Management information: exact counts, no disclosure control applied. For NHS England and the "
        "commissioning organisations only; not for publication."
    ),
    Variant.PUBLISHED: (
        "Published variant: disclosure control applied below national level (reports/disclosure.py): counts of "
        "1 to {limit} suppressed, other counts rounded to the nearest {base}, rates and shares computed from the "
        "rounded figures, medians suppressed where they rest on fewer than {n} people, totals recomputed from "
        "the protected cells. Suppressed cells are empty with value_suppressed = true. England figures are exact."
    ),
}


class ReturnBlockedError(RuntimeError):
    """Validation failed: nothing was written. The message lists each organisation, measure and rule."""

    def __init__(self, month: date, validation: ValidationResult) -> None:
        self.validation = validation
        shown = validation.errors[:25]
        more = len(validation.errors) - len(shown)
        lines = "\n".join(f"  - {finding}" for finding in shown) + (f"\n  … and {more} more" if more else "")
        super().__init__(
            f"NHS England return for {month:%Y-%m} blocked: {len(validation.errors)} validation error(s); "
            f"nothing written.\n{lines}"
        )


@dataclass
class ReturnInputs:
    """Everything read from the warehouse for one month; the write step needs no connection."""

    catalogue: Catalogue
    data: MonthData
    previous: MonthData | None
    validation: ValidationResult
    source_files: list[dict[str, Any]]
    reference_files: list[dict[str, Any]]
    warehouse_assumptions: dict[str, list[str]]
    jump_settings: JumpSettings


@dataclass
class VariantResult:
    variant: Variant
    status: str  # written | unchanged
    version: int
    folder: Path
    files: dict[str, Path]
    sha256: dict[str, str]
    rows: int
    suppressed: int
    changes: dict[str, Any] = field(default_factory=dict)


def collect(
    con: duckdb.DuckDBPyConnection,
    month: date,
    catalogue: Catalogue | None = None,
    jump_settings: JumpSettings | None = None,
) -> ReturnInputs:
    """Read the month (and last month, for the jump check) from the marts and validate it."""
    catalogue = catalogue or load_catalogue()
    jump_settings = jump_settings or JumpSettings.from_environment()
    month = month.replace(day=1)
    data = read_month(con, catalogue, month)
    previous = read_month(con, catalogue, add_months(month, -1))
    previous = previous if previous.orgs else None
    validation = validate(data, previous, catalogue, jump_settings)
    for finding in validation.warnings:
        log.warning("NHS England return %s: %s", f"{month:%Y-%m}", finding)
    return ReturnInputs(
        catalogue=catalogue,
        data=data,
        previous=previous,
        validation=validation,
        source_files=provenance.source_files(con, catalogue, month),
        reference_files=provenance.reference_files(con),
        warehouse_assumptions=provenance.warehouse_assumption_versions(con),
        jump_settings=jump_settings,
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _versions(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    matches = (VERSION_FOLDER.match(path.name) for path in folder.iterdir() if path.is_dir())
    return sorted(int(match.group(1)) for match in matches if match)


def _file_names(month: date, submission: Submission, variant: Variant) -> dict[str, str]:
    stem = f"nhse_social_prescribing_{month:%Y-%m}_{submission.type.value}"
    if variant is Variant.PUBLISHED:
        stem += "_published"
    return {"csv": f"{stem}.csv", "xlsx": f"{stem}.xlsx", "manifest": "manifest.json"}


def _cell_changes(previous_csv: bytes, current_csv: bytes) -> dict[str, Any]:
    """How many cells differ from the previous version, with the first few named."""

    def cells(data: bytes) -> dict[tuple[str, str, str], tuple[str, str]]:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
        return {(r["org_type"], r["org_code"], r["measure_id"]): (r["value"], r["flags"]) for r in reader}

    before, after = cells(previous_csv), cells(current_csv)
    changed = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    examples = [
        {
            "org_type": key[0],
            "org_code": key[1],
            "measure_id": key[2],
            "previous": before.get(key, ("", ""))[0],
            "current": after.get(key, ("", ""))[0],
        }
        for key in changed[:20]
    ]
    return {"cells_changed": len(changed), "examples": examples}


def _cover(
    inputs: ReturnInputs,
    submission: Submission,
    variant: Variant,
    version: int,
    rows: list[ReturnRow],
    rule: DisclosureRule,
) -> CoverFacts:
    statement = STATEMENTS[variant].format(
        limit=rule.suppress_up_to, base=rule.rounding_base, n=rule.statistic_minimum_n
    )
    organisations = Counter(org.org_type for org in inputs.data.orgs)
    return CoverFacts(
        title=inputs.catalogue.return_name,
        month=inputs.data.month,
        month_end=month_end(inputs.data.month),
        submission=submission.type.label,
        deadline=submission.deadline,
        version=version,
        variant=variant,
        variant_statement=statement,
        organisations={kind: organisations[kind] for kind in ("england", "icb", "pcn") if organisations[kind]},
        data_rows=len(rows),
        measures=len(inputs.catalogue.measures),
        catalogue_version=inputs.catalogue.version,
        validation=inputs.validation.outcome.replace("_", " "),
        warnings=len(inputs.validation.warnings),
        suppressed=sum(row.suppressed for row in rows),
        source_files=len(inputs.source_files),
    )


def _manifest(
    inputs: ReturnInputs,
    submission: Submission,
    variant: Variant,
    version: int,
    files: dict[str, bytes],
    names: dict[str, str],
    rows: list[ReturnRow],
    rule: DisclosureRule,
    changes: dict[str, Any],
) -> dict[str, Any]:
    catalogue = inputs.catalogue
    organisations = Counter(org.org_type for org in inputs.data.orgs)
    assumptions: dict[str, Any] = {
        "catalogue_version": catalogue.version,
        "catalogue_sha256": catalogue.sha256,
        "dbt_vars": provenance.dbt_measure_vars(),
        "deadline_working_day": deadline_working_day(),
        "jump_ratio": inputs.jump_settings.ratio,
        "jump_min_change": inputs.jump_settings.min_change,
        "warehouse_assumption_versions": inputs.warehouse_assumptions,
    }
    if variant is Variant.PUBLISHED:
        assumptions["disclosure_rule"] = {
            "suppress_up_to": rule.suppress_up_to,
            "rounding_base": rule.rounding_base,
            "statistic_minimum_n": rule.statistic_minimum_n,
        }
    return {
        "return": catalogue.return_name,
        "period": f"{inputs.data.month:%Y-%m}",
        "period_start": inputs.data.month.isoformat(),
        "period_end": month_end(inputs.data.month).isoformat(),
        "submission": submission.type.value,
        "submission_deadline": submission.deadline.isoformat(),
        "version": version,
        "variant": variant.value,
        "files": [
            {
                "name": names[kind],
                "sha256": _sha256(files[kind]),
                "bytes": len(files[kind]),
                "rows": {"csv": len(rows), "xlsx": {"Data": len(rows), "Data dictionary": len(catalogue.measures)}}[
                    kind
                ],
            }
            for kind in ("csv", "xlsx")
        ],
        "row_counts": {
            "data_rows": len(rows),
            "organisations": dict(sorted(organisations.items())),
            "measures": len(catalogue.measures),
            "suppressed_cells": sum(row.suppressed for row in rows),
            "empty_cells": sum(row.value is None for row in rows),
        },
        "validation": {
            "outcome": inputs.validation.outcome,
            "errors": [str(finding) for finding in inputs.validation.errors],
            "warnings": [str(finding) for finding in inputs.validation.warnings],
        },
        "sources": {
            "marts": catalogue.marts_read(),
            "extract_files": inputs.source_files,
            "reference_files": inputs.reference_files,
        },
        "assumptions": assumptions,
        "code_version": provenance.code_version(),
        "changes_from_previous_version": changes,
    }


def _append_log(root: Path, entry: dict[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOG_NAME).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")


def _log_entry(submission: Submission, variant: Variant, validation: ValidationResult, **fields: Any) -> dict:
    return {
        "logged_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "period": f"{submission.month:%Y-%m}",
        "submission": submission.type.label,
        "variant": variant.value,
        "deadline": submission.deadline.isoformat(),
        "as_of": submission.as_of.isoformat(),
        "on_time": submission.on_time,
        "validation": validation.outcome,
        "errors": [str(finding) for finding in validation.errors[:50]],
        "warnings": len(validation.warnings),
        **fields,
    }


def _write_variant(
    inputs: ReturnInputs, submission: Submission, variant: Variant, root: Path, rule: DisclosureRule, run_id: str
) -> VariantResult:
    month = inputs.data.month
    folder = root / FOLDERS[variant] / f"{month:%Y-%m}" / submission.type.value
    names = _file_names(month, submission, variant)
    rows = build_rows(inputs.data, inputs.catalogue, variant, rule)
    data_csv = csv_bytes(rows, variant)
    versions = _versions(folder)
    latest = versions[-1] if versions else None
    if latest is not None:
        latest_folder = folder / f"v{latest}"
        same_xlsx = xlsx_bytes(rows, variant, inputs.catalogue, _cover(inputs, submission, variant, latest, rows, rule))
        stored = {kind: (latest_folder / names[kind]) for kind in ("csv", "xlsx")}
        if all(path.exists() for path in stored.values()) and (
            stored["csv"].read_bytes() == data_csv and stored["xlsx"].read_bytes() == same_xlsx
        ):
            previous_manifest = json.loads((latest_folder / names["manifest"]).read_text(encoding="utf-8"))
            sources_since = provenance.source_changes(
                previous_manifest["sources"]["extract_files"], inputs.source_files
            )
            files = {kind: path for kind, path in stored.items()} | {"manifest": latest_folder / names["manifest"]}
            sha = {path.name: _sha256(path.read_bytes()) for path in files.values()}
            _append_log(
                root,
                _log_entry(
                    submission,
                    variant,
                    inputs.validation,
                    status="unchanged",
                    version=latest,
                    files=[str(path.relative_to(root)) for path in files.values()],
                    sha256=sha,
                    run_id=run_id,
                    source_files_changed_without_effect=sum(len(v) for v in sources_since.values()),
                ),
            )
            return VariantResult(
                variant, "unchanged", latest, latest_folder, files, sha, len(rows), sum(r.suppressed for r in rows)
            )

    version = (latest or 0) + 1
    changes: dict[str, Any] = {"previous_version": latest}
    if latest is not None:
        latest_folder = folder / f"v{latest}"
        previous_manifest = json.loads((latest_folder / names["manifest"]).read_text(encoding="utf-8"))
        changes["source_files"] = provenance.source_changes(
            previous_manifest["sources"]["extract_files"], inputs.source_files
        )
        before_reference = {
            (e["kind"], e["file_name"]): e["sha256"] for e in previous_manifest["sources"]["reference_files"]
        }
        changes["reference_files_changed"] = sorted(
            f"{e['kind']}: {e['file_name']}"
            for e in inputs.reference_files
            if before_reference.get((e["kind"], e["file_name"])) != e["sha256"]
        )
        changes["catalogue_version"] = {
            "previous": previous_manifest["assumptions"]["catalogue_version"],
            "current": inputs.catalogue.version,
        }
        changes.update(_cell_changes((latest_folder / names["csv"]).read_bytes(), data_csv))
    files = {
        "csv": data_csv,
        "xlsx": xlsx_bytes(rows, variant, inputs.catalogue, _cover(inputs, submission, variant, version, rows, rule)),
    }
    manifest = _manifest(inputs, submission, variant, version, files, names, rows, rule, changes)
    files["manifest"] = json_bytes(manifest)

    target = folder / f"v{version}"
    staging = folder / f".v{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for kind, data in files.items():
        (staging / names[kind]).write_bytes(data)
    os.replace(staging, target)  # the version appears whole or not at all
    paths = {kind: target / names[kind] for kind in files}
    sha = {names[kind]: _sha256(data) for kind, data in files.items()}
    _append_log(
        root,
        _log_entry(
            submission,
            variant,
            inputs.validation,
            status="written",
            version=version,
            files=[str(path.relative_to(root)) for path in paths.values()],
            sha256=sha,
            run_id=run_id,
            cells_changed=changes.get("cells_changed"),
        ),
    )
    return VariantResult(
        variant, "written", version, target, paths, sha, len(rows), sum(r.suppressed for r in rows), changes
    )


def write_return(
    inputs: ReturnInputs,
    submission: Submission,
    output_root: Path,
    variants: tuple[Variant, ...] = (Variant.MANAGEMENT_INFORMATION,),
    rule: DisclosureRule | None = None,
    run_id: str = "",
) -> list[VariantResult]:
    """Write each variant to the outbox (or recognise it unchanged); blocked when validation failed."""
    rule = rule or DisclosureRule.from_environment()
    output_root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(output_root / ".outbox.lock"), timeout=600):
        if not inputs.validation.passed:
            for variant in variants:
                _append_log(
                    output_root,
                    _log_entry(submission, variant, inputs.validation, status="blocked", version=None, run_id=run_id),
                )
            raise ReturnBlockedError(inputs.data.month, inputs.validation)
        return [_write_variant(inputs, submission, variant, output_root, rule, run_id) for variant in variants]


def read_submission_log(output_root: Path) -> list[dict[str, Any]]:
    path = output_root / LOG_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
