"""craflow's pacing against four kinds of rate limiter: span / bound and 429s per kind.

A loopback limiting proxy (this file, with the limiters of tests/chaos/limiters.py) sits
in front of an API: by default a sandbox holding a portfolio of N approved versions
(default 60), or any server given with `--api-url` (and `--api-key`). For each limiter
kind, fixed window, sliding window, token bucket without burst (nginx `limit_req`) and
GCRA with a burst of 3, it runs one `sweep_flow` (default concurrency) through the proxy,
with craflow told the limits through `CRAFLOW_RATE_*`, and prints

    span  = first to last request through the proxy,
    bound = max over buckets of requests / rate (what the limits allow when sustained),
    span / bound, and the 429s the proxy answered; "bucket" is the busiest bucket's own
    span against (n - 1) / rate (the pacing alone, without the sweep's serial start).

Goal: ratio <= 1.10 (stretch 1.03) and 0 x 429 for every kind. Run by hand, not in CI:

    .venv/bin/python benchmarks/limiters.py [--versions 60] [--read-per-second 25]
        [--write-per-second 5] [--api-url URL --api-key KEY]
"""

# ruff: noqa: E402  (PREFECT_HOME must be set before Prefect is imported)

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="craflow-bench-prefect-")
os.environ["PREFECT_HOME"] = _HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("PREFECT_API_URL", None)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness

from benchmarks.sweep_rate import API_KEY, build_portfolio
from craflow.api.ratelimit import bucket_for
from craflow.api.registry import forget_pacers
from craflow.sandbox.runner import start_sandbox
from flows.sweep import sweep_flow
from tests.chaos.limiters import KINDS, Limiter, make_limiter

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class LimitingProxy:
    """Forwards to *upstream* what the per-bucket limiters admit; 429 for the rest."""

    def __init__(self, upstream: str, limiters: dict[str, Limiter]) -> None:
        self.upstream = httpx.Client(base_url=upstream.rstrip("/"), timeout=60.0)
        self.limiters = limiters
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.limited = 0
        self.first = self.last = 0.0
        self.spans: dict[str, list[float]] = {}  # bucket -> [first, last] admitted

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        now = time.time()
        bucket = bucket_for(method, path)
        limiter = self.limiters.get(bucket)
        allowed, extra = (True, {}) if limiter is None else limiter.admit(now)
        with self.lock:
            self.first = self.first or now
            self.last = now
            if not allowed:
                self.limited += 1
            else:
                self.requests[bucket] += 1
                self.spans.setdefault(bucket, [now, now])[1] = now
        if not allowed:
            return (
                429,
                {**extra, "Content-Type": "application/json"},
                (b'{"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "limited"}}'),
            )
        sent = {k: v for k, v in headers.items() if k.lower() not in _HOP}
        answer = self.upstream.request(method, path, headers=sent, content=body)
        out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        out = {k: v for k, v in out.items() if not k.lower().startswith("x-ratelimit")}
        out.pop("content-encoding", None)
        return answer.status_code, {**out, **extra}, answer.content


@contextmanager
def serve(proxy: LimitingProxy) -> Iterator[str]:
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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_kind(kind: str, upstream: str, args: argparse.Namespace, archive: Path) -> dict:
    limiters = {
        "read": make_limiter(kind, int(args.read_per_second * 60), start=time.time()),
        "write": make_limiter(kind, int(args.write_per_second * 60), start=time.time()),
    }
    proxy = LimitingProxy(upstream, limiters)
    forget_pacers()  # each kind starts from the configured rate, as a fresh process would
    with serve(proxy) as url:
        os.environ["CRA_EVIDENCE_URL"] = url
        state = sweep_flow(export=archive.as_uri(), return_state=True)
    span = proxy.last - proxy.first
    bound = max(
        proxy.requests["read"] / args.read_per_second,
        proxy.requests["write"] / args.write_per_second,
    )
    # the pacing alone: the busiest bucket's own span against (n - 1) / rate
    rates = {"read": args.read_per_second, "write": args.write_per_second}
    pacing = max(
        (last - first) / ((proxy.requests[b] - 1) / rates[b])
        for b, (first, last) in proxy.spans.items()
        if b in rates and proxy.requests[b] > 1 and proxy.requests[b] / rates[b] >= bound * 0.9
    )
    return {
        "pacing": pacing,
        "kind": kind,
        "state": state.type.value,
        "span": span,
        "bound": bound,
        "limited": proxy.limited,
        "requests": dict(proxy.requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=60)
    parser.add_argument("--per-product", type=int, default=20)
    parser.add_argument("--read-per-second", type=float, default=25.0)
    parser.add_argument("--write-per-second", type=float, default=5.0)
    parser.add_argument("--scan-seconds", type=float, default=0.2)
    parser.add_argument("--api-url", help="Put the limiters in front of this server instead.")
    parser.add_argument("--api-key", default=API_KEY)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()

    os.environ["CRA_EVIDENCE_API_KEY"] = args.api_key
    os.environ["CRAFLOW_RATE_READ_PER_MINUTE"] = str(int(args.read_per_second * 60))
    os.environ["CRAFLOW_RATE_WRITE_PER_MINUTE"] = str(int(args.write_per_second * 60))
    os.environ["CRAFLOW_SWEEP_POLL_INTERVAL_SECONDS"] = "0.5"
    archives = Path(tempfile.mkdtemp(prefix="craflow-bench-archive-"))
    results = []
    with contextlib_exit() as stack:
        stack.enter_context(temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}))
        stack.enter_context(prefect_test_harness(server_startup_timeout=300))
        upstream = args.api_url
        if upstream is None:
            data_dir = Path(tempfile.mkdtemp(prefix="craflow-bench-sandbox-"))
            print(f"building {args.versions} versions ...", flush=True)
            build_portfolio(data_dir, args.versions, args.per_product)
            sandbox = stack.enter_context(
                start_sandbox(
                    data_dir=data_dir,
                    api_key=args.api_key,
                    scan_seconds=args.scan_seconds,
                    rate_scale=3600.0,  # the proxy limits, not the sandbox
                )
            )
            upstream = sandbox.url
        for kind in args.kinds.split(","):
            print(f"sweeping behind {kind} ...", flush=True)
            results.append(run_kind(kind, upstream, args, archives / kind))

    print()
    print(
        f"versions={args.versions} limits: read {args.read_per_second:g}/s, "
        f"write {args.write_per_second:g}/s; default concurrency"
    )
    print(
        f"{'limiter':<22} {'state':<10} {'span s':>7} {'bound s':>8} {'ratio':>6} "
        f"{'bucket':>6} {'429s':>5}"
    )
    for r in results:
        ratio = r["span"] / r["bound"] if r["bound"] else float("nan")
        print(
            f"{r['kind']:<22} {r['state']:<10} {r['span']:>7.1f} {r['bound']:>8.1f} "
            f"{ratio:>6.2f} {r['pacing']:>6.2f} {r['limited']:>5}  {r['requests']}"
        )


def contextlib_exit() -> "contextlib.ExitStack":  # noqa: F821
    import contextlib

    return contextlib.ExitStack()


if __name__ == "__main__":
    main()
