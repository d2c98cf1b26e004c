import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from craflow import __version__
from craflow.cli import app

runner = CliRunner()


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"craflow {__version__}"


def test_help_teaches_where_to_start() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "craflow demo" in result.output


def test_console_script_runs_from_any_folder(tmp_path: object) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "craflow.cli", "--version"],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("craflow ")


def test_the_ephemeral_prefect_api_gets_a_start_up_allowance_unless_one_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from craflow.cli import _prefect_defaults

    variable = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CRAFLOW_PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
    _prefect_defaults()
    assert os.environ[variable] == "240"

    monkeypatch.setenv(variable, "42")
    _prefect_defaults()
    assert os.environ[variable] == "42"
