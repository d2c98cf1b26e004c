"""`craflow trigger-release`, `serve`, `deploy` and `setup` without a Prefect server."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import deployments.events
from craflow.cli import app
from craflow.exitcodes import ExitCode
from deployments.triggers import ReleaseEvent

runner = CliRunner()


@pytest.fixture
def no_prefect_server() -> Iterator[None]:
    """No Prefect API configured, even while the session's test harness is up."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        yield


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[ReleaseEvent]:
    sent: list[ReleaseEvent] = []

    def fake_emit(request: ReleaseEvent, *, timeout: float) -> str:
        sent.append(request)
        return "event-1"

    monkeypatch.setattr(deployments.events, "emit_release_requested", fake_emit)
    return sent


def test_trigger_release_sends_only_what_was_given(
    emitted: list[ReleaseEvent], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app,
        [
            "trigger-release",
            "--product",
            "webshop",
            "--version",
            "1.2.0",
            "--sbom",
            "out.cdx.json",
            "--fail-on",
            "critical",
            "--new-only",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "event-1" in result.output
    (request,) = emitted
    assert request.product == "webshop"
    assert request.payload == {
        "version": "1.2.0",
        "sbom": str(tmp_path.resolve() / "out.cdx.json"),
        "fail_on": "critical",
        "new_only": True,
    }


def test_trigger_release_reads_the_platform_cli_variables(
    emitted: list[ReleaseEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRA_EVIDENCE_PRODUCT", "webshop")
    monkeypatch.setenv("CRA_EVIDENCE_VERSION", "3.0.0")
    result = runner.invoke(app, ["trigger-release", "--sbom", "s3://bucket/sbom.json"])
    assert result.exit_code == 0, result.output
    (request,) = emitted
    assert (request.product, request.payload["version"]) == ("webshop", "3.0.0")
    assert request.payload["sbom"] == "s3://bucket/sbom.json"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--product", "Web Shop", "--version", "1", "--sbom", "s3://b/k"],
            "is not a slug",
        ),
        (["--product", "webshop", "--version", "1"], "give an SBOM location"),
        (
            ["--product", "webshop", "--version", "1", "--sbom", "s3://b/k", "--fail-on", "bad"],
            "--fail-on must be",
        ),
    ],
)
def test_trigger_release_refuses_bad_input_in_one_line(
    emitted: list[ReleaseEvent], args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["trigger-release", *args])
    assert result.exit_code == ExitCode.AUTH_OR_USAGE
    assert message in result.output
    assert emitted == []


@pytest.mark.usefixtures("no_prefect_server")
def test_trigger_release_without_a_prefect_server_says_how_to_configure_one() -> None:
    result = runner.invoke(
        app, ["trigger-release", "--product", "webshop", "--version", "1", "--sbom", "s3://b/k"]
    )
    assert result.exit_code == ExitCode.CONFIGURATION
    assert "PREFECT_API_URL" in result.output


@pytest.mark.usefixtures("no_prefect_server")
@pytest.mark.parametrize("command", ["serve", "deploy", "setup"])
def test_server_commands_without_a_prefect_server_fail_with_configuration(command: str) -> None:
    result = runner.invoke(app, [command])
    assert result.exit_code == ExitCode.CONFIGURATION
    assert "PREFECT_API_URL" in result.output


def test_bad_deploy_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFLOW_DEPLOY_SERVE_LIMIT", "0")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == ExitCode.CONFIGURATION
    assert "CRAFLOW_DEPLOY_SERVE_LIMIT" in result.output


def test_an_unreachable_prefect_server_is_one_line_not_a_traceback(
    emitted: list[ReleaseEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(request: ReleaseEvent, *, timeout: float) -> str:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")

    monkeypatch.setattr(deployments.events, "emit_release_requested", refuse)
    result = runner.invoke(
        app, ["trigger-release", "--product", "webshop", "--version", "1", "--sbom", "s3://b/k"]
    )
    assert result.exit_code == ExitCode.ERROR
    assert "did not accept the event: ConnectionRefusedError" in result.output
    assert "Traceback" not in result.output
