"""Scale-out: N processes sharing one API budget, against a limiter with no burst.

Phase 1 (this file today) measures the shared budget alone: a loopback HTTP limiter
(a smooth token bucket with burst 1, the way nginx `limit_req` without `burst=` works:
a request less than one interval after the last accepted one gets 429) serves `--versions`
GET requests sent by `--workers` processes, each pacing through `craflow.budget`'s Redis
GCRA (`--pacer shared`) or alone (`--pacer local`, what every process did before); the
Prefect global-concurrency pacer it was once compared with is gone (docs/production.md
keeps that measurement). It prints one JSON line:

    {"workers", "versions", "span", "bound", "ratio", "got_429", "missing", "duplicated"}

span = first to last accepted request; bound = (versions - 1) x interval of the limit;
`missing`/`duplicated` count request ids never accepted / accepted twice.

With `--api-url URL` (or `--api-url sandbox`: a local sandbox built fast, then served
at `--rate-scale` x the contract's limits) it measures the fanned-out sweep instead
(benchmarks/scale_out_sweep.py): builds the portfolio on the server, starts the stack
(`craflow.stack.up`, `--workers` workers) on this machine's PostgreSQL and Redis, runs the
sweep with one `sweep-product` deployment run per product, and prints the same JSON line
(span = first to last API request of the sweep; bound = the read/write limits' lower
bound for the requests sent; missing / duplicated = versions absent from / repeated in
the sweep's report).

    PYTHONPATH=. .venv/bin/python benchmarks/scale_out.py --workers 3 --versions 300 --rate 25
    PYTHONPATH=. .venv/bin/python benchmarks/scale_out.py --api-url sandbox --workers 3 \
        --versions 300 --rate-scale 10
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import redis

from config.api import ApiSettings, RateLimitSettings
from config.budget import BudgetSettings
from craflow.budget import choose_pacer


class SmoothLimiter:
    """Accept a request only one full interval after the last accepted one (no burst)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.lock = threading.Lock()
        self.last = -1e18
        self.accepted: list[tuple[float, str]] = []
        self.rejected = 0

    def admit(self, request_id: str) -> bool:
        with self.lock:
            now = time.monotonic()
            if now - self.last < self.interval - 1e-4:  # 0.1 ms: nginx counts milliseconds
                self.rejected += 1
                return False
            self.last = now
            self.accepted.append((now, request_id))
            return True


def serve(limiter: SmoothLimiter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: no new connection per request

        def do_GET(self) -> None:
            ok = limiter.admit(self.path.rsplit("/", 1)[-1])
            self.send_response(200 if ok else 429)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def worker(base: str, ids: list[str], env: dict[str, str], start_at: float) -> None:
    os.environ.update(env)
    pacer = choose_pacer(ApiSettings(), RateLimitSettings(), BudgetSettings())
    with httpx.Client(base_url=base, timeout=30.0) as client:
        time.sleep(max(0.0, start_at - time.time()))
        for request_id in ids:
            while True:  # a 429 is back-pressure: wait one interval's worth and resend
                pacer.acquire("read")
                if client.get(f"/api/v1/items/{request_id}").status_code != 429:
                    break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--versions", type=int, default=300, help="requests in all")
    parser.add_argument("--rate", type=float, default=25.0, help="the limiter's reads/s")
    parser.add_argument("--pacer", choices=["shared", "local"], default="shared")
    parser.add_argument("--headroom", type=float, default=None)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--api-url", default=None, help="sweep mode: the API (or `sandbox`) to sweep through"
    )
    parser.add_argument("--rate-scale", type=float, default=10.0, help="sandbox limit scale")
    parser.add_argument("--per-product", type=int, default=10, help="versions per product")
    parser.add_argument("--concurrency", type=int, default=4, help="versions in flight per run")
    parser.add_argument("--worker-limit", type=int, default=2, help="runs per worker at once")
    parser.add_argument("--scan-seconds", type=float, default=0.2, help="sandbox scan time")
    parser.add_argument(
        "--kill-worker-after", type=float, default=None, help="SIGKILL worker-0 after S s"
    )
    parser.add_argument(
        "--no-fill-start",
        action="store_true",
        help="the sweep run leaves every chunk to the workers (measures the workers alone)",
    )
    args = parser.parse_args()
    if args.api_url:
        from benchmarks.scale_out_sweep import run

        with contextlib.redirect_stdout(sys.stderr):  # Prefect's tables and logs
            report = run(args)
        print(json.dumps(report))
        return

    limiter = SmoothLimiter(args.rate)
    server = serve(limiter)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    prefix = f"craflow:bench:{uuid.uuid4().hex[:8]}"
    env = {
        "CRA_EVIDENCE_URL": base,
        "CRA_EVIDENCE_API_KEY": "cra_benchmark_scale_out",
        "CRAFLOW_RATE_READ_PER_MINUTE": str(round(args.rate * 60)),
        "CRAFLOW_BUDGET_MODE": args.pacer,
        "CRAFLOW_BUDGET_REDIS_URL": args.redis_url,
        "CRAFLOW_BUDGET_KEY_PREFIX": prefix,
    }
    if args.headroom is not None:
        env["CRAFLOW_BUDGET_HEADROOM"] = str(args.headroom)
    ids = [f"v{i}" for i in range(args.versions)]
    start_at = time.time() + 2.0
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=worker, args=(base, ids[n :: args.workers], env, start_at))
        for n in range(args.workers)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    server.shutdown()
    client = redis.Redis.from_url(args.redis_url)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)

    times = [t for t, _ in limiter.accepted]
    counts = Counter(request_id for _, request_id in limiter.accepted)
    span = max(times) - min(times) if times else 0.0
    bound = (args.versions - 1) * limiter.interval
    print(
        json.dumps(
            {
                "workers": args.workers,
                "versions": args.versions,
                "pacer": args.pacer,
                "rate": args.rate,
                "span": round(span, 3),
                "bound": round(bound, 3),
                "ratio": round(span / bound, 3) if bound else None,
                "got_429": limiter.rejected,
                "missing": sum(1 for i in ids if counts[i] == 0),
                "duplicated": sum(1 for c in counts.values() if c > 1),
            }
        )
    )


if __name__ == "__main__":
    main()
