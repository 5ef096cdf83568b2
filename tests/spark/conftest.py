"""Timings of the Spark parity run, printed at the end of `make test-spark` (pytest's terminal summary)."""

from __future__ import annotations

import pytest

TIMINGS_KEY = pytest.StashKey[list[str]]()


@pytest.fixture
def record_timing(request: pytest.FixtureRequest):
    """Add a line to the run's closing summary (e.g. build times on each engine)."""
    lines = request.config.stash.setdefault(TIMINGS_KEY, [])
    return lines.append


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    lines = config.stash.get(TIMINGS_KEY, [])
    if lines:
        terminalreporter.section("DuckDB and Spark builds")
        for line in lines:
            terminalreporter.write_line(line)
