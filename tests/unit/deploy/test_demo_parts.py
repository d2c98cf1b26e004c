"""The demo's Prefect-free parts: its environment, its story check and its report."""

from pathlib import Path

from config.deploy import DemoSettings
from craflow.demo.environment import (
    DemoSurroundings,
    apply_environment,
    demo_environment,
)
from craflow.demo.report import comparison_line, release_line, verification_line
from craflow.demo.sample import FIXED_REQUIREMENTS, VULNERABLE_REQUIREMENTS, write_sample
from craflow.release.outcome import ReleaseOutcome
from craflow.sandbox.runner import RunningSandbox
from craflow.sandbox.s3 import LocalS3


def _surroundings(tmp_path: Path) -> DemoSurroundings:
    sandbox = RunningSandbox(
        url="http://127.0.0.1:1111",
        api_url="http://127.0.0.1:1111/api/v1",
        api_key="cra_sandboxkey",
        owner_email="owner@example.test",
        owner_password="pw",
        data_dir=tmp_path,
    )
    return DemoSurroundings(
        sandbox=sandbox,
        s3=LocalS3(endpoint_url="http://127.0.0.1:2222"),
        bucket="craflow-demo-evidence",
        workdir=tmp_path,
    )


def test_the_demo_environment_points_only_at_what_the_demo_started(tmp_path: Path) -> None:
    env = demo_environment(
        _surroundings(tmp_path), DemoSettings(), prefect_home=tmp_path / "h", prefect_api_url=None
    )
    assert env["CRA_EVIDENCE_URL"] == "http://127.0.0.1:1111"
    assert env["CRA_EVIDENCE_API_KEY"] == "cra_sandboxkey"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:2222"
    assert env["PREFECT_HOME"] == str(tmp_path / "h")
    assert env["CRAFLOW_EVIDENCE_DESTINATION"] == "s3://craflow-demo-evidence/evidence"
    assert "PREFECT_API_URL" not in env


def test_applying_the_environment_drops_the_users_real_servers(tmp_path: Path) -> None:
    target = {
        "PATH": "/bin",
        "PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/a/workspaces/w",
        "PREFECT_API_KEY": "pnu_real",
        "CRA_EVIDENCE_EMAIL": "me@example.com",
        "AWS_PROFILE": "production",
    }
    apply_environment(target, {"PREFECT_HOME": "/tmp/demo"})
    assert target == {"PATH": "/bin", "PREFECT_HOME": "/tmp/demo"}


def test_the_sample_versions_differ_in_the_vulnerable_pin(tmp_path: Path) -> None:
    first = write_sample(tmp_path, "1.0.0", VULNERABLE_REQUIREMENTS)
    second = write_sample(tmp_path, "1.1.0", FIXED_REQUIREMENTS)
    assert "requests==2.19.0" in first.read_text()
    assert "requests==2.19.0" not in second.read_text()
    assert first.parent.name == "1.0.0"


def test_report_lines_say_blocked_or_released() -> None:
    blocked = ReleaseOutcome(
        product="p", version="1.0.0", verdict="blocked", exit_code=11, reasons=["2 open high"]
    )
    passed = ReleaseOutcome(
        product="p",
        version="1.1.0",
        verdict="passed",
        exit_code=0,
        promoted_to="released",
        archive_uri="s3://b/evidence/p/1.1.0/run/",
    )
    assert release_line("1.0.0", blocked) == "release 1.0.0: BLOCKED (exit 11): 2 open high"
    assert release_line("1.1.0", passed) == (
        "release 1.1.0: PASSED, promoted to released, archived at s3://b/evidence/p/1.1.0/run/"
    )
    assert release_line("2.0.0", RuntimeError("boom\ntrace")) == "release 2.0.0: ERROR: boom"
    assert verification_line(None) == "archive: nothing to verify"
    assert comparison_line(DemoSettings(), None) == "compare: not run"


def test_the_demo_paces_to_its_sandbox_scaled_windows(tmp_path: Path) -> None:
    from craflow.demo.environment import RATE_SCALE

    env = demo_environment(
        _surroundings(tmp_path), DemoSettings(), prefect_home=tmp_path / "h", prefect_api_url=None
    )
    assert float(env["CRAFLOW_RATE_WINDOW_SCALE"]) == RATE_SCALE


def test_both_versions_pin_the_component_whose_triage_carries(tmp_path: Path) -> None:
    from craflow.demo.sample import TRIAGED_COMPONENT

    pin = f"{TRIAGED_COMPONENT}==1.11.0"
    assert pin in VULNERABLE_REQUIREMENTS and pin in FIXED_REQUIREMENTS


def test_report_says_what_was_carried_and_where_the_case_drafts_are(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from craflow.demo.incident import CaseDrafts
    from craflow.demo.report import case_lines, triage_line
    from craflow.incident.model import Case, CaseOpened

    settings = DemoSettings()
    passed = ReleaseOutcome(
        product="p",
        version="1.1.0",
        verdict="passed",
        exit_code=0,
        triage_carried="1 carried from 1.0.0, 0 need review",
    )
    assert triage_line(settings, 1, passed).endswith("1 carried from 1.0.0, 0 need review")
    assert triage_line(settings, RuntimeError("no api"), None) == "triage: ERROR: no api"
    now = datetime(2026, 11, 30, tzinfo=UTC)
    case = Case(
        opened=CaseOpened(
            recorded_at=now,
            case_id="p--demo-2026-0001",
            product="p",
            vulnerability="DEMO-2026-0001",
            became_aware_at=now,
            source="kev",
            affected_versions=("1.1.0",),
        ),
        affected_versions=("1.1.0",),
    )
    drafts = CaseDrafts(case, tmp_path, tmp_path / "p--demo-2026-0001.csaf.json", 7)
    first, where = case_lines("CVE-2026-0001", drafts)
    assert "case p--demo-2026-0001 opened (assessing, affected released: 1.1.0)" in first
    assert str(tmp_path) in where and "p--demo-2026-0001.csaf.json" in where
    assert case_lines("CVE-2026-0001", None) == ["Art. 14 case: not run"]
