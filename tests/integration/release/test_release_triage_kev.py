"""Release steps of issues 16 and 17: carry triage before the gate, archive and upload the
VEX, open one Art. 14 case per KEV-listed vulnerability however many runs see it."""

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from craflow.cli import app
from craflow.release.request import ReleaseRequest
from flows.release import run_release, run_request
from tests.integration.release.helpers import Sandbox, write_bom
from tests.integration.release.test_release_flow import GHSA_REQUESTS

pytestmark = pytest.mark.integration

KEV_CVE = "CVE-2099-12345"  # made up; listed in the sandbox's KEV catalogue by the test
KEVLIB_ADVISORY = {
    "id": "GHSA-kev0-test-0001",
    "aliases": [KEV_CVE],
    "summary": "A made-up flaw in kevlib, later listed in CISA KEV",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "kevlib"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}],
        }
    ],
}


def _run_folder(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def test_carried_triage_is_not_counted_and_is_archived_with_the_vex(
    release_env: tuple[Sandbox, str], tmp_path: Path
) -> None:
    box, _ = release_env
    archive = (tmp_path / "archive").as_uri()
    box.post("/_sandbox/osv", GHSA_REQUESTS)
    blocked = run_release(
        "carrier",
        "1.0",
        sbom=str(write_bom(tmp_path / "1.0.json", "carrier", "1.0", {"requests": "2.19.0"})),
        export=archive,
    )
    assert not isinstance(blocked, BaseException) and blocked.exit_code == 11
    first = box.findings("carrier", "1.0")
    for finding in first:
        box.triage(finding["id"], "not_affected", "vulnerable_code_not_in_execute_path")
    sbom = write_bom(
        tmp_path / "1.1.json", "carrier", "1.1", {"requests": "2.19.0", "idna": "3.10"}
    )

    # --no-carry-triage: nothing carried, the same findings block 1.1
    result = CliRunner().invoke(
        app,
        [
            *("release", "--product", "carrier", "--version", "1.1", "--sbom", str(sbom)),
            *("--previous", "1.0", "--export", archive, "--no-carry-triage", "--json"),
        ],
    )
    assert result.exit_code == 11, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["triage_carried"] is None
    assert {f["status"] for f in box.findings("carrier", "1.1")} == {"open"}

    # carried (the default): the gate counts nothing open, 1.1 is released
    request = ReleaseRequest.build(
        product="carrier", version="1.1", sbom=str(sbom), previous="1.0", export=archive
    )
    passed = run_request(request)
    assert not isinstance(passed, BaseException), passed
    assert (passed.verdict, passed.promoted_to) == ("passed", "released")
    summary = f"{len(first)} carried from 1.0, 0 need review"
    assert passed.triage_carried == summary
    now = box.findings("carrier", "1.1")
    assert {(f["status"], f["justification"]) for f in now} == {
        ("not_affected", "vulnerable_code_not_in_execute_path")
    }
    assert all(f["notes"].startswith("Carried from 1.0") for f in now)

    assert passed.archive_uri is not None
    folder = _run_folder(passed.archive_uri)
    carry = json.loads((folder / "carry.json").read_text())
    assert carry["summary"] == summary and len(carry["carried"]) == len(first)
    vex = json.loads((folder / "vex.cdx.json").read_text())
    assert {v["analysis"]["state"] for v in vex["vulnerabilities"]} == {"not_affected"}
    # uploaded before the technical file was fetched: the archived one lists it under vex/
    with zipfile.ZipFile(folder / "technical-file.zip") as technical_file:
        assert "vex/vex.cdx.json" in technical_file.namelist()


def _cases(archive_root: Path) -> list[Path]:
    return sorted(p for p in (archive_root / "incidents").iterdir() if p.is_dir())


def test_a_kev_hit_opens_one_case_however_many_runs_see_it(
    release_env: tuple[Sandbox, str], tmp_path: Path
) -> None:
    box, _ = release_env
    root = tmp_path / "archive"
    box.post("/_sandbox/osv", KEVLIB_ADVISORY)
    first = run_release(
        "kevshop",
        "1.0",
        sbom=str(write_bom(tmp_path / "1.0.json", "kevshop", "1.0", {"kevlib": "1.0"})),
        export=root.as_uri(),
    )
    assert not isinstance(first, BaseException) and first.promoted_to == "released", first
    assert not (root / "incidents").exists()  # no KEV entry yet, no case

    # the entry appears in KEV after 1.0 was released; a rescan (the sweep's) flags it
    box.post("/_sandbox/kev", {"cve_ids": [KEV_CVE]})
    box.rescan("kevshop", "1.0")
    sbom = write_bom(tmp_path / "1.1.json", "kevshop", "1.1", {"kevlib": "1.0", "idna": "3.10"})
    outcomes = [
        run_release("kevshop", "1.1", sbom=str(sbom), export=root.as_uri()) for _ in range(2)
    ]
    outcomes.append(
        run_release(
            "kevshop",
            "1.0",
            sbom=str(tmp_path / "1.0.json"),
            export=root.as_uri(),
        )
    )
    for outcome in outcomes:
        assert not isinstance(outcome, BaseException), outcome
    assert outcomes[0].promoted_to is None  # an open KEV entry: the server refuses 1.1

    [case] = _cases(root)
    assert case.name == "kevshop--ghsa-kev0-test-0001"
    events = sorted(p.name for p in case.iterdir())
    assert events[0] == "000000-opened.json"
    opened = json.loads((case / events[0]).read_text())["event"]
    # 1.1 is not released: only the released 1.0 is an affected released version
    assert opened["affected_versions"] == ["1.0"]
    assert KEV_CVE in opened["facts"]["aliases"]
    assert not any("versions_seen" in name for name in events)
