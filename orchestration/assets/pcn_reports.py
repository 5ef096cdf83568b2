"""The monthly PCN reports and ICB summaries as Dagster assets, HTML then PDF; `sprx report` runs them too."""

import dagster as dg
from pydantic import Field

from orchestration.months import months_between
from orchestration.partitions import monthly_partitions, window_months
from orchestration.resources import WarehouseResource
from orchestration.settings import get_settings

# The marts the reports read. The outcome and SROI tables are optional: a report says "not yet
# available" while they are missing, and picks them up once they are built.
REPORT_MARTS = (
    "referral_measures_monthly",
    "referral_measures_rolling_12m",
    "referral_source_mix",
    "referral_reason_mix",
    "fct_referrals",
    "equity_referrals",
    "utilisation_gp_appointments",
    "data_quality_submitter_monthly",
    "data_quality_rejection_reasons",
    "data_quality_field_completeness",
    "outcome_pairs",
    "outcome_statistics",
    "sroi_pcn_financial_year",
    "sroi_walk",
    "health_benefit_pcn_financial_year",
)
PCN_REPORTS_KEY = dg.AssetKey(["reports", "pcn_monthly_reports"])
PCN_REPORT_PDFS_KEY = dg.AssetKey(["reports", "pcn_report_pdfs"])


class PcnReportConfig(dg.Config):
    """Which PCNs (none given: every PCN, plus the ICB summaries)."""

    pcn_codes: list[str] = Field(default_factory=list)


class PcnReportPdfConfig(dg.Config):
    """Which PCNs to print (none given: every report written, ICB summaries included), and whether a run over a
    range of months (a backfill) prints every month. By default it prints the last month only: a PDF takes
    seconds, and a backfill over years would spend most of its time re-printing history nobody circulates."""

    pcn_codes: list[str] = Field(default_factory=list)
    every_month_of_a_range: bool = False


@dg.asset(
    key=PCN_REPORTS_KEY,
    deps=[dg.AssetKey(["marts", name]) for name in REPORT_MARTS],
    group_name="reports",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    owners=["team:data-engineering"],
    description=(
        "Monthly report per PCN and summary per ICB as HTML (charts embedded), with disclosure control, in "
        "$SPRX_OUTPUT/reports/pcn/<YYYY-MM>/<pcn_code>.html and reports/icb/<YYYY-MM>/<icb_code>.html; "
        "rendered across $SPRX_WORKERS processes (default: one per core)."
    ),
)
def pcn_monthly_reports(
    context: dg.AssetExecutionContext, config: PcnReportConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    from reports.pcn import load_month, write_month_reports

    start, end = window_months(context)
    output = get_settings().output
    files: list[str] = []
    pcns: set[str] = set()
    icbs: set[str] = set()
    for month in months_between(start, end):
        with warehouse.reader() as con:  # read everything, then let go of the file before rendering
            loaded = load_month(con, month)
        written = write_month_reports(loaded, output, config.pcn_codes or None, with_pdf=False)
        files += [str(path) for path in written.files]
        pcns |= set(written.pcn_codes)
        icbs |= set(written.icb_codes)
        context.log.info(f"{month:%Y-%m}: {len(written.pcn_codes)} PCN report(s), {len(written.icb_codes)} ICB summary")
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.json(files),
            "files_written": len(files),
            "pcn_count": len(pcns),
            "icb_count": len(icbs),
            "folder": dg.MetadataValue.path(str(output / "reports")),
        }
    )


@dg.asset(
    key=PCN_REPORT_PDFS_KEY,
    deps=[PCN_REPORTS_KEY],
    group_name="reports",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    owners=["team:data-engineering"],
    description=(
        "The PDF (A4, page numbers) of each PCN report and ICB summary, printed from its HTML with WeasyPrint "
        "across $SPRX_WORKERS processes, next to it: <code>.pdf. A range prints its last month unless asked."
    ),
)
def pcn_report_pdfs(context: dg.AssetExecutionContext, config: PcnReportPdfConfig) -> dg.MaterializeResult:
    from reports.pcn import print_reports, report_folders

    start, end = window_months(context)
    output = get_settings().output
    months = months_between(start, end)
    wanted = {code.strip().upper() for code in config.pcn_codes}
    files: list[str] = []
    for month in months if config.every_month_of_a_range else months[-1:]:
        pcn_folder, icb_folder = report_folders(output, month)
        html = [
            path
            for folder in (pcn_folder, icb_folder)
            if folder.is_dir()
            for path in sorted(folder.glob("*.html"))
            if not wanted or path.stem in wanted
        ]
        missing = sorted(wanted - {path.stem for path in html})
        if not html or missing:
            raise FileNotFoundError(
                f"no HTML report to print for {', '.join(missing) or 'any PCN'} in {pcn_folder}: "
                "the pcn_monthly_reports asset writes them"
            )
        printed = print_reports(html)
        files += [str(path) for path in printed]
        context.log.info(f"{month:%Y-%m}: {len(printed)} PDF(s) printed")
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.json(files),
            "files_written": len(files),
            "folder": dg.MetadataValue.path(str(output / "reports")),
        }
    )
