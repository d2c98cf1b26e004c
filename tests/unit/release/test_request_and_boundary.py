"""The seams that used to disagree: one request model, one error table, one slug rule."""

import ast
from pathlib import Path

import pytest

from config.release import ReleaseSettings
from craflow.boundary import exit_code_for
from craflow.evidence.errors import InvalidArchiveUriError
from craflow.evidence.uri import FileLocation, S3Location
from craflow.exitcodes import ExitCode
from craflow.release.errors import GateConfigError, ReleaseInputError, TransitionError
from craflow.release.gate import Finding, GatePolicy, ReadinessFacts, evaluate_gate
from craflow.release.request import ReleaseRequest, SweepRequest
from craflow.release.states import promotion_blocker

ROOT = Path(__file__).resolve().parents[3]
READY = ReadinessFacts(cra_floor_ready=True, release_policy_ready=True)


def test_the_export_target_is_parsed_once_into_a_location_and_serialised_back() -> None:
    request = ReleaseRequest.build(
        product="shop", version="1.0", sbom="s3://b/k.json", export="s3://evidence/cra"
    )
    assert request.export == S3Location(bucket="evidence", key="cra")
    dumped = request.model_dump(mode="json")
    assert dumped["export"] == "s3://evidence/cra"
    again = ReleaseRequest.model_validate(dumped)  # what Prefect does with an event's value
    assert again == request
    local = ReleaseRequest.build(product="shop", version="1.0", sbom="x", export="/tmp/a")
    assert isinstance(local.export, FileLocation)


@pytest.mark.parametrize(
    ("fields", "error", "code"),
    [
        ({"product": "Web Shop"}, ReleaseInputError, ExitCode.VALIDATION),
        ({"version": "1 0"}, ReleaseInputError, ExitCode.VALIDATION),
        ({"export": "s3://A_b/x"}, InvalidArchiveUriError, ExitCode.VALIDATION),
        ({"fail_on": "severe"}, GateConfigError, ExitCode.AUTH_OR_USAGE),
        ({"unknown_as": "none"}, GateConfigError, ExitCode.AUTH_OR_USAGE),
        ({"promote": "shipped"}, TransitionError, ExitCode.AUTH_OR_USAGE),
        ({"sbom": None}, GateConfigError, ExitCode.AUTH_OR_USAGE),
    ],
)
def test_a_bad_field_raises_its_typed_error_with_one_exit_code(
    fields: dict[str, object], error: type[Exception], code: ExitCode
) -> None:
    base: dict[str, object] = {"product": "shop", "version": "1.0", "sbom": "x", **fields}
    with pytest.raises(error) as raised:
        ReleaseRequest.build(**base)
    assert exit_code_for(raised.value) == code


def test_sweep_and_release_agree_on_a_bad_archive_uri() -> None:
    with pytest.raises(InvalidArchiveUriError) as raised:
        SweepRequest.build(export="ftp://x/y")
    assert exit_code_for(raised.value) == ExitCode.VALIDATION


def test_defaults_live_in_the_settings_and_are_resolved_at_run_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = ReleaseRequest.build(product="shop", version="1.0", sbom="x")
    assert request.fail_on is None and request.unknown_as is None and request.promote is None
    monkeypatch.setenv("CRAFLOW_RELEASE_UNKNOWN_AS", "ignore")
    settings = ReleaseSettings()
    assert request.policy(settings.fail_on, settings.unknown_as).unknown_as == "ignore"


@pytest.mark.parametrize(
    ("unknown_as", "passed", "phrase"),
    [
        ("high", False, "1 counted as high: no CVSS"),
        ("critical", False, "1 counted as critical: no CVSS"),
        ("low", True, "none blocks"),
        ("ignore", True, "none blocks"),
    ],
)
def test_unknown_severity_is_counted_as_the_policy_says(
    unknown_as: str, passed: bool, phrase: str
) -> None:
    policy = GatePolicy.parse("high", unknown_as=unknown_as)  # type: ignore[arg-type]
    findings = [Finding("PYSEC-2018-28", "unknown"), Finding("GHSA-low", "low")]
    verdict = evaluate_gate(policy, findings, readiness=READY)
    assert verdict.passed is passed
    assert phrase in "; ".join(verdict.reasons)
    assert f"unknown_as={unknown_as}" in verdict.policy


def test_promotion_is_refused_before_the_first_step_when_the_policy_is_not_met() -> None:
    refused = promotion_blocker(
        "draft", "released", release_policy_ready=False, blockers=["GHSA-1: critical"]
    )
    assert refused == "GHSA-1: critical"
    assert promotion_blocker("draft", "approved", release_policy_ready=False, blockers=[]) is None
    assert promotion_blocker("draft", "released", release_policy_ready=True, blockers=[]) is None
    assert (
        promotion_blocker("released", "released", release_policy_ready=False, blockers=[]) is None
    )


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:  # module level: what a library depends on
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("library", ["api", "sbom", "evidence", "release", "sweep"])
def test_libraries_know_no_error_table(library: str) -> None:
    for path in (ROOT / "craflow" / library).rglob("*.py"):
        assert "craflow.boundary" not in _imports(path), path
    if library in {"api", "sbom", "evidence"}:
        for path in (ROOT / "craflow" / library).rglob("*.py"):
            assert "craflow.exitcodes" not in _imports(path), path


def test_retries_are_given_to_tasks_when_a_run_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.products import resolve_product
    from tasks.retry import with_retries

    assert resolve_product.retries == 0  # defined without numbers
    monkeypatch.setenv("CRAFLOW_RELEASE_TASK_RETRIES", "7")
    configured = with_retries(resolve_product, ReleaseSettings())
    assert configured.retries == 7
    assert configured.retry_condition_fn is resolve_product.retry_condition_fn
