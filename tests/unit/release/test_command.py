import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import flows.release
from config.release import ReleaseSettings
from craflow.api import AuthenticationError
from craflow.cli import app
from craflow.release.outcome import ReleaseOutcome
from craflow.release.request import ReleaseRequest
from flows.release import start_run


@pytest.fixture
def sbom(tmp_path: Path) -> Path:
    path = tmp_path / "bom.json"
    path.write_text("{}")
    return path


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["release", *args], env=env)


def test_needs_exactly_one_sbom_input(sbom: Path) -> None:
    assert invoke("--product", "p", "--version", "1").exit_code == 2
    both = invoke("--product", "p", "--version", "1", "--sbom", str(sbom), "--from", "env:py")
    assert both.exit_code == 2
    assert "exactly one of --sbom" in both.stderr


def test_missing_sbom_file_is_exit_5(tmp_path: Path) -> None:
    result = invoke("--product", "p", "--version", "1", "--sbom", str(tmp_path / "nope.json"))
    assert result.exit_code == 5
    assert "SBOM file not found" in result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--fail-on", "severe"), ("--promote", "shipped"), ("--unknown-as", "none")],
)
def test_bad_options_are_usage_errors(sbom: Path, option: str, value: str) -> None:
    result = invoke("--product", "p", "--version", "1", "--sbom", str(sbom), option, value)
    assert result.exit_code == 2
    assert value in result.stderr


def test_bad_setting_is_a_configuration_error(sbom: Path) -> None:
    result = invoke(
        "--product",
        "p",
        "--version",
        "1",
        "--sbom",
        str(sbom),
        env={"CRAFLOW_RELEASE_POLL_JITTER": "7"},
    )
    assert result.exit_code == 6
    assert "CRAFLOW_RELEASE_POLL_JITTER" in result.stderr


def test_outcome_becomes_exit_code_and_json(sbom: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(request: ReleaseRequest, settings: ReleaseSettings) -> ReleaseOutcome:
        seen["request"], seen["run"] = request, start_run(request, settings)
        return ReleaseOutcome(
            product="p",
            version="1",
            verdict="failed",
            exit_code=11,
            reasons=["1 open high vulnerability: GHSA-1"],
        )

    monkeypatch.setattr(flows.release, "run_request", fake_run)
    result = invoke(
        "--product",
        "p",
        "--sbom",
        str(sbom),
        "--json",
        env={"CRA_EVIDENCE_VERSION": "1", "CRAFLOW_RELEASE_FAIL_ON": "medium"},
    )
    assert result.exit_code == 11
    assert json.loads(result.stdout)["reasons"] == ["1 open high vulnerability: GHSA-1"]
    run = seen["run"]
    assert (run.version_number, run.policy.fail_on, run.promote) == ("1", "medium", "released")
    assert run.policy.unknown_as == "high"
    assert seen["request"].sbom == str(sbom.resolve())


def test_an_error_becomes_its_exit_code(sbom: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        flows.release,
        "run_request",
        lambda *_: AuthenticationError(
            401, code="AUTHENTICATION_REQUIRED", detail="bad key", body={}
        ),
    )
    result = invoke("--product", "p", "--version", "1", "--sbom", str(sbom))
    assert result.exit_code == 2
    assert "401 AUTHENTICATION_REQUIRED: bad key" in result.stderr


def _never_run(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []
    monkeypatch.setattr(flows.release, "run_request", lambda *a: calls.append(a))
    return calls


@pytest.mark.parametrize(
    ("export", "phrase"),
    [
        ("{file}", "is a file, not a folder"),
        ("{file}/sub", "under a file"),
        ("s3://A_bad_bucket/x", "not a valid S3 bucket name"),
        ("ftp://host/x", "unsupported archive scheme"),
    ],
)
def test_unwritable_export_is_refused_before_the_flow(
    sbom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, export: str, phrase: str
) -> None:
    calls = _never_run(monkeypatch)
    target = export.format(file=sbom)
    result = invoke("--product", "p", "--version", "1", "--sbom", str(sbom), "--export", target)
    assert result.exit_code == 4, result.stderr
    assert phrase in result.stderr
    assert result.stderr.startswith("craflow release: --export: ")
    assert calls == []


@pytest.mark.parametrize("verbose", [False, True])
def test_prefect_tracebacks_reach_the_terminal_only_with_verbose(verbose: bool) -> None:
    import io
    import logging

    from craflow.commands.release import _quiet_prefect

    out = io.StringIO()
    terminal = logging.StreamHandler(out)
    prefect_logger = logging.getLogger("prefect")
    prefect_logger.addHandler(terminal)
    try:
        with _quiet_prefect(verbose):
            try:
                raise ValueError("boom")
            except ValueError:
                logging.getLogger("prefect.craflow-test").error("Task run failed", exc_info=True)
    finally:
        prefect_logger.removeHandler(terminal)
    text = out.getvalue()
    assert "Task run failed" in text
    assert ("Traceback" in text) is verbose
