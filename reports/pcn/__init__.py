"""Monthly PCN reports and ICB summaries (HTML + PDF): data layer (data.py, disclosure applied once, in
figures.py), rendering (render.py, charts.py, templates/) and writers (writer.py)."""

from reports.pcn.writer import (
    MonthReports,
    build_month_reports,
    load_month,
    print_reports,
    report_folders,
    write_month_reports,
)

__all__ = [
    "MonthReports",
    "build_month_reports",
    "load_month",
    "print_reports",
    "report_folders",
    "write_month_reports",
]
