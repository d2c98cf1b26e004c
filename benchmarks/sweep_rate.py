"""How close the sweep runs to the API's published rate limits, and whether it overshoots.

Builds a portfolio of N versions (default 200: 20 products x 10 approved versions, one
small SBOM each) in a sandbox started with a generous rate scale, restarts the sandbox
on the same data with `--rate-scale` limits, and runs `sweep_flow` twice under a
Prefect test harness:

1. paced by the process alone (`CRAFLOW_BUDGET_MODE=local`);
2. paced by the shared Redis budget (`CRAFLOW_BUDGET_MODE=shared`, craflow/budget).

For each it prints the wall time, the requests per bucket, the 429s received, and the
ratio of the wall time to the lower bound the read and write limits impose. The sandbox
counts requests in fixed windows that open at a caller's first request, so n requests
in a bucket of L per window w need at least (ceil(n / L) - 1) * w seconds; the steady-
rate bound n / (L / w) is printed beside it. Goal: ratio <= 1.10 with zero 429s.
Run by hand, not in CI:

    .venv/bin/python benchmarks/sweep_rate.py [--versions 200] [--rate-scale 10]
"""

# ruff: noqa: E402  (PREFECT_HOME must be set before Prefect is imported)

import argparse
import math
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="craflow-bench-prefect-")
os.environ["PREFECT_HOME"] = _HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("PREFECT_API_URL", None)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness

import tasks.client as client_module
from benchmarks.portfolio import build_versions
from config.api import ApiSettings, RateLimitSettings
from craflow.api import CraEvidenceClient
from craflow.api.ratelimit import bucket_for
from craflow.sandbox.runner import start_sandbox
from flows.sweep import sweep_flow

API_KEY = "cra_benchmark_sweep_rate_0000000000000000"
SETUP_SCALE = 3600.0
READ_PER_MINUTE, WRITE_PER_MINUTE = 300, 60


class CountingTransport(httpx.HTTPTransport):
    """Counts requests per rate bucket and the 429s the server answered."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.limited = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        with self.lock:
            self.requests[bucket_for(request.method, request.url.path)] += 1
            if response.status_code == 429:
                self.limited += 1
        return response


def build_portfolio(data_dir: Path, versions: int, per_product: int) -> None:
    with start_sandbox(
        data_dir=data_dir, api_key=API_KEY, scan_seconds=0.0, rate_scale=SETUP_SCALE
    ) as sandbox:
        settings = ApiSettings(url=sandbox.url, api_key=API_KEY)
        rates = RateLimitSettings(window_scale=SETUP_SCALE)
        with CraEvidenceClient(settings, rates=rates) as client:
            build_versions(client, versions, per_product)


def lower_bounds(requests: Counter[str], scale: float) -> tuple[float, float]:
    """(fixed-window bound, steady-rate bound) in seconds over the read and write buckets."""
    window = 60.0 / scale
    fixed = steady = 0.0
    for bucket, limit in (("read", READ_PER_MINUTE), ("write", WRITE_PER_MINUTE)):
        n = requests.get(bucket, 0)
        fixed = max(fixed, (math.ceil(n / limit) - 1) * window if n else 0.0)
        steady = max(steady, n / (limit / window))
    return fixed, steady


def run_sweep(label: str, archive: Path, concurrency: int, scale: float) -> dict[str, object]:
    transport = CountingTransport()

    class CountedClient(CraEvidenceClient):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs["transport"] = transport
            super().__init__(*args, **kwargs)

    original = client_module.CraEvidenceClient
    client_module.CraEvidenceClient = CountedClient  # type: ignore[misc]
    try:
        started = time.monotonic()
        state = sweep_flow(concurrency=concurrency, export=archive.as_uri(), return_state=True)
        wall = time.monotonic() - started
    finally:
        client_module.CraEvidenceClient = original  # type: ignore[misc]
    fixed, steady = lower_bounds(transport.requests, scale)
    return {
        "label": label,
        "state": state.type.value,
        "message": state.message,
        "wall": wall,
        "requests": dict(transport.requests),
        "limited": transport.limited,
        "fixed": fixed,
        "steady": steady,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=200)
    parser.add_argument("--per-product", type=int, default=10)
    parser.add_argument("--rate-scale", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--scan-seconds", type=float, default=0.2)
    parser.add_argument(
        "--skip-shared", action="store_true", help="Only per-process pacing (no Redis budget)."
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="craflow-bench-sandbox-"))
    print(f"building {args.versions} versions ...", flush=True)
    build_portfolio(data_dir, args.versions, args.per_product)
    os.environ["CRAFLOW_RATE_WINDOW_SCALE"] = str(args.rate_scale)
    os.environ["CRAFLOW_SWEEP_POLL_INTERVAL_SECONDS"] = str(max(args.scan_seconds / 2, 0.05))
    window = 60.0 / args.rate_scale
    results = []
    with (
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=300),
        start_sandbox(
            data_dir=data_dir,
            api_key=API_KEY,
            scan_seconds=args.scan_seconds,
            rate_scale=args.rate_scale,
        ) as sandbox,
    ):
        os.environ["CRA_EVIDENCE_URL"] = sandbox.url
        os.environ["CRA_EVIDENCE_API_KEY"] = API_KEY
        archives = Path(tempfile.mkdtemp(prefix="craflow-bench-archive-"))
        modes = ["local"] if args.skip_shared else ["local", "shared"]
        for mode in modes:
            os.environ["CRAFLOW_BUDGET_MODE"] = mode
            time.sleep(window + 0.5)  # let the sandbox's fixed windows of the last run close
            print(f"sweeping with {mode} pacing ...", flush=True)
            results.append(run_sweep(mode, archives / mode, args.concurrency, args.rate_scale))

    print()
    print(
        f"versions={args.versions} rate-scale={args.rate_scale:g} "
        f"(read {READ_PER_MINUTE}, write {WRITE_PER_MINUTE} per {window:g} s window) "
        f"concurrency={args.concurrency}"
    )
    print(
        f"{'pacing':<8} {'state':<10} {'wall s':>8} {'bound s':>8} {'ratio':>6} "
        f"{'steady':>7} {'429s':>5}  requests"
    )
    for r in results:
        ratio = r["wall"] / r["fixed"] if r["fixed"] else float("nan")
        steady = r["wall"] / r["steady"] if r["steady"] else float("nan")
        print(
            f"{r['label']:<8} {r['state']:<10} {r['wall']:>8.1f} {r['fixed']:>8.1f} "
            f"{ratio:>6.2f} {steady:>7.2f} {r['limited']:>5}  {r['requests']}"
        )
        if r["state"] != "COMPLETED":
            print(f"         {r['message']}")


if __name__ == "__main__":
    main()
