"""`craflow triage` and `craflow vex` against the sandbox: PATCH rules, round trips, hostile input.

Round trip: triage 1.0 through the CLI, export it in each format, apply the file to a
fresh 2.0 with the same SBOM: 2.0 ends with 1.0's statuses, justifications and notes,
and applying the same file again changes nothing.
"""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from craflow.cli import app
from craflow.exitcodes import ExitCode
from tests.integration.sandbox.helpers import cyclonedx, ingest, new_version, wait_scan

pytestmark = pytest.mark.integration

SBOM = cyclonedx(
    ("requests", "2.19.0", "pkg:pypi/requests@2.19.0"),
    ("jinja2", "2.10", "pkg:pypi/jinja2@2.10"),
    ("urllib3", "1.24.1", "pkg:pypi/urllib3@1.24.1"),
)
TRIAGE = [
    ("not_affected", "vulnerable_code_not_in_execute_path", "never called"),
    ("false_positive", None, "scanner confused"),
    ("accepted_risk", None, "internal only"),
    ("wont_fix", None, None),
    ("fixed", None, "patched downstream"),
    ("in_progress", None, None),
]


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def scanned_version(api: httpx.Client, slug: str, number: str) -> str:
    _, version_id = new_version(api, slug, number)
    assert ingest(api, version_id, SBOM).status_code == 201
    assert wait_scan(api, version_id)["scan_state"] == "completed"
    return version_id


def findings(api: httpx.Client, version_id: str) -> list[dict[str, Any]]:
    body = api.get("/vulnerabilities", params={"version_id": version_id, "per_page": 100})
    items: list[dict[str, Any]] = body.json()["items"]
    return items


def triage_view(api: httpx.Client, version_id: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (v["vuln_id"], v["component"]["purl"]): (v["status"], v["justification"], v["notes"])
        for v in findings(api, version_id)
    }


def one_line_error(result: Any, code: int, phrase: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert phrase.lower() in lines[0].lower(), lines[0]


def test_patch_rules_of_section_7(api: httpx.Client) -> None:
    version_id = scanned_version(api, "rules", "1.0")
    vuln = findings(api, version_id)[0]
    path = f"/vulnerabilities/{vuln['id']}"
    refused = api.patch(path, json={"status": "not_affected"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    assert api.patch(path, json={"notes": "x" * 10_001}).status_code == 422
    assert api.patch(path, json={"justification": "because"}).status_code == 422
    ok = api.patch(
        path, json={"status": "not_affected", "justification": "component_not_present"}
    ).json()
    assert (ok["status"], ok["justification"]) == ("not_affected", "component_not_present")
    assert ok["status_changed_at"] is not None
    reopened = api.patch(path, json={"status": "open"}).json()
    assert reopened["justification"] is None  # it explained "not affected" only


def test_triage_set_bad_input_exits_4_and_changes_nothing(api: httpx.Client) -> None:
    version_id = scanned_version(api, "bad-input", "1.0")
    before = triage_view(api, version_id)
    vuln = findings(api, version_id)[0]
    cases = [
        (["--status", "ignored"], "unknown status"),
        (["--status", "not_affected"], "needs --justification"),
        (["--status", "not_affected", "-j", "trust_me"], "unknown justification"),
        (["--status", "fixed", "--note", "x" * 10_001], "longer than"),
    ]
    for extra, phrase in cases:
        one_line_error(run("triage", "set", vuln["id"], *extra), ExitCode.VALIDATION, phrase)
    unknown = run("triage", "set", "00000000-0000-0000-0000-000000000000", "--status", "fixed")
    one_line_error(unknown, ExitCode.VALIDATION, "no finding")
    by_cve = run("triage", "set", "CVE-1999-0001", "-p", "bad-input", "-v", "1.0", "-s", "fixed")
    one_line_error(by_cve, ExitCode.VALIDATION, "no finding")
    assert triage_view(api, version_id) == before


def _triage_through_cli(api: httpx.Client, version_id: str) -> None:
    for vuln, (status, justification, note) in zip(findings(api, version_id), TRIAGE, strict=False):
        args = ["triage", "set", vuln["id"], "--status", status]
        args += ["--justification", justification] if justification else []
        args += ["--note", note] if note else []
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        assert f"-> {status}" in result.stdout


@pytest.mark.parametrize("fmt", ["cyclonedx", "openvex", "csaf"])
def test_export_then_apply_on_a_fresh_version(api: httpx.Client, fmt: str, tmp_path: Path) -> None:
    slug = f"round-{fmt}"
    v1 = scanned_version(api, slug, "1.0")
    assert len(findings(api, v1)) >= len(TRIAGE), "the SBOM should give enough findings"
    _triage_through_cli(api, v1)
    table = run("triage", "list", "-p", slug, "-v", "1.0")
    assert table.exit_code == 0
    assert "vulnerabilities" in table.stdout
    assert "not_affected" in table.stdout
    listed = run("triage", "list", "-p", slug, "-v", "1.0", "--json")
    assert listed.exit_code == 0
    assert {v["status"] for v in json.loads(listed.stdout)} >= {"not_affected", "wont_fix"}

    out = tmp_path / f"vex.{fmt}.json"
    exported = run("vex", "export", "-p", slug, "-v", "1.0", "--format", fmt, "-o", str(out))
    assert exported.exit_code == 0, exported.stderr
    v2 = scanned_version(api, slug, "2.0")
    applied = run("vex", "apply", str(out), "-p", slug, "-v", "2.0", "--json")
    assert applied.exit_code == 0, applied.stderr
    report = json.loads(applied.stdout)
    assert report["format"] == fmt
    assert len(report["changed"]) == 5  # everything but the one in_progress
    assert report["matched_nothing"] == []
    assert triage_view(api, v2) == {
        key: (
            status if status != "in_progress" else "open",
            j,
            n if status != "in_progress" else None,
        )
        for key, (status, j, n) in triage_view(api, v1).items()
    }
    again = run("vex", "apply", str(out), "-p", slug, "-v", "2.0", "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["changed"] == []


def test_hostile_vex_files_change_nothing(api: httpx.Client, tmp_path: Path) -> None:
    version_id = scanned_version(api, "hostile-vex", "1.0")
    before = triage_view(api, version_id)
    vuln = findings(api, version_id)[0]
    statement = {
        "vulnerability": {"name": vuln["vuln_id"]},
        "products": [{"@id": vuln["component"]["purl"]}],
        "status": "fixed",
    }

    def openvex(*statements: dict[str, Any]) -> bytes:
        return json.dumps(
            {"@context": "https://openvex.dev/ns/v0.2.0", "statements": list(statements)}
        ).encode()

    files = {
        "wrong-format.json": (b'{"spdxVersion": "SPDX-2.3"}', "not a VEX document"),
        "huge.json": (b" " * (2 << 20) + b"{}", "over the limit"),
        "unknown-ids.json": (
            openvex({**statement, "vulnerability": {"name": "CVE-1999-0001"}}),
            "none of the 1 statements matches",
        ),
        "not-allowed.json": (
            openvex(statement, {**statement, "status": "exploited"}),
            "cannot be applied",
        ),
        "conflict.json": (
            openvex(statement, {**statement, "status": "affected", "action_statement": "x"}),
            "conflicting",
        ),
    }
    for name, (content, phrase) in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = CliRunner().invoke(
            app,
            ["vex", "apply", str(path), "-p", "hostile-vex", "-v", "1.0"],
            env={"CRAFLOW_VEX_MAX_INPUT_BYTES": str(1 << 20)},
        )
        one_line_error(result, ExitCode.VALIDATION, phrase)
    missing = run("vex", "apply", str(tmp_path / "nope.json"), "-p", "hostile-vex", "-v", "1.0")
    one_line_error(missing, ExitCode.FILE_NOT_FOUND, "no such file")
    assert triage_view(api, version_id) == before


def test_vex_upload_is_stored_and_listed_in_the_technical_file(
    api: httpx.Client, tmp_path: Path
) -> None:
    from craflow.api import ApiSettings, CraEvidenceClient
    from craflow.vex.platform import upload_vex

    version_id = scanned_version(api, "upload-vex", "1.0")
    before = triage_view(api, version_id)
    out = tmp_path / "shop.vex.cdx.json"
    assert run("vex", "export", "-p", "upload-vex", "-v", "1.0", "-o", str(out)).exit_code == 0
    with CraEvidenceClient(ApiSettings()) as craflow_client:
        answer = upload_vex(craflow_client, "upload-vex", "1.0", out)
    assert answer.artifact_type == "vex"
    assert answer.version is not None and answer.version.id == version_id
    refused = api.post(
        "/ci/upload",
        files={"file": ("x.json", b'{"bomFormat": "CycloneDX"}', "application/json")},
        data={"product": "upload-vex", "version": "1.0", "artifact_type": "vex"},
    )
    assert refused.status_code == 400
    zipped = api.get(f"/versions/{version_id}/export")
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert archive.read("vex/shop.vex.cdx.json") == out.read_bytes()
        manifest = json.loads(archive.read("manifest.json"))
    assert [v["format"] for v in manifest["vex"]] == ["cyclonedx"]
    assert "vex/shop.vex.cdx.json" in manifest["files"]
    assert triage_view(api, version_id) == before  # uploading VEX changes no status
