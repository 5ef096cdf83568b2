"""Unit tests of the Superset client: CSRF, token refresh, retries, error messages, idempotent upserts and
credentials. HTTP is mocked with `responses`, except for connection errors, which need a real socket."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
from responses import matchers

from reports.superset.client import (
    SupersetClient,
    SupersetConfigurationError,
    SupersetCredentials,
    SupersetError,
    configured_in_environment,
    rison_query,
    rison_value,
    stable_uuid,
)

BASE = "http://superset.test:8088"
PASSWORD = "s3cret-Passw0rd-never-shown"
LOGIN = f"{BASE}/api/v1/security/login"
REFRESH = f"{BASE}/api/v1/security/refresh"
CSRF = f"{BASE}/api/v1/security/csrf_token/"


def jwt(expires_in: float, name: str = "access") -> str:
    """A token shaped like Superset's JWTs (the client reads only `exp`, unverified)."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'exp': time.time() + expires_in, 'sub': name})}.signature"


def client(url: str = BASE, retries: int = 2, **kwargs) -> SupersetClient:
    return SupersetClient(SupersetCredentials(url, "publisher", PASSWORD), retries=retries, backoff_factor=0, **kwargs)


def add_login(access: str | None = None, refresh: str = "refresh-token-1") -> responses.BaseResponse:
    return responses.post(
        LOGIN,
        json={"access_token": access or jwt(900), "refresh_token": refresh},
        match=[
            matchers.json_params_matcher(
                {"username": "publisher", "password": PASSWORD, "provider": "db", "refresh": True}
            )
        ],
    )


def add_csrf(token: str = "csrf-1") -> responses.BaseResponse:
    return responses.get(CSRF, json={"result": token}, headers={"Set-Cookie": "session=cookie-1; Path=/"})


@responses.activate
def test_csrf_token_is_fetched_once_on_the_same_session_and_sent_with_a_referer_on_writes():
    add_login()
    csrf = add_csrf()
    read = responses.get(f"{BASE}/api/v1/dashboard/1", json={"result": {}})
    write = responses.put(f"{BASE}/api/v1/dashboard/1", json={"result": {}})
    superset = client()
    superset.request("GET", "/api/v1/dashboard/1")
    superset.request("PUT", "/api/v1/dashboard/1", json={"dashboard_title": "A"})
    superset.request("PUT", "/api/v1/dashboard/1", json={"dashboard_title": "B"})

    assert csrf.call_count == 1
    assert "X-CSRFToken" not in read.calls[0].request.headers
    for call in write.calls:
        headers = call.request.headers
        assert headers["X-CSRFToken"] == "csrf-1"
        assert headers["Referer"] == f"{BASE}/"
        assert headers["Authorization"].startswith("Bearer ")
        assert "session=cookie-1" in headers["Cookie"]  # the cookie the CSRF token is bound to


@responses.activate
def test_a_refused_csrf_token_is_fetched_again_once():
    add_login()
    csrf = responses.get(CSRF, json={"result": "csrf-old"})
    responses.get(CSRF, json={"result": "csrf-new"})
    responses.post(
        f"{BASE}/api/v1/chart/",
        status=400,
        json={"errors": [{"message": "400 Bad Request: The CSRF token has expired."}]},
        match=[matchers.header_matcher({"X-CSRFToken": "csrf-old"})],
    )
    created = responses.post(
        f"{BASE}/api/v1/chart/",
        status=201,
        json={"id": 7},
        match=[matchers.header_matcher({"X-CSRFToken": "csrf-new"})],
    )
    assert client().request("POST", "/api/v1/chart/", json={}).json() == {"id": 7}
    assert csrf.call_count == 1 and created.call_count == 1
    assert len([call for call in responses.calls if call.request.url == CSRF]) == 2


@responses.activate
def test_a_401_refreshes_the_token_and_retries_once():
    add_login(access=jwt(900, "first"), refresh="refresh-token-1")
    second = jwt(900, "second")
    refresh = responses.post(
        REFRESH,
        json={"access_token": second},
        match=[matchers.header_matcher({"Authorization": "Bearer refresh-token-1"})],
    )
    responses.get(f"{BASE}/api/v1/chart/1", status=401, json={"msg": "Token has expired"})
    responses.get(
        f"{BASE}/api/v1/chart/1",
        json={"result": {"id": 1}},
        match=[matchers.header_matcher({"Authorization": f"Bearer {second}"})],
    )
    assert client().get_json("/api/v1/chart/1") == {"result": {"id": 1}}
    assert refresh.call_count == 1


@responses.activate
def test_a_second_401_is_an_error_not_a_loop():
    add_login()
    responses.post(REFRESH, json={"access_token": jwt(900)})
    chart = responses.get(f"{BASE}/api/v1/chart/1", status=401, json={"msg": "Not authorized"})
    with pytest.raises(SupersetError) as raised:
        client().get_json("/api/v1/chart/1")
    assert raised.value.status == 401 and "Not authorized" in str(raised.value)
    assert chart.call_count == 2


@responses.activate
def test_an_expired_refresh_token_means_logging_in_again():
    login = add_login()
    responses.post(REFRESH, status=401, json={"msg": "Token has expired"})
    responses.get(f"{BASE}/api/v1/chart/1", status=401, json={"msg": "Token has expired"})
    responses.get(f"{BASE}/api/v1/chart/1", json={"result": {"id": 1}})
    assert client().get_json("/api/v1/chart/1")["result"]["id"] == 1
    assert login.call_count == 2


@responses.activate
def test_a_token_about_to_expire_is_refreshed_before_the_next_request():
    first = jwt(20)  # Superset's tokens last 15 minutes; this one is inside the refresh margin
    add_login(access=first)
    fresh = jwt(900, "fresh")
    refresh = responses.post(REFRESH, json={"access_token": fresh})
    chart = responses.get(
        f"{BASE}/api/v1/chart/1",
        json={"result": {}},
        match=[matchers.header_matcher({"Authorization": f"Bearer {first}"})],
    )
    chart_again = responses.get(
        f"{BASE}/api/v1/chart/1",
        json={"result": {}},
        match=[matchers.header_matcher({"Authorization": f"Bearer {fresh}"})],
    )
    superset = client()
    superset.get_json("/api/v1/chart/1")
    assert refresh.call_count == 0
    superset.get_json("/api/v1/chart/1")
    assert refresh.call_count == 1 and chart.call_count == 1 and chart_again.call_count == 1


@responses.activate
def test_5xx_answers_are_retried_then_succeed():
    add_login()
    responses.get(f"{BASE}/api/v1/dashboard/", status=503, body="Service Unavailable")
    responses.get(f"{BASE}/api/v1/dashboard/", status=502, body="Bad Gateway")
    responses.get(f"{BASE}/api/v1/dashboard/", json={"result": [], "count": 0})
    assert client(retries=3).get_json("/api/v1/dashboard/") == {"result": [], "count": 0}
    assert len([c for c in responses.calls if c.request.url.startswith(f"{BASE}/api/v1/dashboard/")]) == 3


@responses.activate
def test_5xx_after_the_last_retry_raises_with_supersets_message():
    add_login()
    failing = responses.get(f"{BASE}/api/v1/chart/9", status=500, json={"message": "Fatal error in the chart"})
    with pytest.raises(SupersetError) as raised:
        client(retries=2).get_json("/api/v1/chart/9")
    assert failing.call_count == 3  # the first try and two retries
    assert raised.value.status == 500
    assert str(raised.value) == "Superset GET /api/v1/chart/9 failed with HTTP 500: Fatal error in the chart"


def test_retry_policy_backs_off_on_connection_errors_and_5xx_for_every_method():
    policy = (
        SupersetClient(SupersetCredentials(BASE, "u", PASSWORD), retries=4, backoff_factor=0.5)
        .session.get_adapter(BASE)
        .max_retries
    )
    assert (policy.total, policy.connect, policy.read, policy.status) == (4, 4, 4, 4)
    assert policy.backoff_factor == 0.5 and set(policy.status_forcelist) == {500, 502, 503, 504}
    assert policy.allowed_methods is None and policy.raise_on_status is False


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (422, {"message": {"slug": ["Must be unique"]}}, "slug: Must be unique"),
        (422, {"message": {"database_name": "A database with the same name already exists."}}, "database_name: A data"),
        (400, {"errors": [{"message": "Columns missing in dataset: ['nope']"}]}, "Columns missing in dataset"),
        (404, {"message": "Not found"}, "Not found"),
        (403, "<html>Forbidden by proxy</html>", "<html>Forbidden by proxy</html>"),
    ],
)
@responses.activate
def test_errors_carry_supersets_own_message(status, body, expected):
    add_login()
    add_csrf()
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.post(f"{BASE}/api/v1/dashboard/", status=status, **kwargs)
    with pytest.raises(SupersetError) as raised:
        client().request("POST", "/api/v1/dashboard/", json={"slug": "x"})
    assert raised.value.status == status and expected in raised.value.message
    assert f"HTTP {status}" in str(raised.value) and "POST /api/v1/dashboard/" in str(raised.value)


@responses.activate
def test_upsert_creates_with_a_stable_uuid_then_updates_in_place():
    add_login()
    add_csrf()
    chart_uuid = stable_uuid("chart", "referrals_trend_by_pcn")
    by_uuid = rison_query([("uuid", "eq", chart_uuid)], page_size=100)
    lookup = responses.get(
        f"{BASE}/api/v1/chart/", json={"result": []}, match=[matchers.query_param_matcher({"q": by_uuid})]
    )
    create = responses.post(f"{BASE}/api/v1/chart/", status=201, json={"id": 11})
    superset = client()
    dataset = type("Dataset", (), {"id": 3})()
    first = superset.upsert_chart("referrals_trend_by_pcn", "Referrals", dataset, "table", {"a": 1}, {"b": 2})
    sent = json.loads(create.calls[0].request.body)
    assert (first.id, first.created, first.uuid) == (11, True, chart_uuid)
    assert sent["uuid"] == chart_uuid and json.loads(sent["params"]) == {"a": 1} and sent["datasource_id"] == 3

    responses.remove(lookup)
    responses.get(
        f"{BASE}/api/v1/chart/", json={"result": [{"id": 11}]}, match=[matchers.query_param_matcher({"q": by_uuid})]
    )
    update = responses.put(f"{BASE}/api/v1/chart/11", json={"result": {}})
    second = superset.upsert_chart("referrals_trend_by_pcn", "Referrals (renamed)", dataset, "table", {}, {})
    assert (second.id, second.created, second.uuid) == (11, False, chart_uuid)
    assert json.loads(update.calls[0].request.body)["slice_name"] == "Referrals (renamed)"
    assert create.call_count == 1


@responses.activate
def test_a_replayed_create_that_superset_refuses_as_existing_becomes_an_update():
    add_login()
    add_csrf()
    responses.get(f"{BASE}/api/v1/dashboard/", json={"result": []})
    responses.get(f"{BASE}/api/v1/dashboard/", json={"result": []})
    responses.post(f"{BASE}/api/v1/dashboard/", status=422, json={"message": {"slug": ["Must be unique"]}})
    responses.get(f"{BASE}/api/v1/dashboard/", json={"result": [{"id": 5}]})
    update = responses.put(f"{BASE}/api/v1/dashboard/5", json={"result": {}})
    dashboard = client().upsert_dashboard("Title", "slug", {}, {})
    assert (dashboard.id, dashboard.created) == (5, False) and update.call_count == 1


def test_stable_uuids_differ_by_kind_and_name_and_never_change():
    assert stable_uuid("chart", "a") == stable_uuid("chart", "a")
    assert len({stable_uuid("chart", "a"), stable_uuid("chart", "b"), stable_uuid("dataset", "a")}) == 3
    assert stable_uuid("dashboard", "sprx-pcn-overview") == "175dc740-d0cd-5bec-b659-95bafbe963a1"


def test_rison_quotes_and_escapes_like_superset_expects():
    assert rison_value("it's a bang!") == "'it!'s a bang!!'"
    assert rison_value([1, 2]) == "!(1,2)"
    assert rison_query([("uuid", "eq", "ab-1")]) == "(filters:!((col:uuid,opr:eq,value:'ab-1')))"
    assert rison_value({"on": True, "off": False, "none": None}) == "(on:!t,off:!f,none:!n)"


@responses.activate
def test_a_wrong_password_is_a_clear_error_that_never_shows_the_password(caplog):
    caplog.set_level(logging.DEBUG)
    responses.post(LOGIN, status=401, json={"message": "Not authorized"})
    superset = client()
    with pytest.raises(SupersetError) as raised:
        superset.get_json("/api/v1/chart/")
    message = str(raised.value)
    assert "log-in refused for user 'publisher'" in message and "Not authorized" in message
    assert "SUPERSET_PASSWORD" in message and raised.value.status == 401
    for text in (message, repr(raised.value), caplog.text, repr(superset), repr(superset.credentials)):
        assert PASSWORD not in text


def test_credentials_come_from_the_environment_and_name_what_is_missing():
    environment = {"SUPERSET_URL": "https://bi.example.nhs.uk/", "SUPERSET_USERNAME": "u", "SUPERSET_PASSWORD": "p"}
    credentials = SupersetCredentials.from_environment(environment)
    assert (credentials.url, credentials.username) == ("https://bi.example.nhs.uk", "u")
    assert configured_in_environment(environment)
    with pytest.raises(SupersetConfigurationError, match="SUPERSET_URL, SUPERSET_PASSWORD not set"):
        SupersetCredentials.from_environment({"SUPERSET_USERNAME": "u"})
    with pytest.raises(SupersetConfigurationError, match="must start with http"):
        SupersetCredentials.from_environment({**environment, "SUPERSET_URL": "bi.example.nhs.uk"})
    assert not configured_in_environment({"SUPERSET_URL": "http://x"})


class FlakyServer:
    """A local HTTP server that drops the first `drops` connections of GET /api/v1/chart/1 without answering."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.chart_requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._answer({"access_token": jwt(900), "refresh_token": "r"})

            def do_GET(self) -> None:
                outer.chart_requests += 1
                if outer.chart_requests <= outer.drops:
                    self.close_connection = True  # hang up without a status line
                    return
                self._answer({"result": {"id": 1}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FlakyServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_dropped_connections_are_retried_with_backoff():
    with FlakyServer(drops=2) as server:
        superset = SupersetClient(SupersetCredentials(server.url, "u", PASSWORD), retries=3, backoff_factor=0.2)
        started = time.monotonic()
        assert superset.get_json("/api/v1/chart/1") == {"result": {"id": 1}}
        elapsed = time.monotonic() - started
    assert server.chart_requests == 3
    assert elapsed >= 0.35  # urllib3 backs off 0 s after the first error, 0.4 s after the second


def test_dropped_connections_beyond_the_retries_are_a_clear_error():
    with FlakyServer(drops=10) as server:
        superset = SupersetClient(SupersetCredentials(server.url, "u", PASSWORD), retries=2, backoff_factor=0)
        with pytest.raises(SupersetError, match=r"cannot reach Superset at http://127\.0\.0\.1:"):
            superset.get_json("/api/v1/chart/1")
    assert server.chart_requests == 3


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


def test_a_server_that_is_down_is_a_clear_error(closed_port, caplog):
    caplog.set_level(logging.DEBUG)
    superset = SupersetClient(
        SupersetCredentials(f"http://127.0.0.1:{closed_port}", "u", PASSWORD), retries=2, backoff_factor=0
    )
    with pytest.raises(SupersetError) as raised:
        superset.login()
    assert f"cannot reach Superset at http://127.0.0.1:{closed_port}" in str(raised.value)
    assert "POST /api/v1/security/login" in str(raised.value)
    assert PASSWORD not in str(raised.value) and PASSWORD not in caplog.text
    assert raised.value.__cause__ is None  # urllib3's exception chain is not carried along


@responses.activate
def test_a_log_in_that_fails_on_the_server_side_does_not_blame_the_credentials():
    login = responses.post(LOGIN, status=500, json={"message": "Fatal error"})
    with pytest.raises(SupersetError) as raised:
        client(retries=1).login()
    assert login.call_count == 2  # retried once, like any 5xx
    assert "log-in failed for user 'publisher': Fatal error" in str(raised.value)
    assert "SUPERSET_PASSWORD" not in str(raised.value)
