"""Publishing the demo marts to a real Apache Superset (tests/superset_server.py starts one per session).

`sprx publish` runs the `publish` job through Dagster against the session's demo warehouse: it writes the
serving copy and upserts the database, datasets, charts and dashboard. Then: a second publish makes no
duplicates; every chart's stored query, run by `POST /api/v1/chart/data`, returns what the serving copy
holds (also under the ICB, PCN and year filters); an export bundle re-imports after everything was deleted;
and a wrong password, a server that is down and a 422 each give a clear error.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from reports.superset.client import SupersetClient, SupersetCredentials, SupersetError, stable_uuid
from reports.superset.dashboard import (
    CHARTS,
    DASHBOARD_SLUG,
    DATABASE_NAME,
    ChartSpec,
    database_uri,
    publish_dashboard,
    serving_tables_present,
)
from reports.superset.serving import SERVING_SCHEMA
from tests.superset_server import SupersetServer, free_port, superset_server  # noqa: F401 (session fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(superset_server: SupersetServer, demo_pipeline: dict, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    """`sprx publish` once, with the demo warehouse and a private output folder and Dagster instance."""
    root = tmp_path_factory.mktemp("superset_publish")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPRX_WAREHOUSE", str(demo_pipeline["warehouse"]))
        patch.setenv("SPRX_LANDING", str(demo_pipeline["landing"]))
        patch.setenv("SPRX_OUTPUT", str(root / "output"))
        patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        patch.setenv("SUPERSET_URL", superset_server.url)
        patch.setenv("SUPERSET_USERNAME", superset_server.username)
        patch.setenv("SUPERSET_PASSWORD", superset_server.password)
        started = time.perf_counter()
        outcome = CliRunner().invoke(app, ["publish"])
        seconds = time.perf_counter() - started
    assert outcome.exit_code == 0, outcome.output
    print(f"\n`sprx publish` (serving copy + Superset upserts through Dagster) took {seconds:.1f} s")
    client = SupersetClient(
        SupersetCredentials(superset_server.url, superset_server.username, superset_server.password)
    )
    serving = root / "output" / "serving" / "sprx_serving.duckdb"
    return {"client": client, "serving": serving, "output": outcome.output, "root": root}


def present_charts(serving: Path) -> list[ChartSpec]:
    tables = serving_tables_present(serving)
    return [spec for spec in CHARTS if spec.table.name in tables]


def object_id(client: SupersetClient, resource: str, uuid: str) -> int:
    found = client.find(resource, [("uuid", "eq", uuid)])
    assert len(found) == 1, (resource, uuid, found)
    return int(found[0]["id"])


def counts(client: SupersetClient) -> dict[str, int]:
    return {resource: client.get_json(f"/api/v1/{resource}/")["count"] for resource in ("database", "dataset", "chart")}


def test_sprx_publish_creates_the_database_datasets_charts_and_dashboard(published):
    client: SupersetClient = published["client"]
    serving: Path = published["serving"]
    assert f"Dashboard {client.base_url}/superset/dashboard/{DASHBOARD_SLUG}/" in published["output"].replace("\n", "")

    database_id = object_id(client, "database", stable_uuid("database", DATABASE_NAME))
    database = client.get_json(f"/api/v1/database/{database_id}/connection")["result"]
    assert database["sqlalchemy_uri"] == database_uri(serving) == f"duckdb:///{serving}?access_mode=read_only"
    assert database["sqlalchemy_uri"].startswith("duckdb:////")
    assert not database["allow_dml"]

    tables = serving_tables_present(serving)
    for table in tables - {"about"}:
        dataset_id = object_id(client, "dataset", stable_uuid("dataset", f"{DATABASE_NAME}:{SERVING_SCHEMA}.{table}"))
        dataset = client.get_json(f"/api/v1/dataset/{dataset_id}")["result"]
        assert (dataset["schema"], dataset["table_name"], dataset["database"]["id"]) == (
            SERVING_SCHEMA,
            table,
            database_id,
        )

    specs = present_charts(serving)
    assert len(specs) >= 5  # the five referral and data-quality charts; outcome and SROI ones when built
    chart_ids = {spec.key: object_id(client, "chart", stable_uuid("chart", spec.key)) for spec in specs}
    left_out = [spec.key for spec in CHARTS if spec not in specs]
    print(f"\ncharts published: {sorted(chart_ids)}; left out (serving table not built yet): {left_out}")

    dashboard = client.get_json(f"/api/v1/dashboard/{DASHBOARD_SLUG}")["result"]
    assert dashboard["dashboard_title"] == "Social prescribing — PCN overview" and dashboard["published"]
    layout = json.loads(dashboard["position_json"])
    placed = {
        item["meta"]["chartId"]: item["meta"]["uuid"]
        for item in layout.values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }
    assert placed == {chart_ids[spec.key]: stable_uuid("chart", spec.key) for spec in specs}
    attached = {chart["id"] for chart in client.get_json(f"/api/v1/dashboard/{dashboard['id']}/charts")["result"]}
    assert attached == set(chart_ids.values())

    filters = json.loads(dashboard["json_metadata"])["native_filter_configuration"]
    assert [(f["name"], f["targets"][0]["column"]["name"]) for f in filters] == [
        ("ICB", "icb_code"),
        ("PCN", "pcn_code"),
        ("Financial year", "financial_year"),
    ]
    assert {tuple(f["chartsInScope"]) for f in filters} == {tuple(chart_ids[spec.key] for spec in specs)}


def test_a_second_publish_creates_no_duplicates(published):
    client: SupersetClient = published["client"]
    before = counts(client)
    dashboard_before = client.get_json(f"/api/v1/dashboard/{DASHBOARD_SLUG}")["result"]["id"]
    again = publish_dashboard(client, published["serving"])
    print(f"\nsecond publish (client only, all updates) took {again.seconds:.1f} s")
    assert again.created == 0
    assert counts(client) == before
    assert again.dashboard.id == dashboard_before
    for spec in present_charts(published["serving"]):
        assert len(client.find("chart", [("slice_name", "eq", spec.title)])) == 1, spec.title
    assert (
        client.get_json("/api/v1/dashboard/", q=f"(filters:!((col:slug,opr:eq,value:'{DASHBOARD_SLUG}')))")["count"]
        == 1
    )


def as_json_value(value: Any) -> Any:
    """A serving-copy value as Superset's JSON result gives it: dates as epoch milliseconds, floats rounded."""
    if isinstance(value, date):
        return float(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    if isinstance(value, float):
        return round(value, 6)
    return value


def expected_rows(serving: Path, spec: ChartSpec, where: dict[str, str] | None = None) -> set[tuple]:
    """The chart's aggregate worked out with DuckDB straight from the serving copy."""
    dimensions = ", ".join(spec.dimensions)
    aggregates = ", ".join(f"{metric.aggregate}({metric.column})" for metric in spec.metrics)
    conditions = " AND ".join(f"{column} = ?" for column in where or {}) or "TRUE"
    with duckdb.connect(str(serving), read_only=True) as con:
        result = con.execute(
            f"SELECT {dimensions}, {aggregates} FROM {SERVING_SCHEMA}.{spec.table.name} "
            f"WHERE {conditions} GROUP BY {dimensions}",
            list((where or {}).values()),
        ).fetchall()
    return {tuple(as_json_value(value) for value in row) for row in result}


def superset_rows(client: SupersetClient, chart_id: int, spec: ChartSpec, filters: list[dict] | None = None) -> set:
    query_context = json.loads(client.get_json(f"/api/v1/chart/{chart_id}")["result"]["query_context"])
    if filters:
        query_context["queries"][0]["filters"] = filters
    (result,) = client.chart_data(query_context)
    assert result["status"] == "success" and f"FROM {SERVING_SCHEMA}.{spec.table.name}" in result["query"]
    columns = [*spec.dimensions, *(metric.label for metric in spec.metrics)]
    return {tuple(as_json_value(row[column]) for column in columns) for row in result["data"]}


def test_chart_data_for_every_chart_is_what_the_serving_copy_holds(published):
    client: SupersetClient = published["client"]
    for spec in present_charts(published["serving"]):
        chart_id = object_id(client, "chart", stable_uuid("chart", spec.key))
        expected = expected_rows(published["serving"], spec)
        assert expected, spec.key
        assert superset_rows(client, chart_id, spec) == expected, spec.key


def test_the_icb_pcn_and_year_filters_apply_to_every_chart(published):
    client: SupersetClient = published["client"]
    serving = published["serving"]
    with duckdb.connect(str(serving), read_only=True) as con:
        icb, pcn, year = con.execute(
            "SELECT icb_code, pcn_code, financial_year FROM serving.referrals_pcn_monthly "
            "WHERE referrals_received > 0 ORDER BY month_start DESC, pcn_code LIMIT 1"
        ).fetchall()[0]
    where = {"icb_code": icb, "pcn_code": pcn, "financial_year": year}
    filters = [{"col": column, "op": "IN", "val": [value]} for column, value in where.items()]
    for spec in present_charts(serving):
        chart_id = object_id(client, "chart", stable_uuid("chart", spec.key))
        filtered = superset_rows(client, chart_id, spec, filters)
        assert filtered == expected_rows(serving, spec, where), spec.key
        assert filtered != superset_rows(client, chart_id, spec), spec.key  # the filter narrowed something


def test_an_export_bundle_reimports_after_everything_is_deleted(published):
    client: SupersetClient = published["client"]
    serving: Path = published["serving"]
    specs = present_charts(serving)
    dashboard_id = client.get_json(f"/api/v1/dashboard/{DASHBOARD_SLUG}")["result"]["id"]
    bundle = client.export_dashboards([dashboard_id])
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        names = archive.namelist()
        texts = "\n".join(archive.read(name).decode("utf-8") for name in names if name.endswith(".yaml"))
    assert {name.split("/")[1] for name in names if name.count("/") >= 2} >= {
        "dashboards",
        "charts",
        "datasets",
        "databases",
    }
    assert stable_uuid("dashboard", DASHBOARD_SLUG) in texts and all(
        stable_uuid("chart", spec.key) in texts for spec in specs
    )

    chart_ids = [object_id(client, "chart", stable_uuid("chart", spec.key)) for spec in specs]
    dataset_ids = [int(item["id"]) for item in client.find("dataset", [("schema", "eq", SERVING_SCHEMA)])]
    database_id = object_id(client, "database", stable_uuid("database", DATABASE_NAME))
    client.delete("dashboard", dashboard_id)
    for chart_id in chart_ids:
        client.delete("chart", chart_id)
    for dataset_id in dataset_ids:
        client.delete("dataset", dataset_id)
    client.delete("database", database_id)
    assert client.find("dashboard", [("slug", "eq", DASHBOARD_SLUG)]) == []
    assert client.find("database", [("uuid", "eq", stable_uuid("database", DATABASE_NAME))]) == []

    started = time.perf_counter()
    client.import_dashboards(bundle)
    print(f"\nimport of the bundle took {time.perf_counter() - started:.1f} s")
    imported = client.get_json(f"/api/v1/dashboard/{DASHBOARD_SLUG}")["result"]
    attached = {chart["id"] for chart in client.get_json(f"/api/v1/dashboard/{imported['id']}/charts")["result"]}
    assert len(attached) == len(specs)
    for spec in specs:  # the same uuids, and the charts read the serving copy again
        chart_id = object_id(client, "chart", stable_uuid("chart", spec.key))
        assert chart_id in attached
        assert superset_rows(client, chart_id, spec) == expected_rows(serving, spec), spec.key
    # the bundle and the publisher agree on every uuid: publishing now updates the imported objects in place
    assert publish_dashboard(client, serving).created == 0


def test_a_wrong_password_is_a_clear_error(superset_server: SupersetServer):  # noqa: F811
    wrong = "not-the-password-" + "x" * 8
    client = SupersetClient(SupersetCredentials(superset_server.url, superset_server.username, wrong))
    with pytest.raises(SupersetError) as raised:
        client.login()
    assert raised.value.status == 401
    assert str(raised.value) == (
        f"Superset POST /api/v1/security/login failed with HTTP 401: log-in refused for user "
        f"'{superset_server.username}': Not authorized (check SUPERSET_USERNAME and SUPERSET_PASSWORD)"
    )
    assert wrong not in str(raised.value)


def test_sprx_publish_with_a_wrong_password_fails_clearly(superset_server, demo_pipeline, tmp_path, monkeypatch):  # noqa: F811
    wrong = "wrong-password-" + "y" * 8
    for name, value in {
        "SPRX_WAREHOUSE": str(demo_pipeline["warehouse"]),
        "SPRX_OUTPUT": str(tmp_path / "output"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "SUPERSET_URL": superset_server.url,
        "SUPERSET_USERNAME": superset_server.username,
        "SUPERSET_PASSWORD": wrong,
    }.items():
        monkeypatch.setenv(name, value)
    outcome = CliRunner().invoke(app, ["publish"])
    assert outcome.exit_code != 0
    assert "publish failed" in outcome.output and "log-in refused" in outcome.output
    assert wrong not in outcome.output


def test_a_server_that_is_down_is_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}"
    client = SupersetClient(SupersetCredentials(url, "admin", "whatever"), retries=1, backoff_factor=0)
    with pytest.raises(SupersetError, match=f"cannot reach Superset at {url}"):
        client.find("dashboard", [("slug", "eq", DASHBOARD_SLUG)])


def test_a_422_is_a_clear_error(published):
    client: SupersetClient = published["client"]
    with pytest.raises(SupersetError) as raised:  # a second database under the name the publisher owns
        client.request(
            "POST",
            "/api/v1/database/",
            json={"database_name": DATABASE_NAME, "sqlalchemy_uri": database_uri(published["serving"])},
        )
    assert raised.value.status == 422
    assert str(raised.value) == (
        "Superset POST /api/v1/database/ failed with HTTP 422: "
        "database_name: A database with the same name already exists."
    )
