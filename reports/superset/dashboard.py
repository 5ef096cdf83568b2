"""The "Social prescribing — PCN overview" dashboard, defined in code and published with the client.

Every chart reads a table of the serving copy (reports/superset/serving.py), never the warehouse. Each
chart is described once (`ChartSpec`): its Superset form data (what the UI draws) and its query context
(what `POST /api/v1/chart/data` runs, e.g. for the tests, reports and alerts) are both derived from it.
The native filters ICB, PCN and financial year act on the `icb_code`, `pcn_code` and `financial_year`
columns, which every serving table has. Charts whose serving table is not in the copy yet (the outcome
and SROI marts before they are built) are left out and reported, so the rest of the dashboard publishes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from reports.superset.client import SupersetClient, SupersetObject
from reports.superset.serving import (
    DATA_QUALITY_SUBMITTER_MONTHLY,
    REFERRAL_REASONS_PCN_FINANCIAL_YEAR,
    REFERRALS_PCN_MONTHLY,
    REFERRALS_PRACTICE_FINANCIAL_YEAR,
    SERVING_SCHEMA,
    SERVING_TABLES,
    SROI_PCN_FINANCIAL_YEAR,
    WELLBEING_CHANGE_PCN_FINANCIAL_YEAR,
    ServingTable,
)

log = logging.getLogger(__name__)

DASHBOARD_TITLE = "Social prescribing — PCN overview"
DASHBOARD_SLUG = "sprx-pcn-overview"
DATABASE_NAME = "sprx serving copy (disclosure-controlled)"
ROW_LIMIT = 10000
DISCLOSURE_NOTE = (
    "### About these figures\n"
    "Counts of 1–7 people are suppressed (shown blank) and other counts are rounded to the nearest 5; rates "
    "and percentages are worked out from the rounded figures, and averages and other statistics based on 7 "
    "or fewer people are suppressed. Figures come from the sprx warehouse's monthly build "
    "(serving copy, refreshed after every build)."
)


@dataclass(frozen=True)
class Metric:
    """An aggregate of one column (a Superset 'simple' ad-hoc metric)."""

    aggregate: str
    column: str
    label: str

    def adhoc(self) -> dict[str, Any]:
        return {
            "expressionType": "SIMPLE",
            "column": {"column_name": self.column},
            "aggregate": self.aggregate,
            "label": self.label,
            "optionName": f"metric_{self.aggregate.lower()}_{self.column}",
            "hasCustomLabel": True,
        }


@dataclass(frozen=True)
class ChartSpec:
    """One chart: the serving table it reads, its dimensions and metrics, and how Superset draws it."""

    key: str  # stable name: the chart's uuid is uuid5 of it, so renaming the title keeps the same chart
    title: str
    description: str
    table: ServingTable
    viz_type: str
    metrics: tuple[Metric, ...]
    dimensions: tuple[str, ...]  # x axis first for the bar and line charts
    width: int = 6  # of the dashboard grid's 12 columns
    height: int = 50
    form_options: Mapping[str, Any] = field(default_factory=dict)

    def form_data(self, dataset_id: int) -> dict[str, Any]:
        """The chart's `params`, as Superset's explore view would save them."""
        base: dict[str, Any] = {
            "datasource": f"{dataset_id}__table",
            "viz_type": self.viz_type,
            "adhoc_filters": [],
            "row_limit": ROW_LIMIT,
            "color_scheme": "supersetColors",
        }
        metrics = [metric.adhoc() for metric in self.metrics]
        if self.viz_type == "table":
            base |= {"query_mode": "aggregate", "groupby": list(self.dimensions), "metrics": metrics}
            base |= {"order_desc": False, "timeseries_limit_metric": metrics[0], "server_pagination": False}
        elif self.viz_type == "pie":
            base |= {"groupby": list(self.dimensions), "metric": metrics[0], "show_labels": True}
        else:
            base |= {"x_axis": self.dimensions[0], "groupby": list(self.dimensions[1:]), "metrics": metrics}
            base |= {"show_legend": True, "rich_tooltip": True, "truncate_metric": True}
        return base | dict(self.form_options)

    def query_context(self, dataset_id: int) -> dict[str, Any]:
        """What `POST /api/v1/chart/data` runs for this chart: one aggregate query over the serving table."""
        metrics = [metric.adhoc() for metric in self.metrics]
        return {
            "datasource": {"id": dataset_id, "type": "table"},
            "force": False,
            "queries": [
                {
                    "columns": list(self.dimensions),
                    "metrics": metrics,
                    "orderby": [[column, True] for column in self.dimensions],
                    "filters": [],
                    "extras": {"having": "", "where": ""},
                    "row_limit": ROW_LIMIT,
                    "series_limit": 0,
                    "order_desc": True,
                    "annotation_layers": [],
                    "url_params": {},
                    "custom_params": {},
                    "custom_form_data": {},
                }
            ],
            "form_data": self.form_data(dataset_id),
            "result_format": "json",
            "result_type": "full",
        }


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        key="referrals_trend_by_pcn",
        title="Referrals per month by PCN",
        description="Referrals received by link-worker services per month, per PCN (rounded to 5; 1–7 blank).",
        table=REFERRALS_PCN_MONTHLY,
        viz_type="echarts_timeseries_line",
        metrics=(Metric("SUM", "referrals_received", "Referrals received"),),
        dimensions=("month_start", "pcn_label"),
        form_options={"time_grain_sqla": "P1M", "x_axis_title": "Month", "y_axis_title": "Referrals"},
    ),
    ChartSpec(
        key="referral_rate_by_practice",
        title="Referrals per 1,000 registered patients by practice",
        description="Referrals in the financial year (to date) per 1,000 registered patients, per practice.",
        table=REFERRALS_PRACTICE_FINANCIAL_YEAR,
        viz_type="echarts_timeseries_bar",
        metrics=(Metric("MAX", "referrals_per_1000_patients", "Referrals per 1,000 patients"),),
        dimensions=("practice_label", "financial_year"),
        form_options={"orientation": "horizontal", "x_axis_title": "Practice"},
        height=70,
    ),
    ChartSpec(
        key="referral_reasons",
        title="Why people were referred",
        description="Referrals giving each reason (a referral can give several), summed over the PCNs selected.",
        table=REFERRAL_REASONS_PCN_FINANCIAL_YEAR,
        viz_type="echarts_timeseries_bar",
        metrics=(Metric("SUM", "referrals_with_reason", "Referrals giving the reason"),),
        dimensions=("referral_reason_name",),
        form_options={"orientation": "horizontal"},
    ),
    ChartSpec(
        key="days_to_first_contact",
        title="Median days from referral to first contact",
        description="Median days from referral to the first link-worker contact, per PCN and month "
        "(blank where 7 or fewer people were seen).",
        table=REFERRALS_PCN_MONTHLY,
        viz_type="echarts_timeseries_line",
        metrics=(Metric("MAX", "median_days_to_first_contact", "Median days to first contact"),),
        dimensions=("month_start", "pcn_label"),
        form_options={"time_grain_sqla": "P1M", "x_axis_title": "Month", "y_axis_title": "Days"},
    ),
    ChartSpec(
        key="wellbeing_change_by_instrument",
        title="Wellbeing change by instrument",
        description="Mean change from baseline to follow-up per measure, PCN and financial year of the follow-up "
        "(blank on 7 or fewer pairs). Higher is better except for ONS4 anxiety and UCLA3 loneliness.",
        table=WELLBEING_CHANGE_PCN_FINANCIAL_YEAR,
        viz_type="echarts_timeseries_bar",
        metrics=(Metric("MAX", "mean_change", "Mean change"),),
        dimensions=("measure", "pcn_label", "financial_year"),
    ),
    ChartSpec(
        key="sroi_by_pcn",
        title="Social return on investment by PCN",
        description="£ of social value per £1 invested, per PCN and financial year, low / central / high scenarios.",
        table=SROI_PCN_FINANCIAL_YEAR,
        viz_type="echarts_timeseries_bar",
        metrics=(Metric("MAX", "sroi_ratio", "SROI ratio"),),
        dimensions=("pcn_label", "financial_year", "scenario"),
    ),
    ChartSpec(
        key="data_quality_by_submitter",
        title="Data quality by submitter",
        description="Average monthly data quality score (0–100) and its components per practice and provider, "
        "worst first.",
        table=DATA_QUALITY_SUBMITTER_MONTHLY,
        viz_type="table",
        metrics=(
            Metric("AVG", "data_quality_score", "Data quality score"),
            Metric("AVG", "validity_score", "Validity"),
            Metric("AVG", "completeness_score", "Completeness"),
            Metric("AVG", "timeliness_score", "Timeliness"),
            Metric("AVG", "concordance_score", "Coding concordance"),
        ),
        dimensions=("submitter_code", "submitter_type"),
        width=12,
    ),
)

FILTER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("NATIVE_FILTER-sprx-icb", "ICB", "icb_code"),
    ("NATIVE_FILTER-sprx-pcn", "PCN", "pcn_code"),
    ("NATIVE_FILTER-sprx-period", "Financial year", "financial_year"),
)


def native_filters(dataset_id: int, chart_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Select filters for ICB, PCN (narrowed by the ICB chosen) and financial year, over every chart.

    Their values are read from the PCN monthly table, which has every PCN, ICB and year; they apply by
    column name to every chart, since every serving table has the three columns.
    """
    filters = []
    for filter_id, name, column in FILTER_COLUMNS:
        filters.append(
            {
                "id": filter_id,
                "name": name,
                "type": "NATIVE_FILTER",
                "filterType": "filter_select",
                "targets": [{"datasetId": dataset_id, "column": {"name": column}}],
                "controlValues": {
                    "enableEmptyFilter": False,
                    "defaultToFirstItem": False,
                    "multiSelect": True,
                    "searchAllOptions": False,
                    "inverseSelection": False,
                },
                "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
                "cascadeParentIds": ["NATIVE_FILTER-sprx-icb"] if column == "pcn_code" else [],
                "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                "chartsInScope": list(chart_ids),
                "tabsInScope": [],
                "description": f"Show only the selected {name}(s).",
            }
        )
    return filters


def dashboard_layout(charts: Sequence[tuple[ChartSpec, SupersetObject]]) -> dict[str, Any]:
    """`position_json`: a note on disclosure control, then the charts in rows of up to 12 grid columns."""
    layout: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": DASHBOARD_TITLE}},
    }

    def add_row(number: int) -> str:
        row_id = f"ROW-sprx-{number}"
        layout[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        layout["GRID_ID"]["children"].append(row_id)
        return row_id

    row = add_row(0)
    layout["MARKDOWN-sprx-disclosure"] = {
        "type": "MARKDOWN",
        "id": "MARKDOWN-sprx-disclosure",
        "children": [],
        "parents": ["ROOT_ID", "GRID_ID", row],
        "meta": {"code": DISCLOSURE_NOTE, "width": 12, "height": 20},
    }
    layout[row]["children"].append("MARKDOWN-sprx-disclosure")
    used = 12
    for spec, chart in charts:
        if used + spec.width > 12:
            row, used = add_row(len(layout["GRID_ID"]["children"])), 0
        element_id = f"CHART-sprx-{spec.key}"
        layout[element_id] = {
            "type": "CHART",
            "id": element_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID", row],
            "meta": {
                "chartId": chart.id,
                "uuid": chart.uuid,
                "sliceName": spec.title,
                "width": spec.width,
                "height": spec.height,
            },
        }
        layout[row]["children"].append(element_id)
        used += spec.width
    return layout


@dataclass
class PublishedDashboard:
    """What a publish created or updated, the charts it left out (and why), the URL and how long it took."""

    url: str
    database: SupersetObject
    dashboard: SupersetObject
    datasets: dict[str, SupersetObject]
    charts: dict[str, SupersetObject]
    charts_left_out: dict[str, str]
    seconds: float

    @property
    def created(self) -> int:
        objects = [self.database, self.dashboard, *self.datasets.values(), *self.charts.values()]
        return sum(item.created for item in objects)


def serving_tables_present(serving_file: Path) -> set[str]:
    """The serving tables in the copy (a read-only look: readers do not block each other)."""
    with duckdb.connect(str(serving_file), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SERVING_SCHEMA]
        ).fetchall()
    return {name for (name,) in rows}


def database_uri(serving_file: Path) -> str:
    """An absolute path (four slashes) opened read-only: a read-write URI would silently create a missing file."""
    return f"duckdb:///{serving_file.resolve()}?access_mode=read_only"


def publish_dashboard(client: SupersetClient, serving_file: Path) -> PublishedDashboard:
    """Upsert the database, a dataset per serving table, the charts and the dashboard; attach the charts."""
    started = time.perf_counter()
    if not serving_file.exists():
        raise FileNotFoundError(f"No serving copy at {serving_file}: materialise publication/serving_copy first")
    present = serving_tables_present(serving_file)
    database = client.upsert_database(DATABASE_NAME, database_uri(serving_file))
    datasets: dict[str, SupersetObject] = {}
    for table in SERVING_TABLES:
        if table.name in present:
            datasets[table.name] = client.upsert_dataset(
                database,
                SERVING_SCHEMA,
                table.name,
                description=table.description,
                column_metadata={
                    column.name: {"verbose_name": column.heading, "description": column.description}
                    for column in table.columns
                },
            )
    charts: list[tuple[ChartSpec, SupersetObject]] = []
    left_out: dict[str, str] = {}
    for spec in CHARTS:
        dataset = datasets.get(spec.table.name)
        if dataset is None:
            left_out[spec.key] = f"{SERVING_SCHEMA}.{spec.table.name} is not in the serving copy yet"
            log.warning("chart %s left out: %s", spec.key, left_out[spec.key])
            continue
        chart = client.upsert_chart(
            spec.key,
            spec.title,
            dataset,
            spec.viz_type,
            spec.form_data(dataset.id),
            spec.query_context(dataset.id),
            description=spec.description,
        )
        charts.append((spec, chart))
    filter_dataset = datasets.get(REFERRALS_PCN_MONTHLY.name)
    if filter_dataset is None:
        raise ValueError(
            f"{serving_file} has no {SERVING_SCHEMA}.{REFERRALS_PCN_MONTHLY.name}: the dashboard's ICB, PCN and year "
            "filters read it. Rebuild the serving copy from a built warehouse (materialise publication/serving_copy)"
        )
    metadata = {
        "native_filter_configuration": native_filters(filter_dataset.id, [chart.id for _, chart in charts]),
        "color_scheme": "supersetColors",
        "refresh_frequency": 0,
        "cross_filters_enabled": False,
        "expanded_slices": {},
        "label_colors": {},
        "timed_refresh_immune_slices": [],
        "default_filters": "{}",
    }
    dashboard = client.upsert_dashboard(DASHBOARD_TITLE, DASHBOARD_SLUG, dashboard_layout(charts), metadata)
    client.attach_charts(dashboard, [chart for _, chart in charts])
    return PublishedDashboard(
        url=f"{client.base_url}/superset/dashboard/{DASHBOARD_SLUG}/",
        database=database,
        dashboard=dashboard,
        datasets=datasets,
        charts={spec.key: chart for spec, chart in charts},
        charts_left_out=left_out,
        seconds=time.perf_counter() - started,
    )
