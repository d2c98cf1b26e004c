"""Every command's `--help` has an "Examples" section (README: "Every command has --help
with examples")."""

import pytest
import typer
from typer.testing import CliRunner

from craflow.cli import app

runner = CliRunner()


def _top_level_commands() -> list[str]:
    commands = getattr(typer.main.get_command(app), "commands", {})
    assert commands, "craflow has no commands"
    return sorted(commands)


@pytest.mark.parametrize("command", _top_level_commands())
def test_every_command_help_has_examples(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output, f"`craflow {command} --help` has no Examples section"


def test_release_help_names_defaults_exit_1_and_the_sbom_rule() -> None:
    text = runner.invoke(app, ["release", "--help"], env={"COLUMNS": "200"}).output
    for needed in ("--fail-on high", "--promote released", "--unknown-as high", "1 unexpected"):
        assert needed in text, needed
    assert "both, or neither" in text


def test_sweep_help_says_where_the_snapshot_is_and_what_a_kev_hit_does() -> None:
    text = " ".join(runner.invoke(app, ["sweep", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "sweeps/<timestamp>-<run>/snapshot.json" in text
    assert "craflow.kev.detected" in text and "craflow.version.changed" in text
    assert "A new KEV hit does not change the exit code" in text
