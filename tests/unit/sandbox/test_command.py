from pathlib import Path

from typer.testing import CliRunner

from craflow.cli import app
from craflow.exitcodes import ExitCode

runner = CliRunner()


def test_out_of_bounds_setting_is_a_one_line_usage_error() -> None:
    result = runner.invoke(app, ["sandbox", "--rate-scale", "0"])
    assert result.exit_code == ExitCode.AUTH_OR_USAGE
    assert "rate_scale" in result.output


def test_missing_osv_path_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sandbox", "--osv", str(tmp_path / "nope.json")])
    assert result.exit_code == ExitCode.FILE_NOT_FOUND
    assert "does not exist" in result.output


def test_help_lists_every_option() -> None:
    result = runner.invoke(app, ["sandbox", "--help"])
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--data-dir",
        "--api-key",
        "--scan-seconds",
        "--rate-scale",
        "--osv",
    ):
        assert option in result.output
