"""`craflow incident`: one line and exit 4 on bad input, nothing changed; JSON; drafts."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from craflow.cli import app
from craflow.commands import incident as command
from tests.unit.incident.conftest import T0, VirtualClock

runner = CliRunner()
CASE = "widget--cve-2024-3094"
EARLY = ("submitted", CASE, "--stage", "early-warning", "--reference", "R")


@pytest.fixture
def archive(tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(command, "now", clock)
    monkeypatch.delenv("CRA_EVIDENCE_URL", raising=False)
    root = tmp_path / "archive"
    monkeypatch.setenv("CRAFLOW_EVIDENCE_DESTINATION", root.as_uri())
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["incident", *args])
    return result.exit_code, result.stdout, result.stderr


def events(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*.json"))


def opened(clock: VirtualClock) -> None:
    code, _, err = run(
        "open",
        "-p",
        "widget",
        "-v",
        "CVE-2024-3094",
        "--version",
        "1.4.0",
        "--markets",
        "DE,fr",
        "--at",
        T0.isoformat(),
    )
    assert code == 0, err
    clock.advance(hours=2)


def test_open_list_show_as_json(archive: Path, clock: VirtualClock) -> None:
    opened(clock)
    code, out, _ = run("list", "--json")
    assert code == 0
    [case] = json.loads(out)
    assert case["case_id"] == CASE
    assert case["target_markets"] == ["DE", "FR"]
    early = case["stages"][0]
    assert early["deadline"] == (T0 + timedelta(hours=24)).isoformat()
    assert early["seconds_left"] == 22 * 3600
    code, out, _ = run("show", CASE)
    assert code == 0 and "22h 00m left" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("submitted", "widget--cve-1999-1", "--stage", "early-warning", "--reference", "R"),
            "no case",
        ),
        (
            ("submitted", CASE, "--stage", "notification", "--reference", "R"),
            "before early-warning",
        ),
        ((*EARLY, "--at", "2027-01-01T00:00Z"), "in the future"),
        ((*EARLY, "--at", "2026-11-02T09:00"), "needs a zone"),
        (("submitted", CASE, "--stage", "late", "--reference", "R"), "unknown stage"),
        (("close", CASE, "--not-affected"), "needs --justification"),
        (("close", CASE, "--justification", "component_not_present"), "needs --not-affected"),
        (("close", CASE, "--not-affected", "--justification", "trust me"), "unknown justification"),
        (("show", "../../etc"), "not a case id"),
        (("open", "-p", "widget", "-v", "CVE-1", "--markets", "Germany"), "alpha-2"),
    ],
)
def test_bad_input_is_one_line_exit_4_nothing_changed(
    archive: Path, clock: VirtualClock, args: tuple[str, ...], message: str
) -> None:
    opened(clock)
    before = events(archive)
    code, _, err = run(*args)
    assert code == 4
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert events(archive) == before


def test_submit_fix_close_keep_the_timeline(archive: Path, clock: VirtualClock) -> None:
    opened(clock)
    at = (T0 + timedelta(hours=1)).isoformat()
    assert (
        run("submitted", CASE, "--stage", "early-warning", "--reference", "EW-1", "--at", at)[0]
        == 0
    )
    code, out, _ = run("fixed", CASE, "--version", "1.4.1", "--json")
    assert code == 0
    final = json.loads(out)["stages"][2]
    assert final["deadline"] == (clock.now + timedelta(days=14)).isoformat()
    code, out, _ = run(
        "close",
        CASE,
        "--not-affected",
        "--justification",
        "vulnerable_code_not_in_execute_path",
        "--note",
        "build-time only",
    )
    assert code == 0 and "closed as not affected" in out and "VEX statement" in out
    assert sorted(p.name for p in (archive / "incidents").rglob("*.json")) == [
        "000000-opened.json",
        "000001-submitted.json",
        "000002-fix_released.json",
        "000003-closed_not_affected.json",
    ]
    vex = json.loads((archive / "incident-vex" / CASE / "1.4.0.cdx.json").read_text())
    [statement] = vex["vulnerabilities"]
    assert statement["analysis"]["state"] == "not_affected"
    assert str(archive / "incident-vex" / CASE) in out.replace("file://", "")
    assert run("list")[1].strip() == "no open cases"


def test_drafts_are_written(archive: Path, clock: VirtualClock, tmp_path: Path) -> None:
    opened(clock)
    code, out, err = run("drafts", CASE, "-o", str(tmp_path / "drafts"))
    assert code == 0, err
    assert len(out.strip().splitlines()) == 7
    csaf = json.loads((tmp_path / "drafts" / f"{CASE}.csaf.json").read_text())
    assert csaf["document"]["tracking"]["status"] == "draft"


def test_help_has_examples() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "craflow incident submitted" in out
