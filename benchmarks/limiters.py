"""craflow's pacing against four kinds of rate limiter: span / bound and 429s per kind.

A loopback limiting proxy (benchmarks/limiting_proxy.py, a process of its own, with the
limiters of tests/chaos/limiters.py) sits in front of an API: by default a sandbox
holding a portfolio of N approved versions (default 60), or any server given with
`--api-url` (and `--api-key`). For each limiter kind, fixed window, sliding window,
token bucket without burst (nginx `limit_req`) and GCRA with a burst of 3, it runs one
`sweep_flow` (default concurrency) through the proxy, with craflow told the limits
through `CRAFLOW_RATE_*`, and prints

    span  = first to last request through the proxy,
    bound = max over buckets of requests / rate (what the limits allow when sustained),
    span / bound, and the 429s the proxy answered; "bucket" is the busiest bucket's own
    span against (n - 1) / rate (the pacing alone, without the sweep's serial start);
    "lead" / "tail" are the seconds before that bucket's first and after its last request.

Every kind's proxy listens on one address, so craflow's learned scan durations (its state
directory, a fresh temporary one) carry from sweep to sweep as they do from night to
night against one API; a first sweep, not counted, teaches them (`--no-warm-up`: the
first sweep ever).

Goal: ratio <= 1.10 (stretch 1.03) and 0 x 429 for every kind. Run by hand, not in CI:

    .venv/bin/python benchmarks/limiters.py [--versions 60] [--read-per-second 25]
        [--write-per-second 5] [--api-url URL --api-key KEY]

`--processes N [--pacer shared|local] [--requests-per-process 100]` measures the shared
API budget instead: N processes (benchmarks/shared_budget.py) send GETs through each
limiter kind, pacing through the Redis budget (`shared`, needs Redis; the keys are
under a fresh prefix that expires) or each alone (`local`); no sweep, no Prefect.
"""

# ruff: noqa: E402  (PREFECT_HOME must be set before Prefect is imported)

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="craflow-bench-prefect-")
os.environ["PREFECT_HOME"] = _HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("PREFECT_API_URL", None)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness

from benchmarks.sweep_rate import API_KEY, build_portfolio
from craflow.api.registry import forget_pacers
from craflow.sandbox.runner import start_sandbox
from craflow.stack.preflight import free_port
from flows.sweep import sweep_flow
from tests.chaos.limiters import KINDS


@contextmanager
def limiting_proxy(kind: str, args: argparse.Namespace, upstream: str | None) -> Iterator[dict]:
    """Start benchmarks/limiting_proxy.py for *kind*; yield a dict filled with its counts."""
    command = [sys.executable, str(Path(__file__).with_name("limiting_proxy.py")), kind]
    command += [str(int(args.read_per_second * 60)), str(int(args.write_per_second * 60))]
    command += [upstream] if upstream else []
    command += ["--port", str(args.proxy_port)]
    if args.trace is not None:
        args.trace.mkdir(parents=True, exist_ok=True)
        command += ["--trace", str(args.trace / f"{kind}.jsonl")]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdin is not None
    counts: dict = {"url": process.stdout.readline().strip()}
    try:
        yield counts
    finally:
        out, _ = process.communicate(timeout=60)  # closes its stdin: it reports and exits
        counts.update(json.loads(out.strip().splitlines()[-1]))


def _result(kind: str, state: str, counts: dict, args: argparse.Namespace) -> dict:
    requests = Counter(counts["requests"])
    rates = {"read": args.read_per_second, "write": args.write_per_second}
    bound = max(requests[b] / rate for b, rate in rates.items())
    # the pacing alone: the busiest bucket's own span against (n - 1) / rate
    pacing = max(
        (last - first) / ((requests[b] - 1) / rates[b])
        for b, (first, last) in counts["spans"].items()
        if b in rates and requests[b] > 1 and requests[b] / rates[b] >= bound * 0.9
    )
    # the serial start and end: before the busiest bucket's first and after its last request
    busiest = max(rates, key=lambda b: requests[b] / rates[b])
    first, last = counts["spans"].get(busiest, [counts["first"], counts["last"]])
    return {
        "pacing": pacing,
        "lead": first - counts["first"],
        "tail": counts["last"] - last,
        "kind": kind,
        "state": state,
        "span": counts["last"] - counts["first"],
        "bound": bound,
        "limited": counts["limited"],
        "requests": dict(requests),
    }


def run_kind(kind: str, upstream: str, args: argparse.Namespace, archive: Path) -> dict:
    forget_pacers()  # each kind starts from the configured rate, as a fresh process would
    with limiting_proxy(kind, args, upstream) as counts:
        os.environ["CRA_EVIDENCE_URL"] = counts["url"]
        state = sweep_flow(export=archive.as_uri(), return_state=True)
    return _result(kind, state.type.value, counts, args)


def run_processes(kind: str, args: argparse.Namespace) -> dict:
    """N processes of benchmarks/shared_budget.py, GETs only, through one limiter of *kind*."""
    prefix = f"craflow:bench:{uuid.uuid4().hex}"
    child = Path(__file__).with_name("shared_budget.py")
    with limiting_proxy(kind, args, None) as counts:
        env = {**os.environ, "CRA_EVIDENCE_URL": counts["url"], "CRAFLOW_BUDGET_KEY_PREFIX": prefix}
        start_at = time.time() + 3.0 + args.processes  # every child imported by then
        command = [sys.executable, str(child), "--requests", str(args.requests_per_process)]
        command += ["--start-at", str(start_at), "--pacer", args.pacer]
        children = [subprocess.Popen(command, env=env) for _ in range(args.processes)]
        codes = [c.wait() for c in children]
    state = "completed" if not any(codes) else f"exit {max(codes)}"
    return _result(kind, state, counts, args)


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
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="N > 0: N processes send GETs through one limiter (no sweep, no Prefect).",
    )
    parser.add_argument(
        "--no-warm-up",
        action="store_true",
        help="measure the first sweep ever (no scan durations learned yet)",
    )
    parser.add_argument("--pacer", choices=("shared", "local"), default="shared")
    parser.add_argument(
        "--trace", type=Path, help="a folder: one KIND.jsonl per kind, every request the proxy saw"
    )
    parser.add_argument("--requests-per-process", type=int, default=100)
    args = parser.parse_args()
    # one proxy address for every kind: the API URL, and so what craflow learned of it, stays
    args.proxy_port = free_port("127.0.0.1")
    if args.processes > 0:
        main_processes(args)
        return

    os.environ["CRA_EVIDENCE_API_KEY"] = args.api_key
    os.environ["CRAFLOW_RATE_READ_PER_MINUTE"] = str(int(args.read_per_second * 60))
    os.environ["CRAFLOW_RATE_WRITE_PER_MINUTE"] = str(int(args.write_per_second * 60))
    os.environ["CRAFLOW_SWEEP_POLL_INTERVAL_SECONDS"] = "0.5"
    os.environ["CRAFLOW_STATE_DIR"] = tempfile.mkdtemp(prefix="craflow-bench-state-")
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
        kinds = args.kinds.split(",")
        if not args.no_warm_up:  # what a nightly sweep knows from the night before
            print(f"teaching craflow the scan durations (behind {kinds[0]}, not counted) ...")
            run_kind(kinds[0], upstream, args, archives / "warm-up")
        for kind in kinds:
            print(f"sweeping behind {kind} ...", flush=True)
            results.append(run_kind(kind, upstream, args, archives / kind))

    print()
    print(
        f"versions={args.versions} limits: read {args.read_per_second:g}/s, "
        f"write {args.write_per_second:g}/s; default concurrency"
    )
    _table(results)


def main_processes(args: argparse.Namespace) -> None:
    os.environ["CRA_EVIDENCE_API_KEY"] = args.api_key
    os.environ["CRAFLOW_RATE_READ_PER_MINUTE"] = str(int(args.read_per_second * 60))
    results = []
    for kind in args.kinds.split(","):
        print(f"{args.processes} processes behind {kind} ...", flush=True)
        results.append(run_processes(kind, args))
    print()
    print(
        f"processes={args.processes} x {args.requests_per_process} GETs, pacer {args.pacer}, "
        f"read {args.read_per_second:g}/s"
    )
    _table(results)


def _table(results: list[dict]) -> None:
    print(
        f"{'limiter':<22} {'state':<10} {'span s':>7} {'bound s':>8} {'ratio':>6} "
        f"{'bucket':>6} {'lead s':>6} {'tail s':>6} {'429s':>5}"
    )
    for r in results:
        ratio = r["span"] / r["bound"] if r["bound"] else float("nan")
        print(
            f"{r['kind']:<22} {r['state']:<10} {r['span']:>7.1f} {r['bound']:>8.1f} "
            f"{ratio:>6.2f} {r['pacing']:>6.2f} {r['lead']:>6.1f} {r['tail']:>6.1f} "
            f"{r['limited']:>5}  {r['requests']}"
        )


def contextlib_exit() -> "contextlib.ExitStack":  # noqa: F821
    import contextlib

    return contextlib.ExitStack()


if __name__ == "__main__":
    main()
