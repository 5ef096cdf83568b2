"""A real Apache Superset for the integration tests: its own venv from the committed lock, SQLite metadata
in a temporary folder, gunicorn on 127.0.0.1 on a free port, stopped by its PID.

Superset cannot share the project's venv (it pins SQLAlchemy < 2, pandas < 2.2, numpy < 2.3), so it gets
one of its own under `.superset_venv/<hash of the lock>/` (git-ignored): a changed lock builds a new venv,
an unchanged one is reused, so only the first run pays for the install. `SPRX_SKIP_SUPERSET=1` skips
every test that needs the server (quick local runs only: `make test` and CI run them).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from filelock import FileLock

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOCK_FILE = PROJECT_ROOT / "reports" / "superset" / "requirements-superset.lock"
VENV_ROOT = PROJECT_ROOT / ".superset_venv"
BOOTSTRAP = Path(__file__).with_name("superset_bootstrap.py")
PYTHON_VERSION = "3.11"
READY_MARKER = ".ready"
HEALTH_TIMEOUT_SECONDS = 180.0
SKIP_VARIABLE = "SPRX_SKIP_SUPERSET"


class SupersetServerError(RuntimeError):
    """The test Superset could not be installed, initialised or started."""


def skip_requested() -> bool:
    return os.environ.get(SKIP_VARIABLE) == "1"


def _uv() -> str:
    """uv from the project's venv (`make install` puts it there), else from PATH."""
    candidate = Path(sys.prefix) / "bin" / "uv"
    found = str(candidate) if candidate.exists() else shutil.which("uv")
    if not found:
        raise SupersetServerError("uv is needed to build the Superset venv: run `make install` first")
    return found


def venv_key(lock_file: Path = LOCK_FILE) -> str:
    """The venv's folder name: the lock's content and the Python version, so a changed lock builds anew."""
    digest = hashlib.sha256(lock_file.read_bytes() + PYTHON_VERSION.encode()).hexdigest()
    return digest[:16]


def _run(command: list[str], environment: dict[str, str], what: str, timeout: float) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise SupersetServerError(
            f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )


def ensure_superset_venv(lock_file: Path = LOCK_FILE, root: Path = VENV_ROOT) -> Path:
    """The Superset venv for this lock file, built once (`uv venv` + `uv pip sync`) and reused after.

    A file lock lets concurrent test sessions share one build; the ready marker is written last, so an
    interrupted build is thrown away and redone rather than used half-installed.
    """
    venv = root / venv_key(lock_file)
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv) + ".lock", timeout=1200):
        if (venv / READY_MARKER).exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        uv = _uv()
        environment = {**os.environ, "VIRTUAL_ENV": str(venv)}
        # The project's own interpreter (Python 3.11): uv never goes looking for, or downloading, another one.
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], environment, "uv venv", 300)
        _run(
            [uv, "pip", "sync", "--quiet", "--python", str(venv / "bin" / "python"), str(lock_file)],
            environment,
            "uv pip sync of the Superset lock",
            1200,
        )
        (venv / READY_MARKER).write_text(lock_file.name + "\n", encoding="utf-8")
    return venv


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


CONFIG_TEMPLATE = '''"""Superset configuration for one test server (written by tests/superset_server.py)."""
SECRET_KEY = {secret_key!r}
SQLALCHEMY_DATABASE_URI = {metadata_uri!r}
WTF_CSRF_ENABLED = True
TALISMAN_ENABLED = False
SUPERSET_LOAD_EXAMPLES = False
FEATURE_FLAGS = {{}}
RATELIMIT_ENABLED = False
'''


@dataclass
class SupersetServer:
    """A running test Superset: its URL, admin credentials, PID and the timings of its start-up."""

    url: str
    username: str
    password: str
    home: Path
    process: subprocess.Popen | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        if self.process is None:
            raise SupersetServerError("the server is not running")
        return self.process.pid

    @property
    def log_file(self) -> Path:
        return self.home / "gunicorn.log"

    def log_tail(self, characters: int = 4000) -> str:
        return (
            self.log_file.read_text(encoding="utf-8", errors="replace")[-characters:] if self.log_file.exists() else ""
        )

    def stop(self) -> None:
        """SIGTERM to gunicorn's master by PID (it stops its worker), SIGKILL if it has not gone in 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_superset(venv: Path, home: Path, username: str = "admin", password: str | None = None) -> SupersetServer:
    """Initialise SQLite metadata in `home` (one process), start gunicorn on a free port and wait for /health."""
    home.mkdir(parents=True, exist_ok=True)
    password = password or secrets.token_urlsafe(18)
    config = home / "superset_config.py"
    config.write_text(
        CONFIG_TEMPLATE.format(
            secret_key=secrets.token_urlsafe(32), metadata_uri=f"sqlite:///{(home / 'superset.db').resolve()}"
        ),
        encoding="utf-8",
    )
    environment = {
        **os.environ,
        "SUPERSET_HOME": str(home),
        "SUPERSET_CONFIG_PATH": str(config),
        "PYTHONPATH": "",
        "SPRX_SUPERSET_ADMIN_USERNAME": username,
        "SPRX_SUPERSET_ADMIN_PASSWORD": password,
    }
    python = str(venv / "bin" / "python")
    started = time.perf_counter()
    _run([python, str(BOOTSTRAP)], environment, "Superset metadata initialisation", 600)
    initialised = time.perf_counter()
    environment.pop("SPRX_SUPERSET_ADMIN_PASSWORD")
    port = free_port()
    server = SupersetServer(url=f"http://127.0.0.1:{port}", username=username, password=password, home=home)
    with server.log_file.open("wb") as log_handle:
        server.process = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--timeout",
                "120",
                "--bind",
                f"127.0.0.1:{port}",
                "superset.app:create_app()",
            ],
            env=environment,
            cwd=home,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_health(server)
    except BaseException:
        server.stop()
        raise
    server.timings = {"initialise_seconds": initialised - started, "serve_seconds": time.perf_counter() - initialised}
    return server


def _wait_for_health(server: SupersetServer) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise SupersetServerError(f"gunicorn exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(f"{server.url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SupersetServerError(
        f"Superset did not answer /health in {HEALTH_TIMEOUT_SECONDS:.0f} s:\n{server.log_tail()}"
    )


@pytest.fixture(scope="session")
def superset_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SupersetServer]:
    """One real Superset for the session; skipped only when SPRX_SKIP_SUPERSET=1."""
    if skip_requested():
        pytest.skip(f"{SKIP_VARIABLE}=1: the real-Superset tests are skipped (make test and CI run them)")
    started = time.perf_counter()
    venv = ensure_superset_venv()
    venv_ready = time.perf_counter()
    server = start_superset(venv, tmp_path_factory.mktemp("superset_home"))
    server.timings = {
        "venv_seconds": venv_ready - started,
        **server.timings,
        "total_seconds": time.perf_counter() - started,
    }
    print(f"\nSuperset test server at {server.url} (PID {server.pid}); start-up: {server.timings}")
    try:
        yield server
    finally:
        server.stop()
