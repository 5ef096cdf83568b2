"""`make ui` serves the whole graph: start the real Dagster webserver on 127.0.0.1 and query its GraphQL API."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.test_definitions import asset_graph_snapshot

QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    isPartitioned
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("dagster_home")
    port = free_port()
    environment = {**os.environ, "DAGSTER_HOME": str(home)}
    executable = Path(sys.executable).parent / "dagster-webserver"
    process = subprocess.Popen(
        [str(executable), "-h", "127.0.0.1", "-p", str(port), "-m", "orchestration.definitions"],
        cwd=Path(__file__).resolve().parents[1],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited: {process.stderr.read()[-3000:]}")
        try:
            if requests.get(f"{url}/server_info", timeout=2).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.5)
    else:
        process.kill()
        raise RuntimeError("dagster-webserver did not answer within 120 s")
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_graphql_shows_every_asset_group_and_check(webserver):
    response = requests.post(f"{webserver}/graphql", json={"query": QUERY}, timeout=60)
    response.raise_for_status()
    nodes = response.json()["data"]["assetNodes"]
    served = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    expected = asset_graph_snapshot()
    assert set(served) == set(expected["assets"])
    for key, node in served.items():
        assert node["groupName"] == expected["assets"][key]["group"], key
        assert node["isPartitioned"] == bool(expected["assets"][key]["partitions"]), key
    checks = {
        f"{key}:{check['name']}"
        for key, node in served.items()
        for check in (node["assetChecksOrError"] or {}).get("checks", [])
    }
    assert checks == set(expected["checks"])
