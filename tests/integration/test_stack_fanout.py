"""A worker killed with SIGKILL mid-sweep: its runs are crashed, re-run, every version once.

Starts the stack on the machine's PostgreSQL and Redis (fresh database, dropped after)
with two workers, sweeps 24 versions as one `sweep-product` deployment run per product,
and kills worker-0 with the flow runs it started as soon as one of its runs began. The crash
automation (30 s heartbeats, 90 s window) marks its runs Crashed and the sweep re-runs
them. Slow: stack start (~150 s here) + sweep + the 90 s detection window.
"""

import argparse

import pytest

from tests.integration.services import REDIS_TEST_DB, need_postgres_and_redis

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.timeout(1500)]


def test_a_killed_worker_does_not_lose_or_repeat_a_version() -> None:
    need_postgres_and_redis()
    from benchmarks.scale_out_sweep import run

    args = argparse.Namespace(
        api_url="sandbox",
        workers=2,
        versions=24,
        per_product=6,
        concurrency=2,
        worker_limit=2,
        scan_seconds=3.0,
        rate_scale=60.0,
        redis_url=f"redis://127.0.0.1:6379/{REDIS_TEST_DB}",
        kill_worker_after=0.0,
        # every chunk to the workers: the sweep taking some could leave worker-0 without one
        no_fill_start=True,
    )
    report = run(args)
    assert report["killed_worker"] is True
    assert (report["missing"], report["duplicated"]) == (0, 0), report
    assert report["failed"] == [], report
