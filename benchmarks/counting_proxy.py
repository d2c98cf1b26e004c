"""A loopback HTTP proxy in front of the CRA Evidence API that counts what passes.

Every request of every worker goes through it (workers get its URL as
CRA_EVIDENCE_URL): it records the time, the rate bucket and the status of each, so a
benchmark can measure the span, the requests per bucket and the 429s of a whole
stack, across processes.
"""

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from craflow.api.ratelimit import bucket_for

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class Counts:
    """What went through the proxy since the last `reset`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.buckets: Counter[str] = Counter()
        self.limited = 0
        self.rescans: Counter[str] = Counter()

    def reset(self) -> None:
        with self.lock:
            self.times.clear()
            self.buckets.clear()
            self.rescans.clear()
            self.limited = 0

    def add(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.times.append(time.monotonic())
            self.buckets[bucket_for(method, path)] += 1
            if status == 429:
                self.limited += 1
            elif method == "POST" and path.rstrip("/").endswith("/scan"):
                self.rescans[path] += 1

    @property
    def span(self) -> float:
        with self.lock:
            return max(self.times) - min(self.times) if self.times else 0.0

    def idle(self, at_least: float = 1.0) -> list[tuple[float, float]]:
        """(offset from the first request, length) of every pause of *at_least* s with no
        request: where the span is not spent sending."""
        with self.lock:
            times = sorted(self.times)
        return [
            (round(a - times[0], 1), round(b - a, 1))
            for a, b in itertools.pairwise(times)
            if b - a >= at_least
        ]


def start_proxy(upstream: str) -> tuple[ThreadingHTTPServer, Counts, Callable[[], None]]:
    """Serve the proxy on a free loopback port (`server.server_address[1]`); and its stop."""
    counts = Counts()
    client = httpx.Client(base_url=upstream.rstrip("/"), timeout=60.0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", *_HOP}}
            upstream_response = client.request(
                self.command, self.path, content=body, headers=headers
            )
            content = upstream_response.content
            counts.add(self.command, self.path, upstream_response.status_code)
            self.send_response(upstream_response.status_code)
            for key, value in upstream_response.headers.items():
                if key.lower() not in _HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        client.close()

    return server, counts, stop
