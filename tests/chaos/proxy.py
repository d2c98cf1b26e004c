"""A fault-injecting reverse proxy for tests (loopback only).

    client ──► FaultProxy (127.0.0.1:free port) ──► upstream (a loopback server)

Each request that matches the plan is given at most one fault, chosen by a
seeded random generator (so a failing run replays with the same seed) or taken
from a script of forced faults (for deterministic tests). Every request is
recorded as a `ProxyRecord(request_line, fault)`; `fault` is None when the
request passed through untouched.

Faults and what the client sees:

    rate_limited            429 + Retry-After       upstream never sees the request
    rate_limited_no_header  429, no Retry-After     upstream never sees the request
    server_error            500                     upstream never sees the request
    bad_gateway             502                     upstream never sees the request
    unavailable             503                     upstream never sees the request
    gateway_timeout         504                     upstream never sees the request
    reset_before            TCP reset, no response  upstream never sees the request
    reset_after             TCP reset, no response  upstream ACTED (the client never heard)
    stall                   no response for `stall_seconds`, then a reset; upstream never sees it
    stall_after             upstream ACTED; the client waits `stall_seconds`, then a reset
    truncate                the response stops half-way (declared length not reached)

Bodies are streamed through chunk by chunk in both directions (HTTP/1.1 framing
by `h11`); nothing buffers a whole upload. The proxy is bounded: it stops by
itself after `max_seconds`, answers 503 to requests beyond `max_requests`
(recorded as `budget_exhausted`), and every socket has an I/O timeout.
Connections are not kept alive (`Connection: close` on every response).
"""

from __future__ import annotations

import contextlib
import enum
import ipaddress
import json
import random
import re
import socket
import socketserver
import struct
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

import h11

_CHUNK = 64 * 1024
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"upgrade",
    }
)


class Fault(enum.StrEnum):
    RATE_LIMITED = "rate_limited"
    RATE_LIMITED_NO_HEADER = "rate_limited_no_header"
    SERVER_ERROR = "server_error"
    BAD_GATEWAY = "bad_gateway"
    UNAVAILABLE = "unavailable"
    GATEWAY_TIMEOUT = "gateway_timeout"
    RESET_BEFORE = "reset_before"
    RESET_AFTER = "reset_after"
    STALL = "stall"
    STALL_AFTER = "stall_after"
    TRUNCATE = "truncate"
    BUDGET_EXHAUSTED = "budget_exhausted"


ALL_FAULTS: tuple[Fault, ...] = tuple(f for f in Fault if f is not Fault.BUDGET_EXHAUSTED)
_STATUS_FAULTS: dict[Fault, tuple[int, str, str]] = {
    Fault.RATE_LIMITED: (429, "Too Many Requests", "RATE_LIMIT_EXCEEDED"),
    Fault.RATE_LIMITED_NO_HEADER: (429, "Too Many Requests", "RATE_LIMIT_EXCEEDED"),
    Fault.SERVER_ERROR: (500, "Internal Server Error", "INTERNAL_ERROR"),
    Fault.BAD_GATEWAY: (502, "Bad Gateway", "INTERNAL_ERROR"),
    Fault.UNAVAILABLE: (503, "Service Unavailable", "INTERNAL_ERROR"),
    Fault.GATEWAY_TIMEOUT: (504, "Gateway Timeout", "INTERNAL_ERROR"),
    Fault.BUDGET_EXHAUSTED: (503, "Service Unavailable", "INTERNAL_ERROR"),
}


class ProxyRecord(NamedTuple):
    request_line: str
    fault: Fault | None


@dataclass(frozen=True)
class FaultPlan:
    """Which requests get faults, how often, and which kinds (seeded)."""

    rate: float = 0.0
    kinds: tuple[Fault, ...] = ALL_FAULTS
    seed: int = 0
    methods: frozenset[str] | None = None  # None: every method
    path_pattern: str | None = None  # regex searched in the request target

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {self.rate}")
        if self.rate > 0 and not self.kinds:
            raise ValueError("a positive fault rate needs at least one fault kind")

    def matches(self, method: str, target: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.path_pattern is None or re.search(self.path_pattern, target) is not None


@dataclass
class _Chooser:
    plan: FaultPlan
    rng: random.Random
    forced: deque[Fault | None] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def choose(self, method: str, target: str) -> Fault | None:
        with self.lock:
            if not self.plan.matches(method, target):
                return None
            if self.forced:
                return self.forced.popleft()
            if self.plan.rate > 0 and self.rng.random() < self.plan.rate:
                return self.rng.choice(self.plan.kinds)
            return None


class _ClientGone(Exception):
    """The client or the upstream closed the connection mid-exchange."""


class FaultProxy:
    """A running proxy; use `fault_proxy(...)` to start and stop one."""

    def __init__(
        self,
        upstream: str,
        plan: FaultPlan,
        *,
        stall_seconds: float,
        retry_after_seconds: int,
        max_requests: int,
        io_timeout_seconds: float,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the fault proxy only forwards to loopback, not {host}")
        self._upstream = (host, parts.port)
        self._chooser = _Chooser(plan, random.Random(plan.seed))
        self._stall_seconds = stall_seconds
        self._retry_after = retry_after_seconds
        self._max_requests = max_requests
        self._io_timeout = io_timeout_seconds
        self._records: list[ProxyRecord] = []
        self._records_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self)
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    # -- control, from the test ------------------------------------------------

    @property
    def records(self) -> list[ProxyRecord]:
        with self._records_lock:
            return list(self._records)

    def faults(self) -> list[ProxyRecord]:
        """Only the records where a fault was injected."""
        return [r for r in self.records if r.fault is not None]

    def set_plan(self, plan: FaultPlan) -> None:
        """Replace the plan (and restart its random generator from the plan's seed)."""
        with self._chooser.lock:
            self._chooser.plan = plan
            self._chooser.rng = random.Random(plan.seed)

    def force(self, *faults: Fault | None) -> None:
        """Give the next matching requests these faults, in order (None: pass through)."""
        with self._chooser.lock:
            self._chooser.forced.extend(faults)

    # -- serving ---------------------------------------------------------------

    def _record(self, request_line: str, fault: Fault | None) -> None:
        with self._records_lock:
            self._records.append(ProxyRecord(request_line, fault))

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(self._io_timeout)
        client = h11.Connection(h11.SERVER)
        try:
            request = _next_event(client, sock)
            if not isinstance(request, h11.Request):
                return
            method = request.method.decode("ascii", "replace")
            target = request.target.decode("ascii", "replace")
            request_line = f"{method} {target}"
            with self._records_lock:
                over_budget = len(self._records) >= self._max_requests
            fault = Fault.BUDGET_EXHAUSTED if over_budget else self._chooser.choose(method, target)
            self._record(request_line, fault)
            self._apply(fault, request, client, sock)
        except (OSError, h11.ProtocolError, _ClientGone):
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _apply(
        self, fault: Fault | None, request: h11.Request, client: h11.Connection, sock: socket.socket
    ) -> None:
        if fault in _STATUS_FAULTS:
            assert fault is not None
            _drain_body(client, sock)
            self._send_error(fault, client, sock)
        elif fault is Fault.RESET_BEFORE:
            _drain_body(client, sock)
            _reset(sock)
        elif fault is Fault.STALL:
            _drain_body(client, sock)
            self._stopping.wait(self._stall_seconds)
            _reset(sock)
        else:
            self._forward(fault, request, client, sock)

    def _send_error(self, fault: Fault, client: h11.Connection, sock: socket.socket) -> None:
        status, title, code = _STATUS_FAULTS[fault]
        request_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "error": {
                    "type": f"https://fault-proxy.invalid/errors/{fault.value}",
                    "title": title,
                    "status": status,
                    "detail": f"injected by the test fault proxy: {fault.value}",
                    "code": code,
                    "request_id": request_id,
                }
            }
        ).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Request-ID", request_id),
            ("Connection", "close"),
        ]
        if fault is Fault.RATE_LIMITED:
            headers.append(("Retry-After", str(self._retry_after)))
        sock.sendall(client.send(h11.Response(status_code=status, headers=headers)))
        sock.sendall(client.send(h11.Data(data=body)))
        sock.sendall(client.send(h11.EndOfMessage()))

    def _forward(
        self, fault: Fault | None, request: h11.Request, client: h11.Connection, sock: socket.socket
    ) -> None:
        try:
            up_sock = socket.create_connection(self._upstream, timeout=self._io_timeout)
        except OSError:
            _drain_body(client, sock)
            self._send_error(Fault.BAD_GATEWAY, client, sock)
            return
        with up_sock:
            upstream = h11.Connection(h11.CLIENT)
            host = f"{self._upstream[0]}:{self._upstream[1]}"
            headers = [(b"host", host.encode())]
            headers += [(k, v) for k, v in request.headers if k not in _HOP_BY_HOP and k != b"host"]
            headers.append((b"connection", b"close"))
            up_sock.sendall(
                upstream.send(
                    h11.Request(method=request.method, target=request.target, headers=headers)
                )
            )
            _continue(client, sock)
            for chunk in _body(client, sock):
                up_sock.sendall(upstream.send(h11.Data(data=chunk)))
            up_sock.sendall(upstream.send(h11.EndOfMessage()))

            response = _next_event(upstream, up_sock)
            while isinstance(response, h11.InformationalResponse):
                response = _next_event(upstream, up_sock)
            if not isinstance(response, h11.Response):
                raise _ClientGone("upstream closed without a response")
            if fault in {Fault.RESET_AFTER, Fault.STALL_AFTER}:
                for _ in _body(upstream, up_sock):
                    pass
                if fault is Fault.STALL_AFTER:
                    self._stopping.wait(self._stall_seconds)
                _reset(sock)
                return
            out_headers = [(k, v) for k, v in response.headers if k not in _HOP_BY_HOP]
            out_headers.append((b"connection", b"close"))
            if fault is Fault.TRUNCATE:
                self._send_truncated(response, out_headers, upstream, up_sock, client, sock)
                return
            sock.sendall(
                client.send(
                    h11.Response(
                        status_code=response.status_code,
                        headers=out_headers,
                        reason=response.reason,
                    )
                )
            )
            for chunk in _body(upstream, up_sock):
                sock.sendall(client.send(h11.Data(data=chunk)))
            sock.sendall(client.send(h11.EndOfMessage()))

    def _send_truncated(
        self,
        response: h11.Response,
        out_headers: list[tuple[bytes, bytes]],
        upstream: h11.Connection,
        up_sock: socket.socket,
        client: h11.Connection,
        sock: socket.socket,
    ) -> None:
        """Relay the headers and about half the body, then close the connection."""
        declared = dict(response.headers).get(b"content-length")
        body_iter = _body(upstream, up_sock)
        if declared is not None:
            limit = int(declared) // 2
        else:
            first = next(body_iter, b"")
            limit = len(first) // 2
            body_iter = _chain([first], body_iter)
        if limit == 0:
            # No body to cut: cutting the connection before the headers is the nearest thing.
            _reset(sock)
            return
        sock.sendall(
            client.send(
                h11.Response(
                    status_code=response.status_code, headers=out_headers, reason=response.reason
                )
            )
        )
        sent = 0
        for chunk in body_iter:
            piece = chunk[: limit - sent]
            if piece:
                sock.sendall(client.send(h11.Data(data=piece)))
                sent += len(piece)
            if sent >= limit:
                break
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        request = self.request
        assert isinstance(request, socket.socket)
        self.server.proxy._handle(request)


def _chain(first: Iterable[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


def _next_event(conn: h11.Connection, sock: socket.socket) -> object:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        try:
            data = sock.recv(_CHUNK)
        except OSError as exc:
            raise _ClientGone(str(exc)) from exc
        conn.receive_data(data)


def _body(conn: h11.Connection, sock: socket.socket) -> Iterator[bytes]:
    """Yield the current message's body chunks as they arrive (never the whole body)."""
    while True:
        event = _next_event(conn, sock)
        if isinstance(event, h11.Data):
            yield bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return
        else:
            raise _ClientGone(f"connection ended mid-body ({type(event).__name__})")


def _continue(conn: h11.Connection, sock: socket.socket) -> None:
    """Answer `Expect: 100-continue` ourselves, so the client sends its body at once."""
    if conn.our_role is h11.SERVER and conn.they_are_waiting_for_100_continue:
        sock.sendall(conn.send(h11.InformationalResponse(status_code=100, headers=[])))


def _drain_body(conn: h11.Connection, sock: socket.socket) -> None:
    _continue(conn, sock)
    for _ in _body(conn, sock):
        pass


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), so the peer sees 'connection reset'."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def fault_proxy(
    upstream: str,
    plan: FaultPlan | None = None,
    *,
    stall_seconds: float = 5.0,
    retry_after_seconds: int = 1,
    max_requests: int = 5_000,
    max_seconds: float = 600.0,
    io_timeout_seconds: float = 30.0,
) -> Iterator[FaultProxy]:
    """Start a fault proxy in front of `upstream` on a free loopback port; stop it on exit.

    `upstream` is the server's origin (`http://127.0.0.1:PORT`); paths pass through,
    so a client's base URL is `proxy.url + "/api/v1"`.
    """
    proxy = FaultProxy(
        upstream,
        plan or FaultPlan(),
        stall_seconds=stall_seconds,
        retry_after_seconds=retry_after_seconds,
        max_requests=max_requests,
        io_timeout_seconds=io_timeout_seconds,
    )
    thread = threading.Thread(
        target=proxy._server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"fault-proxy-{proxy.port}",
        daemon=True,
    )
    deadline = threading.Timer(max_seconds, proxy._server.shutdown)
    deadline.daemon = True
    thread.start()
    deadline.start()
    try:
        yield proxy
    finally:
        deadline.cancel()
        proxy._stopping.set()
        proxy._server.shutdown()
        proxy._server.server_close()
        thread.join(timeout=5)
