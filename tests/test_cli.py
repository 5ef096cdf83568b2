"""The `sprx` command line: help on every command, clear errors with non-zero exits, ingest through Dagster."""

import pytest
from typer.testing import CliRunner

from orchestration.cli import app

runner = CliRunner()


def every_command_path() -> list[list[str]]:
    """Every command and sub-command the app registers, so a new command cannot miss its help test."""
    import typer

    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        if hasattr(command, "commands"):  # a group (typer's click may not be the `click` package)
            for name, child in command.commands.items():
                walk(child, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("command", every_command_path(), ids=lambda path: " ".join(path) or "sprx")
def test_help_on_every_command(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_the_issue_commands_exist():
    names = {" ".join(path) for path in every_command_path()}
    for expected in ("run", "status", "generate", "ingest", "reference load", "report", "return", "publish"):
        assert expected in names


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run"], "give --period"),
        (["run", "--period", "2026-13"], "not a month"),
        (["run", "--period", "2026-10", "--from", "2026-01"], "not both"),
        (["run", "--from", "2026-05", "--to", "2026-01"], "before --from"),
        (["generate", "--scale", "planet"], "demo, icb or national"),
    ],
)
def test_bad_arguments_fail_clearly(arguments, message, sprx_env):
    result = runner.invoke(app, arguments)
    assert result.exit_code != 0
    assert message in result.output


def test_status_without_a_warehouse(sprx_env):
    result = runner.invoke(app, ["status"])
    assert result.exit_code != 0 and "No warehouse" in result.output


def test_generate_reference_ingest_and_status(sprx_env):
    landing = sprx_env["landing"]
    generated = runner.invoke(app, ["generate", "--months", "1", "--end", "2026-09", "--seed", "3"])
    assert generated.exit_code == 0, generated.output
    assert any(landing.glob("practice_events_*_202609.csv"))
    assert runner.invoke(app, ["reference", "load"]).exit_code == 0
    ingested = runner.invoke(app, ["ingest"])
    assert ingested.exit_code == 0, ingested.output
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0 and "loaded" in status.output and "2026-09" in status.output
