"""The monthly PCN reports and ICB summaries (HTML + PDF) as a Dagster asset; `sprx report` runs it too."""

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


class PcnReportConfig(dg.Config):
    """Run options: which PCNs (none given: every PCN, plus the ICB summaries) and whether to write PDFs.

    A run over a range of months (a backfill) writes the HTML of every month but, unless asked, the PDFs of
    the last month only: rendering a PDF takes seconds per PCN, and a backfill over years would spend most
    of its time re-printing history nobody circulates. A one-month run (the scheduled cycle, `sprx report`)
    always writes them.
    """

    pcn_codes: list[str] = Field(default_factory=list)
    pdf: bool = True
    pdf_for_every_month_of_a_range: bool = False


@dg.asset(
    key=PCN_REPORTS_KEY,
    deps=[dg.AssetKey(["marts", name]) for name in REPORT_MARTS],
    group_name="reports",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    owners=["team:data-engineering"],
    description=(
        "Monthly report per PCN and summary per ICB, HTML (charts embedded) and PDF, with disclosure control, in "
        "$SPRX_OUTPUT/reports/pcn/<YYYY-MM>/<pcn_code>.html|.pdf and reports/icb/<YYYY-MM>/<icb_code>.html|.pdf."
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
    months = months_between(start, end)
    for month in months:
        with warehouse.reader() as con:  # read everything, then let go of the file before rendering
            loaded = load_month(con, month)
        with_pdf = config.pdf and (config.pdf_for_every_month_of_a_range or month == months[-1])
        written = write_month_reports(loaded, output, config.pcn_codes or None, with_pdf=with_pdf)
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
