"""A small typed client for Apache Superset's REST API, written on `requests` (no BI-as-code tool).

What it takes care of, and why:

- Log-in with the `db` provider, giving a bearer token that lasts 15 minutes; the token is refreshed with
  the refresh token shortly before it expires and whenever Superset answers 401, and the client logs in
  again when the refresh token has expired too, so a long publish never dies half-way.
- CSRF: Superset refuses writes without the token of the same session, sent with a Referer header
  (Superset #16398). The token is fetched on this client's `requests.Session` and sent on every write.
- Timeouts on every request, and retries with exponential backoff on connection errors and 5xx answers
  (urllib3's `Retry`, mounted on the session), so a restarting Superset or a flaky proxy costs a pause,
  not a failed run.
- Every refusal becomes a `SupersetError` carrying Superset's own message, the method, path and status.
- Idempotent upserts of databases, datasets, charts and dashboards: each object gets a uuid5 of its stable
  name, which Superset 6 accepts on create; the client finds an object by that uuid (or by its unique
  natural key: database name, table, dashboard slug) and updates it in place, so a second publish makes no
  duplicates, and an export bundle re-imports onto the same objects.

Credentials come only from the environment (SUPERSET_URL, SUPERSET_USERNAME, SUPERSET_PASSWORD) and
are never logged: request bodies are not logged, and the password is kept out of every repr and message.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

# Namespace of every uuid this project gives a Superset object: uuid5(namespace, "<kind>:<stable name>").
SPRX_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://sprx.invalid/superset")
RETRY_STATUSES = frozenset({500, 502, 503, 504})
REFRESH_MARGIN_SECONDS = 60.0  # refresh the access token when it has less than this left
ENVIRONMENT_VARIABLES = ("SUPERSET_URL", "SUPERSET_USERNAME", "SUPERSET_PASSWORD")


class SupersetError(RuntimeError):
    """Superset refused a request or could not be reached; the message is Superset's own where it gave one."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "") -> None:
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        where = f"{method} {path}".strip()
        prefix = f"Superset {where} failed" + (f" with HTTP {status}" if status else "")
        super().__init__(f"{prefix}: {message}" if where or status else message)


class SupersetConfigurationError(SupersetError):
    """SUPERSET_URL or the credentials are not set (or not usable)."""


def stable_uuid(kind: str, name: str) -> str:
    """The uuid of a Superset object from its kind and stable name: the same on every run and every server."""
    return str(uuid.uuid5(SPRX_UUID_NAMESPACE, f"{kind}:{name}"))


def rison_value(value: object) -> str:
    """One value in Rison (the URL-friendly JSON of Superset's `q` parameter); quoted strings escape ! and '."""
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if value is None:
        return "!n"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "!(" + ",".join(rison_value(item) for item in value) + ")"
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{rison_value(str(key))}:{rison_value(item)}" for key, item in value.items()) + ")"
    text = str(value)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
        return text  # plain identifiers stay bare (`col:uuid`), as Superset's own URLs write them
    escaped = text.replace("!", "!!").replace("'", "!'")
    return f"'{escaped}'"


def rison_query(filters: Iterable[tuple[str, str, object]], **extra: object) -> str:
    """A list query, e.g. `(filters:!((col:uuid,opr:eq,value:'…')),page_size:100)`."""
    return rison_value({"filters": [{"col": col, "opr": opr, "value": value} for col, opr, value in filters], **extra})


@dataclass(frozen=True)
class SupersetCredentials:
    """Where Superset is and who to log in as. The password never appears in a repr or a message."""

    url: str
    username: str
    password: str = field(repr=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SupersetCredentials:
        environ = os.environ if environ is None else environ
        missing = [name for name in ENVIRONMENT_VARIABLES if not environ.get(name)]
        if missing:
            raise SupersetConfigurationError(
                f"{', '.join(missing)} not set: Superset publication needs SUPERSET_URL (e.g. "
                "http://superset.example.nhs.uk:8088), SUPERSET_USERNAME and SUPERSET_PASSWORD in the environment"
            )
        url = environ["SUPERSET_URL"].rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise SupersetConfigurationError(f"SUPERSET_URL must start with http:// or https://, not {url!r}")
        return cls(url=url, username=environ["SUPERSET_USERNAME"], password=environ["SUPERSET_PASSWORD"])


def configured_in_environment(environ: Mapping[str, str] | None = None) -> bool:
    """All three SUPERSET_* variables are set (the publication asset runs only then)."""
    environ = os.environ if environ is None else environ
    return all(environ.get(name) for name in ENVIRONMENT_VARIABLES)


@dataclass(frozen=True)
class SupersetObject:
    """An object the client created or updated: its kind, id, uuid, name, and whether this call created it."""

    kind: str
    id: int
    uuid: str
    name: str
    created: bool


def superset_message(response: requests.Response) -> str:
    """Superset's own explanation from an error answer, in its several shapes, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:300] + "…") if len(text) > 300 else (text or response.reason or "no message")
    if isinstance(body, Mapping):
        if isinstance(body.get("errors"), list) and body["errors"]:
            return "; ".join(
                str(error.get("message", error)) if isinstance(error, Mapping) else str(error)
                for error in body["errors"]
            )
        for key in ("message", "msg", "error", "description"):
            message = body.get(key)
            if isinstance(message, Mapping):
                return "; ".join(
                    f"{name}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                    for name, value in message.items()
                )
            if message:
                return str(message)
    return json.dumps(body)[:300]


def _token_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (epoch seconds), read without verifying: only to schedule a refresh."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


class SupersetClient:
    """Superset's REST API on one `requests.Session` (so the CSRF token and its session cookie match).

    For example::

        client = SupersetClient(SupersetCredentials.from_environment())
        database = client.upsert_database("sprx serving", "duckdb:////srv/sprx_serving.duckdb?access_mode=read_only")
    """

    def __init__(
        self,
        credentials: SupersetCredentials,
        *,
        timeout: tuple[float, float] = (5.0, 120.0),
        retries: int = 3,
        backoff_factor: float = 0.5,
        session: requests.Session | None = None,
    ) -> None:
        self.credentials = credentials
        self.base_url = credentials.url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff_factor,
            status_forcelist=RETRY_STATUSES,
            # Every verb: a write is keyed by a uuid the client chose, so a replayed create cannot duplicate
            # (Superset refuses it with 422 and the upsert finds the object and updates it instead).
            allowed_methods=None,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at: float | None = None
        self._csrf_token: str | None = None

    def __repr__(self) -> str:
        return f"SupersetClient(url={self.base_url!r}, username={self.credentials.username!r})"

    # --- authentication ---------------------------------------------------------------------------

    def login(self) -> None:
        """Log in with the `db` provider: a bearer token (and a refresh token) for this session."""
        response = self._send(
            "POST",
            "/api/v1/security/login",
            json={
                "username": self.credentials.username,
                "password": self.credentials.password,
                "provider": "db",
                "refresh": True,
            },
        )
        if response.status_code != 200:
            refused = response.status_code in {400, 401, 403, 422}
            raise SupersetError(
                f"log-in {'refused' if refused else 'failed'} for user {self.credentials.username!r}: "
                f"{superset_message(response)}"
                + (" (check SUPERSET_USERNAME and SUPERSET_PASSWORD)" if refused else ""),
                status=response.status_code,
                method="POST",
                path="/api/v1/security/login",
            )
        self._store_tokens(response.json())
        self._refresh_token = response.json().get("refresh_token")
        self._csrf_token = None
        log.info("logged in to Superset at %s as %s", self.base_url, self.credentials.username)

    def refresh(self) -> None:
        """A new access token from the refresh token; a fresh log-in when there is none or it has expired."""
        if not self._refresh_token:
            self.login()
            return
        response = self._send(
            "POST", "/api/v1/security/refresh", headers={"Authorization": f"Bearer {self._refresh_token}"}
        )
        if response.status_code != 200:
            log.info("Superset token refresh refused (HTTP %s); logging in again", response.status_code)
            self.login()
            return
        self._store_tokens(response.json())
        log.debug("refreshed the Superset access token")

    def _store_tokens(self, body: Mapping[str, Any]) -> None:
        token = body.get("access_token")
        if not token:
            raise SupersetError("Superset's log-in answer held no access token", method="POST", path="/api/v1/security")
        self._access_token = str(token)
        self._expires_at = _token_expiry(self._access_token)

    def _ensure_token(self) -> str:
        if self._access_token is None:
            self.login()
        elif self._expires_at is not None and self._expires_at - time.time() < REFRESH_MARGIN_SECONDS:
            self.refresh()
        assert self._access_token is not None
        return self._access_token

    def csrf_token(self) -> str:
        """The CSRF token for writes, fetched once per log-in on this session (the token is bound to its cookie)."""
        if self._csrf_token is None:
            body = self.request("GET", "/api/v1/security/csrf_token/").json()
            self._csrf_token = str(body["result"])
        return self._csrf_token

    # --- requests ---------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange (with urllib3's retries); unreachable servers become a SupersetError."""
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.RetryError as error:
            raise SupersetError(
                f"still failing after retries: {error.__class__.__name__}", method=method, path=path
            ) from None
        except requests.exceptions.Timeout:
            raise SupersetError(
                f"no answer from {self.base_url} within {self.timeout[1]:.0f} s (after retries)",
                method=method,
                path=path,
            ) from None
        except requests.exceptions.ConnectionError as error:
            reason = error.args[0].reason if error.args and hasattr(error.args[0], "reason") else error
            raise SupersetError(
                f"cannot reach Superset at {self.base_url} (after retries): {reason}", method=method, path=path
            ) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """An authenticated request; refreshes the token on 401 and the CSRF token when refused, once each."""
        method = method.upper()
        refreshed = csrf_renewed = False
        while True:
            headers = {"Authorization": f"Bearer {self._ensure_token()}"}
            if method not in {"GET", "HEAD", "OPTIONS"}:
                headers["X-CSRFToken"] = self.csrf_token()
                headers["Referer"] = f"{self.base_url}/"
            response = self._send(method, path, headers=headers, json=json, params=params, files=files, data=data)
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self.refresh()
                continue
            if response.status_code == 400 and "csrf" in response.text.lower() and not csrf_renewed:
                csrf_renewed = True
                self._csrf_token = None
                continue
            if response.status_code >= 400:
                raise SupersetError(superset_message(response), status=response.status_code, method=method, path=path)
            return response

    def get_json(self, path: str, **params: str) -> dict[str, Any]:
        return self.request("GET", path, params=params or None).json()

    # --- lookups ----------------------------------------------------------------------------------

    def find(self, resource: str, filters: Iterable[tuple[str, str, object]]) -> list[dict[str, Any]]:
        """Objects of a resource (database, dataset, chart, dashboard) matching every filter."""
        body = self.get_json(f"/api/v1/{resource}/", q=rison_query(filters, page_size=100))
        return list(body.get("result", []))

    def find_id(self, resource: str, object_uuid: str, *natural_key: tuple[str, str, object]) -> int | None:
        """The id of the object with this uuid or, failing that, with this unique natural key."""
        for filters in ([("uuid", "eq", object_uuid)], list(natural_key)):
            if filters:
                found = self.find(resource, filters)
                if found:
                    return int(found[0]["id"])
        return None

    def _upsert(
        self,
        resource: str,
        kind: str,
        name: str,
        object_uuid: str,
        payload: dict[str, Any],
        natural_key: tuple[tuple[str, str, object], ...] = (),
        update_payload: Mapping[str, Any] | None = None,
    ) -> SupersetObject:
        """Create with the uuid when neither the uuid nor the natural key finds the object, else update it.

        `update_payload` replaces `payload` for the update where Superset's PUT schema differs from its POST.
        """
        existing = self.find_id(resource, object_uuid, *natural_key)
        if existing is None:
            try:
                body = self.request("POST", f"/api/v1/{resource}/", json={**payload, "uuid": object_uuid}).json()
                return SupersetObject(kind, int(body["id"]), object_uuid, name, created=True)
            except SupersetError as error:
                # A create whose answer was lost and then replayed by the retry: the object exists now.
                existing = self.find_id(resource, object_uuid) if error.status == 422 else None
                if existing is None:
                    raise
        self.request("PUT", f"/api/v1/{resource}/{existing}", json=dict(update_payload or payload))
        return SupersetObject(kind, existing, object_uuid, name, created=False)

    # --- upserts ----------------------------------------------------------------------------------

    def upsert_database(
        self, name: str, sqlalchemy_uri: str, *, expose_in_sqllab: bool = True, extra: Mapping[str, Any] | None = None
    ) -> SupersetObject:
        """A database connection, by name. DML, CTAS and uploads stay off: dashboards only read."""
        payload: dict[str, Any] = {
            "database_name": name,
            "sqlalchemy_uri": sqlalchemy_uri,
            "expose_in_sqllab": expose_in_sqllab,
            "allow_dml": False,
            "allow_ctas": False,
            "allow_cvas": False,
            "allow_file_upload": False,
            "extra": json.dumps(dict(extra or {})),
        }
        object_uuid = stable_uuid("database", name)
        existing = self.find_id("database", object_uuid, ("database_name", "eq", name))
        if existing is not None and self._database_unchanged(existing, payload):
            # Updating a database makes Superset re-sync its permissions and test the connection: skip a no-op.
            return SupersetObject("database", existing, object_uuid, name, created=False)
        return self._upsert(
            "database", "database", name, object_uuid, payload, natural_key=(("database_name", "eq", name),)
        )

    def _database_unchanged(self, database_id: int, payload: Mapping[str, Any]) -> bool:
        current = self.get_json(f"/api/v1/database/{database_id}/connection")["result"]
        try:
            same_extra = json.loads(current.get("extra") or "{}") == json.loads(payload["extra"])
        except ValueError:
            return False
        return same_extra and all(current.get(key) == value for key, value in payload.items() if key != "extra")

    def upsert_dataset(
        self,
        database: SupersetObject,
        schema: str,
        table_name: str,
        *,
        description: str = "",
        main_dttm_col: str | None = None,
        column_metadata: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> SupersetObject:
        """A physical dataset on a table; its columns are re-read from the table on every publish.

        `column_metadata` (column name → e.g. verbose_name, description) labels the columns in charts and
        explains them in the explore view.
        """
        name = f"{database.name}:{schema}.{table_name}"
        dataset = self._upsert(
            "dataset",
            "dataset",
            name,
            stable_uuid("dataset", name),
            {"database": database.id, "schema": schema, "table_name": table_name},
            natural_key=(
                ("database", "rel_o_m", database.id),
                ("schema", "eq", schema),
                ("table_name", "eq", table_name),
            ),
            update_payload={"database_id": database.id, "schema": schema, "table_name": table_name},
        )
        self.request("PUT", f"/api/v1/dataset/{dataset.id}/refresh")
        metadata: dict[str, Any] = {"description": description, "main_dttm_col": main_dttm_col}
        if column_metadata:
            columns = self.get_json(f"/api/v1/dataset/{dataset.id}")["result"]["columns"]
            metadata["columns"] = [
                {
                    "id": column["id"],
                    "column_name": column["column_name"],
                    "type": column.get("type"),
                    "is_dttm": column.get("is_dttm", False),
                    "groupby": column.get("groupby", True),
                    "filterable": column.get("filterable", True),
                    "verbose_name": column.get("verbose_name"),
                    "description": column.get("description"),
                    **column_metadata.get(column["column_name"], {}),
                }
                for column in columns
            ]
        self.request("PUT", f"/api/v1/dataset/{dataset.id}", json=metadata)
        return dataset

    def upsert_chart(
        self,
        key: str,
        name: str,
        dataset: SupersetObject,
        viz_type: str,
        params: Mapping[str, Any],
        query_context: Mapping[str, Any],
        *,
        description: str = "",
    ) -> SupersetObject:
        """A chart by its stable key (chart names are not unique in Superset, so only the uuid identifies it)."""
        payload = {
            "slice_name": name,
            "viz_type": viz_type,
            "datasource_id": dataset.id,
            "datasource_type": "table",
            "params": json.dumps(params),
            "query_context": json.dumps(query_context),
            "description": description,
        }
        return self._upsert("chart", "chart", name, stable_uuid("chart", key), payload)

    def upsert_dashboard(
        self,
        title: str,
        slug: str,
        position: Mapping[str, Any],
        metadata: Mapping[str, Any],
        *,
        css: str = "",
        published: bool = True,
    ) -> SupersetObject:
        """A dashboard by its slug (unique in Superset): layout (`position_json`) and `json_metadata`."""
        payload = {
            "dashboard_title": title,
            "slug": slug,
            "position_json": json.dumps(position),
            "json_metadata": json.dumps(metadata),
            "css": css,
            "published": published,
        }
        return self._upsert(
            "dashboard",
            "dashboard",
            title,
            stable_uuid("dashboard", slug),
            payload,
            natural_key=(("slug", "eq", slug),),
        )

    def attach_charts(self, dashboard: SupersetObject, charts: Iterable[SupersetObject]) -> None:
        """Put each chart on the dashboard (`dashboards` replaces the list, so keep the ones it had)."""
        for chart in charts:
            current = {int(item["id"]) for item in self.get_json(f"/api/v1/chart/{chart.id}")["result"]["dashboards"]}
            if dashboard.id not in current:
                self.request("PUT", f"/api/v1/chart/{chart.id}", json={"dashboards": sorted(current | {dashboard.id})})

    # --- data, export and import ------------------------------------------------------------------

    def chart_data(self, query_context: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a chart's query context (`POST /api/v1/chart/data`): one result per query, rows under `data`."""
        return list(self.request("POST", "/api/v1/chart/data", json=query_context).json()["result"])

    def export_dashboards(self, dashboard_ids: Iterable[int]) -> bytes:
        """A ZIP bundle of the dashboards with their charts, datasets and database (YAML, keyed by uuid)."""
        ids = list(dashboard_ids)
        response = self.request("GET", "/api/v1/dashboard/export/", params={"q": rison_value(ids)})
        if not response.content.startswith(b"PK"):
            raise SupersetError("the export answer is not a ZIP bundle", method="GET", path="/api/v1/dashboard/export/")
        return response.content

    def import_dashboards(
        self, bundle: bytes, *, overwrite: bool = True, passwords: Mapping[str, str] | None = None
    ) -> None:
        """Import a bundle made by `export_dashboards`; objects with the same uuids are overwritten in place."""
        self.request(
            "POST",
            "/api/v1/dashboard/import/",
            files={"formData": ("dashboard_export.zip", bundle, "application/zip")},
            data={"overwrite": "true" if overwrite else "false", "passwords": json.dumps(dict(passwords or {}))},
        )

    def delete(self, resource: str, object_id: int) -> None:
        self.request("DELETE", f"/api/v1/{resource}/{object_id}")
