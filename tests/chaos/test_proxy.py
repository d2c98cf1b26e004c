"""The fault proxy itself, against a tiny loopback upstream: every fault kind, forced."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.chaos.proxy import ALL_FAULTS, Fault, FaultPlan, ProxyRecord, fault_proxy

pytestmark = pytest.mark.integration

_BLOB = bytes(range(256)) * 4096  # 1 MiB


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.posts = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _UpstreamHandler(BaseHTTPRequestHandler):
    server: _Upstream
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/blob":
            self._reply(200, _BLOB, "application/octet-stream")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"a" * 1000, b"b" * 1000):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._reply(200, f"host={self.headers['Host']}".encode())

    def do_POST(self) -> None:
        digest = hashlib.sha256()
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                digest.update(self.rfile.read(size))
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining:
                chunk = self.rfile.read(min(remaining, 65536))
                digest.update(chunk)
                remaining -= len(chunk)
        with self.server.lock:
            self.server.posts += 1
        self._reply(201, digest.hexdigest().encode())


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_passes_requests_through_and_records_them(upstream: _Upstream) -> None:
    with fault_proxy(upstream.url) as proxy, httpx.Client(base_url=proxy.url) as client:
        response = client.get("/hello?x=1")
        assert response.status_code == 200
        assert response.text == f"host=127.0.0.1:{upstream.server_address[1]}"
        assert client.get("/blob").content == _BLOB
        assert client.get("/chunked").content == b"a" * 1000 + b"b" * 1000
        assert proxy.records == [
            ProxyRecord("GET /hello?x=1", None),
            ProxyRecord("GET /blob", None),
            ProxyRecord("GET /chunked", None),
        ]


def test_streams_a_chunked_upload_through_unchanged(upstream: _Upstream) -> None:
    pieces = [bytes([i]) * 100_000 for i in range(50)]  # 5 MB in a streamed (chunked) body
    expected = hashlib.sha256(b"".join(pieces)).hexdigest()
    with fault_proxy(upstream.url) as proxy, httpx.Client(base_url=proxy.url) as client:
        response = client.post("/upload", content=iter(pieces))
    assert response.status_code == 201
    assert response.text == expected
    assert upstream.posts == 1


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Fault.RATE_LIMITED, 429),
        (Fault.RATE_LIMITED_NO_HEADER, 429),
        (Fault.SERVER_ERROR, 500),
        (Fault.BAD_GATEWAY, 502),
        (Fault.UNAVAILABLE, 503),
        (Fault.GATEWAY_TIMEOUT, 504),
    ],
)
def test_status_faults_answer_without_forwarding(
    upstream: _Upstream, fault: Fault, status: int
) -> None:
    with (
        fault_proxy(upstream.url, retry_after_seconds=7) as proxy,
        httpx.Client(base_url=proxy.url) as client,
    ):
        proxy.force(fault)
        response = client.post("/upload", content=b"x" * 1000)
        assert response.status_code == status
        body = response.json()["error"]
        assert body["status"] == status
        assert body["request_id"] == response.headers["x-request-id"]
        if fault is Fault.RATE_LIMITED:
            assert response.headers["retry-after"] == "7"
            assert body["code"] == "RATE_LIMIT_EXCEEDED"
        else:
            assert "retry-after" not in response.headers
        assert upstream.posts == 0
        # The fault was used up: the next request passes.
        assert client.post("/upload", content=b"y").status_code == 201
        assert proxy.records == [
            ProxyRecord("POST /upload", fault),
            ProxyRecord("POST /upload", None),
        ]


def test_reset_before_forwarding_never_reaches_upstream(upstream: _Upstream) -> None:
    with fault_proxy(upstream.url) as proxy, httpx.Client(base_url=proxy.url) as client:
        proxy.force(Fault.RESET_BEFORE)
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)):
            client.post("/upload", content=b"x" * 1000)
    assert upstream.posts == 0


def test_reset_after_forwarding_reaches_upstream_but_client_hears_nothing(
    upstream: _Upstream,
) -> None:
    with fault_proxy(upstream.url) as proxy, httpx.Client(base_url=proxy.url) as client:
        proxy.force(Fault.RESET_AFTER)
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.post("/upload", content=b"x" * 1000)
    assert upstream.posts == 1


def test_stall_after_forwarding_reaches_upstream_and_times_the_client_out(
    upstream: _Upstream,
) -> None:
    with (
        fault_proxy(upstream.url, stall_seconds=10) as proxy,
        httpx.Client(base_url=proxy.url, timeout=0.3) as client,
    ):
        proxy.force(Fault.STALL_AFTER)
        with pytest.raises(httpx.ReadTimeout):
            client.post("/upload", content=b"x" * 1000)
    assert upstream.posts == 1


def test_expect_100_continue_is_answered_by_the_proxy(upstream: _Upstream) -> None:
    with fault_proxy(upstream.url) as proxy:
        sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        with sock:
            sock.sendall(
                b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
            sock.sendall(b"abc")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 201 ")
    assert hashlib.sha256(b"abc").hexdigest().encode() in answer


def test_stall_outlasts_the_client_timeout(upstream: _Upstream) -> None:
    with (
        fault_proxy(upstream.url, stall_seconds=10) as proxy,
        httpx.Client(base_url=proxy.url, timeout=0.3) as client,
    ):
        proxy.force(Fault.STALL)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/hello")
    # Leaving the context ended the stall; nothing reached upstream.
    assert proxy.records == [ProxyRecord("GET /hello", Fault.STALL)]


@pytest.mark.parametrize("path", ["/blob", "/chunked"])
def test_truncate_cuts_the_download_midstream(upstream: _Upstream, path: str) -> None:
    received = bytearray()
    with fault_proxy(upstream.url) as proxy, httpx.Client(base_url=proxy.url) as client:
        proxy.force(Fault.TRUNCATE)
        with (
            pytest.raises(httpx.RemoteProtocolError),
            client.stream("GET", path) as response,
        ):
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                received.extend(chunk)
    assert 0 < len(received) < (len(_BLOB) if path == "/blob" else 2000)


def test_faults_can_target_methods_and_paths(upstream: _Upstream) -> None:
    plan = FaultPlan(
        rate=1.0, kinds=(Fault.UNAVAILABLE,), methods=frozenset({"POST"}), path_pattern=r"^/upload"
    )
    with fault_proxy(upstream.url, plan) as proxy, httpx.Client(base_url=proxy.url) as client:
        assert client.get("/upload").status_code == 200
        assert client.post("/other", content=b"").status_code == 201
        assert client.post("/upload", content=b"").status_code == 503
    assert [r.fault for r in proxy.records] == [None, None, Fault.UNAVAILABLE]


def _run_sequence(upstream: _Upstream, seed: int) -> list[ProxyRecord]:
    kinds = (Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.RATE_LIMITED)
    plan = FaultPlan(rate=0.5, kinds=kinds, seed=seed)
    with fault_proxy(upstream.url, plan) as proxy, httpx.Client(base_url=proxy.url) as client:
        for i in range(30):
            client.get(f"/item/{i}")
        return proxy.records


def test_the_same_seed_replays_the_same_faults(upstream: _Upstream) -> None:
    first = _run_sequence(upstream, seed=42)
    assert _run_sequence(upstream, seed=42) == first
    assert _run_sequence(upstream, seed=43) != first
    faulted = [r for r in first if r.fault is not None]
    assert 5 <= len(faulted) <= 25


def test_requests_beyond_the_budget_are_refused(upstream: _Upstream) -> None:
    with (
        fault_proxy(upstream.url, max_requests=2) as proxy,
        httpx.Client(base_url=proxy.url) as client,
    ):
        assert [client.get("/a").status_code for _ in range(3)] == [200, 200, 503]
        assert proxy.records[-1].fault is Fault.BUDGET_EXHAUSTED


def test_refuses_a_non_loopback_upstream() -> None:
    with pytest.raises(ValueError, match="loopback"), fault_proxy("http://192.0.2.1:80"):
        pass


def test_rejects_an_impossible_plan() -> None:
    with pytest.raises(ValueError, match="rate"):
        FaultPlan(rate=1.5)
    assert Fault.BUDGET_EXHAUSTED not in ALL_FAULTS
