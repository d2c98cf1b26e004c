"""Hostile input at the API layer: the client uploading hostile files, hostile request bodies,
hostile file names, unknown resources. Each is refused with a typed one-line error (400/413/
404, never 5xx) and stores nothing: no SBOM row, no audit event, no staged blob left behind.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.sandbox import SandboxSettings
from craflow.api import (
    ApiSettings,
    AuthenticationError,
    BadRequestError,
    CraEvidenceClient,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitSettings,
    RetrySettings,
)
from craflow.sandbox.runner import RunningSandbox, SandboxServer, start_sandbox
from tests.hostile import inputs

pytestmark = pytest.mark.integration

MAX_UPLOAD = 4 * 2**20

# Files the API must refuse; a missing file or a directory never leaves the client.
REFUSED_UPLOADS = sorted(
    set(inputs.SBOM_FILE_MAKERS)
    - {
        "a_directory",
        "missing_file",
        "invalid_purl",  # the API stores the SBOM; `craflow sbom check` and the release refuse it
        "component_name_with_path_separators",
        "component_name_with_control_characters",
    }
)


@pytest.fixture(scope="module")
def api_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    data_dir = tmp_path_factory.mktemp("api-hostile")
    with start_sandbox(
        scan_seconds=0.05, rate_scale=3600.0, data_dir=data_dir, max_upload_bytes=MAX_UPLOAD
    ) as running:
        yield running


@pytest.fixture
def client(api_sandbox: RunningSandbox) -> Iterator[CraEvidenceClient]:
    with CraEvidenceClient(
        ApiSettings(url=api_sandbox.url, api_key=api_sandbox.api_key),
        retry=RetrySettings(max_attempts=1),
        rates=RateLimitSettings(enabled=False),
    ) as api:
        yield api


def _audit(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    response = httpx.get(
        sandbox.url + "/_sandbox/audit",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
        timeout=30,
    )
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()
    return events


def _staged(sandbox: RunningSandbox) -> list[str]:
    return [p.name for p in (sandbox.data_dir / "blobs" / "tmp").glob("*")]


def _new_version(client: CraEvidenceClient) -> Any:
    product = client.create_product("hostile", slug=f"h-{uuid.uuid4().hex[:10]}")
    return client.create_version(product.id, "1.0.0")


@pytest.mark.parametrize("case", REFUSED_UPLOADS)
def test_the_api_refuses_a_hostile_upload_and_stores_nothing(
    client: CraEvidenceClient, api_sandbox: RunningSandbox, tmp_path: Path, case: str
) -> None:
    version = _new_version(client)
    path = inputs.SBOM_FILE_MAKERS[case](tmp_path)
    before = len(_audit(api_sandbox))
    with pytest.raises((BadRequestError, PayloadTooLargeError)) as caught:
        client.ingest_sbom(version.id, path, auto_scan=False)
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.code in {"VALIDATION_ERROR", "PAYLOAD_TOO_LARGE"}, message
    assert caught.value.request_id
    assert "root:" not in message  # nothing from /etc/passwd through an entity
    assert list(client.list_sboms(version.id)) == []
    assert _audit(api_sandbox)[before:] == []
    assert _staged(api_sandbox) == []


DEEP_JSON = ('{"a":' * 10_000 + "1" + "}" * 10_000).encode()
BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "nested_10000": (DEEP_JSON, {"Content-Type": "application/json"}),
    "non_utf8": (
        b'{"name": "\xff\xfe", "category": "default"}',
        {"Content-Type": "application/json"},
    ),
    "truncated": (b'{"name": "x", "cat', {"Content-Type": "application/json"}),
    "gzip_bomb": (
        gzip.compress(bytes(2**20)) * 64,
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    ),
    "not_json": (b"<product/>", {"Content-Type": "application/xml"}),
    "huge_name": (
        b'{"name": "' + b"n" * 100_000 + b'", "slug": "huge", "category": "default"}',
        {"Content-Type": "application/json"},
    ),
    "control_chars_in_slug": (
        b'{"name": "x", "slug": "a\\u0000b\\n", "category": "default"}',
        {"Content-Type": "application/json"},
    ),
    "path_in_slug": (
        b'{"name": "x", "slug": "../../etc", "category": "default"}',
        {"Content-Type": "application/json"},
    ),
}


BODY_XFAIL: dict[str, str] = {}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=[pytest.mark.xfail(strict=True, reason=BODY_XFAIL[c])])
        if c in BODY_XFAIL
        else c
        for c in sorted(BODIES)
    ],
)
def test_hostile_json_bodies_are_a_4xx_never_a_5xx(api_sandbox: RunningSandbox, case: str) -> None:
    body, headers = BODIES[case]
    before = len(_audit(api_sandbox))
    response = httpx.post(
        api_sandbox.api_url + "/products",
        content=body,
        headers={**headers, "Authorization": f"Bearer {api_sandbox.api_key}"},
        timeout=30,
    )
    assert response.status_code in {400, 413, 415, 422}, (response.status_code, response.text)
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" or error["code"] == "PAYLOAD_TOO_LARGE"
    assert "\n" not in error["detail"]
    assert _audit(api_sandbox)[before:] == []


def test_an_unknown_product_is_a_typed_404(client: CraEvidenceClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_product(str(uuid.uuid4()))
    assert caught.value.code == "RESOURCE_NOT_FOUND"
    assert "\n" not in str(caught.value)


def test_a_version_string_of_300_characters_is_refused(client: CraEvidenceClient) -> None:
    product = client.create_product("long", slug=f"long-{uuid.uuid4().hex[:8]}")
    with pytest.raises(BadRequestError):
        client.create_version(product.id, "1" * 300)
    assert list(client.list_versions(product.id)) == []


def test_an_upload_file_name_cannot_climb_out_of_the_technical_file(
    client: CraEvidenceClient, tmp_path: Path
) -> None:
    version = _new_version(client)
    path = tmp_path / "sbom.json"
    path.write_text(json.dumps(inputs.minimal_cyclonedx()))
    client.ingest_sbom(version.id, path, auto_scan=False, filename="../../../../tmp/evil.json")
    buffer = io.BytesIO()
    client.export_technical_file(version.id, buffer)
    with zipfile.ZipFile(buffer) as archive:
        names = archive.namelist()
    assert names
    for name in names:
        assert not name.startswith(("/", "\\")), names
        assert ".." not in Path(name).parts, names
        assert "\\" not in name, names


def test_a_hostile_server_filename_cannot_escape_the_download_folder(
    client: CraEvidenceClient, tmp_path: Path
) -> None:
    from craflow.api.download import filename_from_disposition

    for hostile in (
        'attachment; filename="../../etc/passwd"',
        'attachment; filename="..\\\\..\\\\boot.ini"',
        "attachment; filename*=UTF-8''%2e%2e%2f%2e%2e%2fevil",
        'attachment; filename="/abs/path.zip"',
        'attachment; filename="a\x1b[2Jb.zip"',
    ):
        name = filename_from_disposition(hostile)
        assert name is None or ("/" not in name and "\\" not in name and ".." not in name), name
        assert name is None or name.isprintable()


@pytest.fixture
def clocked_sandbox(tmp_path: Path) -> Iterator[tuple[RunningSandbox, list[float]]]:
    """A sandbox whose clock the test moves (`shift[0]` seconds ahead of real time)."""
    server = SandboxServer(
        SandboxSettings(port=0, scan_seconds=0.05, rate_scale=3600.0), tmp_path, None, ()
    )
    shift = [0.0]
    server.state.clock = lambda: time.time() + shift[0]
    server.start_background()
    try:
        yield server.info, shift
    finally:
        server.close()


def test_an_expired_access_token_is_a_typed_401_token_expired(
    clocked_sandbox: tuple[RunningSandbox, list[float]],
) -> None:
    sandbox, shift = clocked_sandbox
    login = httpx.post(
        sandbox.api_url + "/auth/login",
        json={"email": sandbox.owner_email, "password": sandbox.owner_password},
        timeout=30,
    ).json()
    shift[0] = 3600.0  # the 15-minute token is an hour old
    response = httpx.get(
        sandbox.api_url + "/products",
        headers={"Authorization": f"Bearer {login['access_token']}"},
        timeout=30,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "TOKEN_EXPIRED"


def test_the_client_refreshes_an_expired_token_once_and_never_shows_the_password(
    clocked_sandbox: tuple[RunningSandbox, list[float]],
) -> None:
    sandbox, shift = clocked_sandbox
    settings = ApiSettings(
        url=sandbox.url, email=sandbox.owner_email, password=sandbox.owner_password
    )
    with CraEvidenceClient(
        settings, retry=RetrySettings(max_attempts=1), rates=RateLimitSettings(enabled=False)
    ) as api:
        list(api.list_products())
        shift[0] = 3600.0  # access token expired, refresh token still valid: refreshed
        list(api.list_products())
        shift[0] = 30 * 86_400.0  # both expired: a typed error (or a fresh login), never a crash
        try:
            list(api.list_products())
        except AuthenticationError as exc:
            assert "\n" not in str(exc)
            assert sandbox.owner_password not in str(exc) + repr(exc.__dict__)
        assert sandbox.owner_password not in repr(api)
