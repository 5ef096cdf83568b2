"""The dashboard definition, checked without a server: every chart reads columns its serving table has, the
layout fits Superset's 12-column grid, and the filters cover every chart."""

from __future__ import annotations

import pytest

from reports.superset.client import SupersetObject, stable_uuid
from reports.superset.dashboard import CHARTS, DISCLOSURE_NOTE, dashboard_layout, native_filters, publish_dashboard


@pytest.mark.parametrize("spec", CHARTS, ids=lambda spec: spec.key)
def test_every_chart_reads_columns_its_serving_table_has(spec):
    columns = {column.name: column.type for column in spec.table.columns}
    assert set(spec.dimensions) <= set(columns), spec.key
    for metric in spec.metrics:
        assert columns[metric.column] in {"BIGINT", "DOUBLE"}, (spec.key, metric.column)
    query = spec.query_context(41)["queries"][0]
    assert query["columns"] == list(spec.dimensions)
    assert [m["column"]["column_name"] for m in query["metrics"]] == [m.column for m in spec.metrics]
    form = spec.form_data(41)
    assert form["datasource"] == "41__table" and form["viz_type"] == spec.viz_type


def test_the_dashboard_has_the_charts_the_issue_asks_for():
    assert [spec.key for spec in CHARTS] == [
        "referrals_trend_by_pcn",
        "referral_rate_by_practice",
        "referral_reasons",
        "days_to_first_contact",
        "wellbeing_change_by_instrument",
        "sroi_by_pcn",
        "data_quality_by_submitter",
    ]
    assert len({spec.title for spec in CHARTS}) == len(CHARTS)


def test_layout_rows_fit_the_grid_and_hold_every_chart_once():
    charts = [
        (spec, SupersetObject("chart", n, stable_uuid("chart", spec.key), spec.title, True))
        for n, spec in enumerate(CHARTS, start=1)
    ]
    layout = dashboard_layout(charts)
    rows = [layout[row_id] for row_id in layout["GRID_ID"]["children"]]
    for row in rows:
        assert sum(layout[child]["meta"]["width"] for child in row["children"]) <= 12
    placed = [layout[child]["meta"] for row in rows for child in row["children"] if child.startswith("CHART-")]
    assert [(meta["chartId"], meta["uuid"]) for meta in placed] == [(chart.id, chart.uuid) for _, chart in charts]
    assert layout[rows[0]["children"][0]]["meta"]["code"] == DISCLOSURE_NOTE
    for element_id, element in layout.items():
        if isinstance(element, dict) and element_id not in {"ROOT_ID", "HEADER_ID"}:
            assert all(parent in layout for parent in element["parents"]), element_id


def test_filters_are_icb_then_pcn_narrowed_by_icb_then_year_over_every_chart():
    filters = native_filters(5, [1, 2, 3])
    assert [(f["name"], f["targets"], f["cascadeParentIds"]) for f in filters] == [
        ("ICB", [{"datasetId": 5, "column": {"name": "icb_code"}}], []),
        ("PCN", [{"datasetId": 5, "column": {"name": "pcn_code"}}], ["NATIVE_FILTER-sprx-icb"]),
        ("Financial year", [{"datasetId": 5, "column": {"name": "financial_year"}}], []),
    ]
    assert all(f["chartsInScope"] == [1, 2, 3] and f["id"].startswith("NATIVE_FILTER-") for f in filters)


def test_publishing_without_a_serving_copy_names_the_missing_file(tmp_path):
    missing = tmp_path / "serving" / "sprx_serving.duckdb"
    with pytest.raises(FileNotFoundError, match=r"No serving copy at .*sprx_serving\.duckdb"):
        publish_dashboard(None, missing)  # type: ignore[arg-type]  # fails before any request
