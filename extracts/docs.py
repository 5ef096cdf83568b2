"""Markdown documentation of the extract contracts, built from the YAML so it cannot drift."""

from __future__ import annotations

from extracts.contract import Column, load_contracts, load_reason_codes, load_workbooks

DOCS_FILE_NAME = "tables.md"


def _rules(column: Column) -> str:
    parts = []
    if column.pattern:
        parts.append(f"pattern `{column.pattern}`")
    if column.allowed:
        joined = ", ".join(f"`{v}`" for v in column.allowed)
        parts.append(f"one or more of {joined} separated by `{column.multi}`" if column.multi else f"one of {joined}")
    if column.min is not None or column.max is not None:
        parts.append(f"{column.min:g} to {column.max:g}")
    if column.max_length:
        parts.append(f"at most {column.max_length} characters")
    if column.date_rule:
        parts.append(
            {
                "in_period": "inside the reporting month",
                "not_after_period": "on or before the month's end",
                "past": "not in the future",
            }[column.date_rule]
        )
    if column.references:
        parts.append(f"must exist in reference data ({column.references})")
    if column.type == "nhs_number":
        parts.append("10 digits, modulus 11; pseudonymised on load")
    if column.type == "snomed":
        parts.append("Verhoeff check digit")
    return "; ".join(parts)


def contracts_markdown() -> str:
    lines = [
        "# Extract tables",
        "",
        "Generated from `extracts/contracts/*.yml` by `sprx contracts docs`: do not edit.",
        "",
    ]
    for contract in load_contracts().values():
        lines += [
            f"## {contract.table}",
            "",
            contract.description,
            "",
            f"File name: `{contract.table}_{{{contract.submitter_type} code}}_{{YYYYMM}}.csv` (or `.xlsx`). "
            f"`{contract.submitter_column}` must equal the submitter."
            + (f" Unique within a file: {', '.join(contract.key)}." if contract.key else ""),
            "",
            "| column | type | required | rules | example |",
            "| --- | --- | --- | --- | --- |",
        ]
        for column in contract.columns:
            lines.append(
                f"| `{column.name}` | {column.type} | {'yes' if column.required else 'no'} | "
                f"{_rules(column)} | `{column.example}` |"
            )
        for rule in contract.rules:
            if rule["kind"] == "not_before":
                lines.append(f"\n- `{rule['column']}` must not be before `{rule['other']}`.")
            elif rule["kind"] == "required_with":
                lines.append(f"\n- `{rule['column']}` is required when `{rule['other']}` is given.")
            elif rule["kind"] == "instrument_items":
                for instrument in contract.instruments.values():
                    lines.append(
                        f"\n- {instrument.name}: items 1–{instrument.items} filled, each "
                        f"{instrument.min}–{instrument.max}" + ("; eq5d_vas 0–100" if instrument.vas else "")
                    )
        lines.append("")
    lines += ["## Workbooks", "", "| workbook | required sheets | optional sheets |", "| --- | --- | --- |"]
    for workbook in load_workbooks().values():
        lines.append(
            f"| `{workbook.name}_{{code}}_{{YYYYMM}}.xlsx` | {', '.join(workbook.required_sheets)} | "
            f"{', '.join(workbook.optional_sheets)} |"
        )
    lines += ["", "## Reason codes", ""]
    for level, codes in load_reason_codes().items():
        lines += [f"### {level}", "", "| code | meaning |", "| --- | --- |"]
        lines += [f"| `{code}` | {text} |" for code, text in codes.items()]
        lines.append("")
    return "\n".join(lines)
