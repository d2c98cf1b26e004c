"""A rate-limiting loopback proxy in its own process, for benchmarks/limiters.py.

A real limiter (nginx, Envoy, redis-cell) is another process than its clients: its clock
reads are not delayed by the client's threads. Run in the benchmark's own process (with
the sweep's threads, the sandbox and Prefect's client all sharing one interpreter lock)
the limiter stamped requests late by tens of milliseconds under load, which a limiter
without burst turns into 429s no client can avoid. So the proxy runs here, alone:

    python benchmarks/limiting_proxy.py KIND READ_PER_MINUTE WRITE_PER_MINUTE [UPSTREAM] [--port P]

It prints its URL on the first line, forwards to UPSTREAM what the per-bucket limiters
(tests/chaos/limiters.py) admit, answers 429 (with each kind's headers) for the rest, and
without UPSTREAM answers a small product itself. When its standard input closes it
prints one JSON line of counts (requests and 429s per bucket, first/last request, each
bucket's first/last admitted request) and exits.
"""

import argparse
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from craflow.api.ratelimit import bucket_for
from tests.chaos.limiters import Limiter, make_limiter

_PRODUCT = b'{"id": "p", "name": "p"}'
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class LimitingProxy:
    """Forwards to *upstream* what the per-bucket limiters admit; 429 for the rest."""

    def __init__(self, upstream: str | None, limiters: dict[str, Limiter]) -> None:
        self.upstream = None if upstream is None else httpx.Client(base_url=upstream, timeout=60.0)
        self.limiters = limiters
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.limited = 0
        self.first = self.last = 0.0
        self.spans: dict[str, list[float]] = {}  # bucket -> [first, last] admitted
        # (time, bucket, method, path, status) of every request
        self.trace: list[tuple[float, str, str, str, int]] = []

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        now = time.time()
        bucket = bucket_for(method, path)
        limiter = self.limiters.get(bucket)
        allowed, extra = (True, {}) if limiter is None else limiter.admit(now)
        with self.lock:
            self.first = self.first or now
            self.last = now
            self.trace.append((now, bucket, method, path, 200 if allowed else 429))
            if not allowed:
                self.limited += 1
                self.requests[f"429-{bucket}"] += 1
            else:
                self.requests[bucket] += 1
                self.spans.setdefault(bucket, [now, now])[1] = now
        if not allowed:
            return (
                429,
                {**extra, "Content-Type": "application/json"},
                (b'{"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "limited"}}'),
            )
        if self.upstream is None:  # no server behind: a product, so the pacing alone counts
            return 200, {**extra, "Content-Type": "application/json"}, _PRODUCT
        sent = {k: v for k, v in headers.items() if k.lower() not in _HOP}
        answer = self.upstream.request(method, path, headers=sent, content=body)
        out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        out = {k: v for k, v in out.items() if not k.lower().startswith("x-ratelimit")}
        out.pop("content-encoding", None)
        return answer.status_code, {**out, **extra}, answer.content


@contextmanager
def serve(proxy: LimitingProxy, port: int = 0) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, content = proxy.handle(
                self.command, self.path, dict(self.headers.items()), body
            )
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback proxy with one limiter kind.")
    parser.add_argument("kind")
    parser.add_argument("read_per_minute", type=int)
    parser.add_argument("write_per_minute", type=int)
    parser.add_argument("upstream", nargs="?", default=None)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--trace", type=Path, help="write every request (time, bucket, ...) here")
    args = parser.parse_args()
    start = time.time()
    limiters = {
        "read": make_limiter(args.kind, args.read_per_minute, start=start),
        "write": make_limiter(args.kind, args.write_per_minute, start=start),
    }
    proxy = LimitingProxy(args.upstream, limiters)
    with serve(proxy, args.port) as url:
        print(url, flush=True)
        sys.stdin.read()  # until the benchmark closes it
    if args.trace is not None:
        args.trace.write_text("".join(json.dumps(row) + "\n" for row in proxy.trace))
    print(
        json.dumps(
            {
                "requests": proxy.requests,
                "limited": proxy.limited,
                "first": proxy.first,
                "last": proxy.last,
                "spans": proxy.spans,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
