"""`craflow stack up` on the machine's PostgreSQL and Redis runs a flow on its workers."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.stack import StackSettings
from craflow.stack import StackState, down, status, up
from craflow.stack.preflight import drop_database
from tests.integration.services import REDIS_TEST_DB, need_postgres_and_redis

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.timeout(900)]

FLOW = """
import json, os, sys
from prefect import flow

@flow
def tiny(out: str) -> None:
    with open(out, "w") as f:
        json.dump({"worker_env": os.environ.get("PREFECT__FLOW_RUN_ID")}, f)
"""

DEPLOY_AND_RUN = """
import sys
from prefect import flow
from prefect.deployments import run_deployment
flow.from_source(source=sys.argv[1], entrypoint="tiny.py:tiny").deploy(
    name="tiny", work_pool_name=sys.argv[2], print_next_steps=False
)
run = run_deployment("tiny/tiny", parameters={"out": sys.argv[3]}, timeout=400)
print(run.state.type.value)
"""


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[StackSettings, StackState]]:
    need_postgres_and_redis()
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_TEST_DB)
    before = set(client.keys("*"))
    settings = StackSettings(
        database=f"craflow_test_{uuid.uuid4().hex[:10]}",
        redis_url=f"redis://127.0.0.1:6379/{REDIS_TEST_DB}",  # type: ignore[arg-type]
        run_dir=tmp_path / "run",
        workers=1,
        stop_timeout_seconds=15,
        startup_timeout_seconds=400,
    )
    try:
        yield settings, up(settings)
    finally:
        down(settings)
        drop_database(settings)
        for key in set(client.keys("*")) - before:
            client.delete(key)
        client.close()


def test_a_worker_of_the_stack_runs_a_flow_and_down_stops_everything(
    stack: tuple[StackSettings, StackState], tmp_path: Path
) -> None:
    settings, state = stack
    source = tmp_path / "src"
    source.mkdir()
    (source / "tiny.py").write_text(FLOW)
    out = tmp_path / "out.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_API_URL": state.api_urls[0], "PREFECT_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", DEPLOY_AND_RUN, str(source), settings.work_pool, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=source,
    )
    assert result.stdout.strip().splitlines()[-1:] == ["COMPLETED"], result.stderr[-2000:]
    assert json.loads(out.read_text())["worker_env"]  # it ran in a worker's flow-run process

    _, running = status(settings)
    assert sorted(running) == ["server-0", "services", "worker-0"]
    assert all(running.values())
    stopped = down(settings)
    assert sorted(stopped) == ["server-0", "services", "worker-0"]
    assert status(settings) == (None, {})
