"""The fanned-out sweep through a stack's workers: span, bound, 429s, missing, duplicated.

Called by `benchmarks/scale_out.py --api-url ...`. Prefect's settings are read afresh
once the stack is up and this process points at it (PREFECT_HOME is the stack's, so the
parent reads the chunk runs' persisted results from the same local storage).
"""

import argparse
import os
import signal
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest.mock import patch

import redis

from benchmarks.counting_proxy import Counts, start_proxy
from benchmarks.portfolio import build_versions
from config.api import ApiSettings, RateLimitSettings
from config.stack import StackSettings
from craflow.api import CraEvidenceClient
from craflow.sandbox.runner import start_sandbox
from craflow.stack import StackState, down, up
from craflow.stack.environment import stack_environment
from craflow.stack.preflight import drop_database

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_KEY = "cra_benchmark_scale_out_sweep_000000000000"
SETUP_SCALE = 3600.0
READ_PER_MINUTE, WRITE_PER_MINUTE = 300, 60  # the contract's defaults (sandbox, client)


@contextmanager
def _upstream(args: argparse.Namespace, stack: ExitStack) -> Iterator[tuple[str, str, float]]:
    """(API URL, key, window scale) with the portfolio built on it."""
    if args.api_url != "sandbox":
        key = os.environ["CRA_EVIDENCE_API_KEY"]
        scale = float(os.environ.get("CRAFLOW_RATE_WINDOW_SCALE", "1"))
        api = ApiSettings(url=args.api_url, api_key=key)
        with CraEvidenceClient(api, rates=RateLimitSettings(window_scale=scale)) as client:
            build_versions(client, args.versions, args.per_product, prefix="scale")
        yield args.api_url, key, scale
        return
    data_dir = Path(tempfile.mkdtemp(prefix="craflow-scale-sandbox-"))
    with start_sandbox(
        data_dir=data_dir, api_key=SANDBOX_KEY, scan_seconds=0.0, rate_scale=SETUP_SCALE
    ) as setup:
        api = ApiSettings(url=setup.url, api_key=SANDBOX_KEY)
        with CraEvidenceClient(api, rates=RateLimitSettings(window_scale=SETUP_SCALE)) as client:
            build_versions(client, args.versions, args.per_product, prefix="scale")
    sandbox = stack.enter_context(
        start_sandbox(
            data_dir=data_dir,
            api_key=SANDBOX_KEY,
            scan_seconds=args.scan_seconds,
            rate_scale=args.rate_scale,
        )
    )
    yield sandbox.url, SANDBOX_KEY, args.rate_scale


def _bound(buckets: Counter[str], scale: float) -> float:
    """Seconds the read and write limits need at least for the requests sent (steady rate)."""
    window = 60.0 / scale
    return max(
        buckets.get("read", 0) / (READ_PER_MINUTE / window),
        buckets.get("write", 0) / (WRITE_PER_MINUTE / window),
    )


KILLED: list[str] = []  # the workers `_kill_later` killed


def _kill_later(state: StackState, after: float) -> threading.Thread:
    """SIGKILL worker-0 and the flow runs it started (its process group) once one of its
    runs has begun (so it sent a heartbeat) and *after* s have passed."""
    (worker,) = [r for r in state.processes if r.name == "worker-0"]
    started = time.monotonic()

    def kill() -> None:
        log = Path(worker.log)
        # "Beginning flow run" or, for runs linked to the sweep, "Beginning subflow run"
        while " - Beginning " not in log.read_text(errors="replace"):
            time.sleep(0.5)
        time.sleep(max(2.0, after - (time.monotonic() - started)))  # its first heartbeat
        os.killpg(worker.pid, signal.SIGKILL)
        KILLED.append(worker.name)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def _sweep(settings: StackSettings, state: StackState, args: argparse.Namespace) -> object:
    from prefect import deploy

    from config.deploy import DeploySettings
    from deployments.build import sweep_product_deployment
    from flows.sweep import sweep_flow

    deploy(
        sweep_product_deployment(DeploySettings()),
        work_pool_name=settings.work_pool,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    if args.kill_worker_after is not None:
        _kill_later(state, args.kill_worker_after)
    archive = Path(tempfile.mkdtemp(prefix="craflow-scale-archive-")).as_uri()
    result = sweep_flow(
        concurrency=args.concurrency, export=archive, fan_out="deployment", return_state=True
    )
    value = result.result(raise_on_failure=False)
    return getattr(value, "outcome", value)


@contextmanager
def _settings_from_environment() -> Iterator[None]:
    """Prefect's settings read afresh from `os.environ` (now the stack's), for this block.

    Prefect reads its settings once, when first imported; in a pytest session an earlier
    test's harness (a settings context with its own API URL) may still be entered, and
    the deployment would be created on that server ("Could not find work pool")."""
    from prefect.context import SettingsContext, get_settings_context
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import Settings

    with SettingsContext(profile=get_settings_context().profile, settings=Settings()):
        try:
            yield
        finally:  # deliver logs and events while the stack is up, not at exit to a dead API
            APILogWorker.drain_all()
            EventsWorker.drain_all()


def _env(proxy_url: str, key: str, scale: float, args: argparse.Namespace) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CRA_EVIDENCE_URL": proxy_url,
        "CRA_EVIDENCE_API_KEY": key,
        "CRAFLOW_RATE_WINDOW_SCALE": str(scale),
        # this process runs the sweep as a deployment run on a worker would: sharing the
        # budget (and so checking chunks itself while the workers start)
        "CRAFLOW_BUDGET_MODE": "shared",
        "CRAFLOW_BUDGET_REDIS_URL": args.redis_url,
        "CRAFLOW_BUDGET_KEY_PREFIX": f"craflow:bench:{uuid.uuid4().hex[:8]}",
        "CRAFLOW_SWEEP_POLL_INTERVAL_SECONDS": str(max(args.scan_seconds / 2, 0.05)),
        "CRAFLOW_SWEEP_CHUNK_VERSIONS": str(args.per_product),
        "CRAFLOW_SWEEP_FAN_OUT_POLL_SECONDS": "1",
        "CRAFLOW_SWEEP_FAN_OUT_FILL_START": str(not args.no_fill_start),
        # a run a killed worker took but never began: crashed after 3 min (starts take ~70 s here)
        "CRAFLOW_SWEEP_FAN_OUT_PENDING_SECONDS": "180",
    }


def _report(
    args: argparse.Namespace, counts: Counts, scale: float, outcome: object
) -> dict[str, object]:
    rows = getattr(outcome, "rows", [])
    seen = Counter((r["product"], r["version"]) for r in rows)
    expected = {
        (f"scale-{i // args.per_product:03d}", f"1.{i % args.per_product}.0")
        for i in range(args.versions)
    }
    bound = _bound(counts.buckets, scale)
    return {
        "workers": args.workers,
        "versions": args.versions,
        "span": round(counts.span, 3),
        "bound": round(bound, 3),
        "ratio": round(counts.span / bound, 3) if bound else None,
        "got_429": counts.limited,
        "idle": counts.idle(),
        "missing": len(expected - set(seen)),
        "duplicated": sum(1 for n in seen.values() if n > 1),
        "failed": [f.product for f in getattr(outcome, "products_failed", [])],
        "rescanned_twice": sum(1 for n in counts.rescans.values() if n > 1),
        "requests": dict(counts.buckets),
        "rate_scale": scale,
        "killed_worker": bool(KILLED),
        "load": round(os.getloadavg()[0], 1),
    }


def run(args: argparse.Namespace) -> dict[str, object]:
    """Build, start, sweep, stop; the JSON line's fields."""
    with ExitStack() as stack, _upstream(args, stack) as (upstream, key, scale):
        server, counts, stop_proxy = start_proxy(upstream)
        stack.callback(stop_proxy)
        env = _env(f"http://127.0.0.1:{server.server_address[1]}", key, scale, args)
        run_dir = Path(tempfile.mkdtemp(prefix="craflow-scale-stack-"))
        settings = StackSettings(
            database=f"craflow_bench_{uuid.uuid4().hex[:10]}",
            redis_url=args.redis_url,
            run_dir=run_dir,
            workers=args.workers,
            worker_limit=args.worker_limit,
            startup_timeout_seconds=600,
        )
        client = redis.Redis.from_url(args.redis_url)
        stack.callback(client.close)
        before = set(client.scan_iter())
        state = up(settings, environ=env)
        stack_env = {**env, **stack_environment(settings, api=state.api_urls[0], base=env)}
        try:
            counts.reset()
            started = time.monotonic()
            # this process is the stack's client for the sweep, and itself again afterwards
            with patch.dict(os.environ, stack_env), _settings_from_environment():
                outcome = _sweep(settings, state, args)
            counts_report = _report(args, counts, scale, outcome)
            counts_report["wall"] = round(time.monotonic() - started, 1)
        finally:
            down(settings)
            drop_database(settings)
            # the budget's keys, and what the stack's Prefect wrote (its messaging streams,
            # docket and trigger keys have fixed names, no prefix of ours): every new key
            for redis_key in set(client.scan_iter()) - before:
                client.delete(redis_key)
    return counts_report
