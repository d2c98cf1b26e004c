import subprocess
import sys

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
