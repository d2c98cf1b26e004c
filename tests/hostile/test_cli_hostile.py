"""Hostile arguments and credentials met through the CLI: `craflow release` and `craflow export`.

Each case asserts a clear one-line error on stderr, a documented exit code (see the
README's table) and no state change: no write event in the sandbox's audit for the
product, and no object in the evidence bucket.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from craflow.cli import app
from craflow.exitcodes import ExitCode
from craflow.sandbox.runner import RunningSandbox, start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from tests.hostile import inputs

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclass
class World:
    sandbox: RunningSandbox
    http: httpx.Client
    bucket: str
    s3: Any
    tmp: Path

    def audit(self) -> list[dict[str, Any]]:
        response = self.http.get("/_sandbox/audit")
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()
        return events

    def objects(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket)
        return [o["Key"] for o in listed.get("Contents", [])]

    def product_slugs(self) -> list[str]:
        body = self.http.get("/api/v1/products", params={"per_page": 100}).json()
        return [p["slug"] for p in body["items"]]

    def scoped_key(self, scopes: list[str]) -> str:
        login = self.http.post(
            "/api/v1/auth/login",
            json={"email": self.sandbox.owner_email, "password": self.sandbox.owner_password},
        )
        login.raise_for_status()
        created = self.http.post(
            "/api/v1/api-keys",
            json={"name": f"k-{uuid.uuid4().hex[:6]}", "scopes": scopes},
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        created.raise_for_status()
        key: str = created.json()["key"]
        return key


@pytest.fixture(scope="module")
def hostile_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    data_dir = tmp_path_factory.mktemp("hostile-sandbox")
    with start_sandbox(scan_seconds=0.05, rate_scale=3600.0, data_dir=data_dir) as running:
        yield running


@pytest.fixture
def world(
    prefect_harness: None,
    hostile_sandbox: RunningSandbox,
    local_s3: LocalS3,
    s3_client: Any,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[World]:
    monkeypatch.setenv("CRA_EVIDENCE_URL", hostile_sandbox.url)
    monkeypatch.setenv("CRA_EVIDENCE_API_KEY", hostile_sandbox.api_key)
    for name, value in boto3_session_env(local_s3).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CRAFLOW_RELEASE_POLL_INITIAL_SECONDS", "0.1")
    monkeypatch.setenv("CRAFLOW_RELEASE_POLL_CAP_SECONDS", "0.5")
    monkeypatch.setenv("CRAFLOW_RELEASE_POLL_DEADLINE_SECONDS", "30")
    monkeypatch.setenv("CRAFLOW_RETRY_MAX_ATTEMPTS", "1")
    http = httpx.Client(
        base_url=hostile_sandbox.url,
        headers={"Authorization": f"Bearer {hostile_sandbox.api_key}"},
        timeout=30,
    )
    try:
        yield World(hostile_sandbox, http, s3_bucket, s3_client, tmp_path)
    finally:
        http.close()


def good_sbom(folder: Path) -> Path:
    path = folder / "good.json"
    path.write_text(json.dumps(inputs.minimal_cyclonedx()))
    return path


def _run(args: list[str], env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, args, env=env)


def _assert_one_clear_line(result: Any, code: int, phrase: str, secret: str) -> None:
    """One line says what is wrong: the run's verdict on stdout, or the command's own error
    (`craflow release: ...`) as the last stderr line when no run started. Prefect's run logs
    may precede it on stderr."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr[-2000:])
    out_lines = [line for line in result.stdout.splitlines() if line.strip()]
    err_lines = [line for line in result.stderr.splitlines() if line.strip()]
    if out_lines:
        assert len(out_lines) == 1, result.stdout
        error = out_lines[0]
        assert f"failed (exit {code})" in error, error
    else:
        assert err_lines, "no error message at all"
        error = err_lines[-1]
        assert error.startswith("craflow release: "), error
    assert phrase.lower() in error.lower(), error
    assert "Traceback" not in error
    assert secret not in result.stdout + result.stderr


# name -> (build args from the world, expected exit code, phrase in the error)
Case = tuple[Callable[[World, str], list[str]], int, str]


def _release(
    world: World,
    slug: str,
    *extra: str,
    sbom: Path | None = None,
    version: str = "1.0.0",
    export: str | None = None,
    fail_on: str = "none",
) -> list[str]:
    return [
        "release", "--product", slug, "--version", version,
        "--sbom", str(sbom if sbom is not None else good_sbom(world.tmp)),
        "--export", export if export is not None else f"s3://{world.bucket}/evidence",
        "--fail-on", fail_on, *extra,
    ]  # fmt: skip


def _release_with(maker: str) -> Callable[[World, str], list[str]]:
    def build(world: World, slug: str) -> list[str]:
        return _release(world, slug, sbom=inputs.SBOM_FILE_MAKERS[maker](world.tmp))

    return build


RELEASE_CASES: dict[str, Case] = {
    "sbom_xxe": (_release_with("xml_external_entity"), ExitCode.VALIDATION, "refused"),
    "sbom_sparse_1gb": (_release_with("sparse_one_gigabyte"), ExitCode.VALIDATION, "limit"),
    "sbom_gzip_bomb": (_release_with("gzip_bomb"), ExitCode.VALIDATION, "not an SBOM"),
    "sbom_missing": (_release_with("missing_file"), ExitCode.FILE_NOT_FOUND, "not found"),
    "fail_on_unknown": (
        lambda w, s: _release(w, s, fail_on="bogus"),
        ExitCode.AUTH_OR_USAGE,
        "bogus",
    ),
    "promote_unknown_state": (
        lambda w, s: _release(w, s, "--promote", "shipped"),
        ExitCode.AUTH_OR_USAGE,
        "shipped",
    ),
    "export_s3_uri_without_bucket": (
        lambda w, s: _release(w, s, export="s3:///evidence"),
        ExitCode.VALIDATION,
        "bucket",
    ),
    "export_s3_uri_climbing_out": (
        lambda w, s: _release(w, s, export=f"s3://{w.bucket}/evidence/../../x"),
        ExitCode.VALIDATION,
        "..",
    ),
    "export_unsupported_scheme": (
        lambda w, s: _release(w, s, export="ftp://example.invalid/x"),
        ExitCode.VALIDATION,
        "scheme",
    ),
    "version_with_spaces": (
        lambda w, s: _release(w, s, version="1.0 beta"),
        ExitCode.VALIDATION,
        "version",
    ),
    "version_300_chars": (
        lambda w, s: _release(w, s, version="1" * 300),
        ExitCode.VALIDATION,
        "version",
    ),
    "version_climbing_out": (
        lambda w, s: _release(w, s, version="../../etc"),
        ExitCode.VALIDATION,
        "version",
    ),
    "product_slug_invalid": (
        lambda w, s: _release(w, "Not A Slug/.."),
        ExitCode.VALIDATION,
        "slug",
    ),
}

XFAIL_RELEASE: dict[str, str] = {}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=XFAIL_RELEASE[name])]
            if name in XFAIL_RELEASE
            else [],
        )
        for name in sorted(RELEASE_CASES)
    ],
)
def test_release_refuses_hostile_input_without_touching_anything(world: World, case: str) -> None:
    build, code, phrase = RELEASE_CASES[case]
    slug = f"hostile-{uuid.uuid4().hex[:10]}"
    before = len(world.audit())
    result = _run(build(world, slug))
    _assert_one_clear_line(result, code, phrase, world.sandbox.api_key)
    assert world.audit()[before:] == []
    assert slug not in world.product_slugs()
    assert world.objects() == []


def _revoked_key(world: World) -> str:
    key = world.scoped_key([])
    with sqlite3.connect(world.sandbox.data_dir / "sandbox.sqlite3") as db:
        db.execute("DELETE FROM api_keys WHERE last4 = ?", (key[-4:],))
    return key


def _expired_key(world: World) -> str:
    key = world.scoped_key([])
    with sqlite3.connect(world.sandbox.data_dir / "sandbox.sqlite3") as db:
        db.execute("UPDATE api_keys SET expires_at = 1 WHERE last4 = ?", (key[-4:],))
    return key


# name -> (make the key, phrase in the error)
CREDENTIAL_CASES: dict[str, tuple[Callable[[World], str], str]] = {
    "wrong_key": (lambda w: "cra_" + "W" * 40, "401"),
    "revoked_key": (_revoked_key, "401"),
    "expired_key": (_expired_key, "expired"),
    "key_lacking_scope": (lambda w: w.scoped_key(["sbom:read"]), "403"),
}


@pytest.mark.parametrize("case", sorted(CREDENTIAL_CASES))
def test_release_with_bad_credentials_exits_2_without_touching_anything(
    world: World, case: str
) -> None:
    make_key, phrase = CREDENTIAL_CASES[case]
    key = make_key(world)
    slug = f"cred-{uuid.uuid4().hex[:10]}"
    before = len(world.audit())
    result = _run(_release(world, slug), env={"CRA_EVIDENCE_API_KEY": key})
    _assert_one_clear_line(result, ExitCode.AUTH_OR_USAGE, phrase, key)
    assert world.audit()[before:] == []
    assert slug not in world.product_slugs()
    assert world.objects() == []
