"""Streaming downloads: to a path or a stream, hashed on the way, export fallback."""

import hashlib
import io
from pathlib import Path

import httpx
import pytest

from config.api import ApiSettings
from craflow.api import ApiTimeoutError, CraEvidenceClient, NotFoundError, ServerError
from craflow.api.download import filename_from_disposition
from tests.unit.api.conftest import ClientFactory, MockServer, error_response

ZIP = b"PK\x03\x04" + bytes(range(256)) * 1000
DISPOSITION = 'attachment; filename="widget-1.0-technical-file-2026-01-02.zip"'


def _zip(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        content=ZIP,
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": DISPOSITION,
            "X-Request-ID": "rid-z",
        },
    )


def test_download_sbom_to_a_path(
    client: CraEvidenceClient, server: MockServer, tmp_path: Path
) -> None:
    server.queue.append(_zip)
    dest = tmp_path / "sub" / "out.zip"
    download = client.download_sbom("s-1", dest)
    assert server.last.url.path == "/api/v1/sboms/s-1/download"
    assert dest.read_bytes() == ZIP
    assert download.path == dest
    assert download.size == len(ZIP)
    assert download.sha256 == hashlib.sha256(ZIP).hexdigest()
    assert download.filename == "widget-1.0-technical-file-2026-01-02.zip"
    assert download.content_type == "application/zip"
    assert download.request_id == "rid-z"
    assert [p.name for p in dest.parent.iterdir()] == ["out.zip"]  # no temporary file left


def test_download_to_a_bytesio(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(_zip)
    sink = io.BytesIO()
    download = client.download_sbom("s-1", sink)
    assert sink.getvalue() == ZIP
    assert download.path is None
    assert download.sha256 == hashlib.sha256(ZIP).hexdigest()


def test_download_into_a_folder_uses_the_server_name(
    client: CraEvidenceClient, server: MockServer, tmp_path: Path
) -> None:
    server.queue.append(_zip)
    download = client.export_technical_file("v-1", tmp_path)
    assert download.path == tmp_path / "widget-1.0-technical-file-2026-01-02.zip"
    assert download.path.read_bytes() == ZIP


def test_download_streams_in_chunks(make_client: ClientFactory, server: MockServer) -> None:
    client = make_client(
        settings=ApiSettings(url="https://cra.test", api_key="cra_k", download_chunk_bytes=4096)
    )
    writes: list[int] = []

    class Sink(io.BytesIO):
        def write(self, data: object) -> int:
            assert isinstance(data, bytes | bytearray)
            writes.append(len(data))
            return super().write(data)

    server.queue.append(_zip)
    client.download_sbom("s-1", Sink())
    assert max(writes) <= 4096
    assert sum(writes) == len(ZIP)


def test_failed_download_leaves_no_file(
    client: CraEvidenceClient, server: MockServer, tmp_path: Path
) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        def body() -> object:
            yield b"partial"
            raise httpx.ReadTimeout("stalled", request=request)

        return httpx.Response(200, content=body(), headers={"Content-Type": "application/zip"})  # type: ignore[arg-type]

    server.queue.append(broken)
    dest = tmp_path / "out.zip"
    with pytest.raises(ApiTimeoutError):
        client.download_sbom("s-1", dest)
    assert list(tmp_path.iterdir()) == []


def test_download_error_is_parsed(
    client: CraEvidenceClient, server: MockServer, tmp_path: Path
) -> None:
    server.queue.append(error_response(404, "RESOURCE_NOT_FOUND", "SBOM not found"))
    with pytest.raises(NotFoundError, match="SBOM not found"):
        client.download_sbom("s-1", tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "first",
    [error_response(404, "RESOURCE_NOT_FOUND"), httpx.Response(405, text="Method Not Allowed")],
)
def test_export_falls_back_on_404_and_405(
    client: CraEvidenceClient, server: MockServer, first: httpx.Response
) -> None:
    server.queue += [first, _zip]
    sink = io.BytesIO()
    download = client.export_technical_file("v-1", sink)
    assert [r.url.path for r in server.requests] == [
        "/api/v1/versions/v-1/export",
        "/api/v1/exports/versions/v-1/technical-file",
    ]
    assert sink.getvalue() == ZIP
    assert download.sha256 == hashlib.sha256(ZIP).hexdigest()


def test_export_does_not_fall_back_on_other_errors(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(error_response(501, "NOT_IMPLEMENTED"))
    with pytest.raises(ServerError):
        client.export_technical_file("v-1", io.BytesIO())
    assert len(server.requests) == 1


def test_export_first_path_used_when_it_works(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(_zip)
    client.export_technical_file("v-1", io.BytesIO())
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("header", "name"),
    [
        (DISPOSITION, "widget-1.0-technical-file-2026-01-02.zip"),
        ("attachment; filename=plain.zip", "plain.zip"),
        ("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", "résumé.pdf"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="..\\\\evil.exe"', "evil.exe"),
        ('attachment; filename=".."', None),
        ("inline", None),
        (None, None),
    ],
)
def test_filename_from_disposition(header: str | None, name: str | None) -> None:
    assert filename_from_disposition(header) == name
