"""Issue 12, item 12: eight `craflow release` processes at once (a CI matrix on one runner).

No Prefect server is configured, so every process runs Prefect's ephemeral API; they
share one fresh `PREFECT_HOME` (the first run on a runner: one process migrates the
template database, the others wait for it and copy it). All must succeed, and stderr
must carry nothing but their own INFO lines: no "database is locked", no traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from craflow.sandbox.runner import RunningSandbox
from tests.fixtures.sandbox import SandboxFactory

# Eight Prefect processes, each with its ephemeral API, on a 2-core runner: the bound is
# for a CI runner, not a claim about speed.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
PROCESSES = 8
WAIT_SECONDS = 780  # a bound for a stuck process, not a speed goal (8 Prefect APIs on 2 cores)
#: what a successful release may print on stderr: Prefect's INFO lines and the
#: continuation of its "Starting temporary server" line
# a process's own log lines (its run's story at INFO, its warnings); never a traceback
OWN_LINE = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{3} \| (INFO|WARNING) +\| |^See https://www\.prefect\.io/"
)


def _sbom(tmp_path: Path) -> Path:
    path = tmp_path / "bom.json"
    component = {"type": "library", "name": "idna", "version": "3.7", "purl": "pkg:pypi/idna@3.7"}
    path.write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [component]})
    )
    return path


def _env(sandbox: RunningSandbox, home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CRAFLOW_", "CRA_", "PREFECT_")) and k != "DO_NOT_TRACK"
    }
    env.update(
        {
            "PYTHONPATH": os.getcwd(),
            "PREFECT_HOME": str(home),
            "CRA_EVIDENCE_URL": sandbox.url,
            "CRA_EVIDENCE_API_KEY": sandbox.api_key,
            "CRAFLOW_RATE_WINDOW_SCALE": "3600",
            "CRAFLOW_RELEASE_POLL_INITIAL_SECONDS": "0.1",
            "CRAFLOW_RELEASE_POLL_CAP_SECONDS": "0.3",
        }
    )
    return env


def test_12_eight_releases_at_once_succeed_quietly(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(scan_seconds=0.2, rate_scale=3600.0)
    sbom, env = _sbom(tmp_path), _env(sandbox, tmp_path / "prefect-home")
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "craflow.cli",
                "release",
                "--product",
                f"matrix-{i}",
                "--version",
                "1.0.0",
                "--sbom",
                str(sbom),
                "--fail-on",
                "none",
                "--json",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    try:
        results = [(p.communicate(timeout=WAIT_SECONDS), p.returncode) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    # each its own ephemeral API: two on one port made one run on the other's server
    # until it stopped ("Connection refused"; craflow.prefect_runtime.pin_ephemeral_port)
    started = re.compile(r"Starting temporary server on (http://\S+)")
    servers = [tuple(started.findall(err)) for (_, err), _ in results]
    assert len(set(servers)) == PROCESSES, servers
    for (out, err), code in results:
        assert code == 0, (out[-1000:], err[-3000:])
        assert json.loads(out.strip().splitlines()[-1])
        assert "Traceback" not in err, err[-3000:]
        assert "database is locked" not in err, err[-3000:]
        foreign = [line for line in err.splitlines() if line.strip() and not OWN_LINE.match(line)]
        assert not foreign, foreign
    slots = sorted((tmp_path / "prefect-home" / "craflow-ephemeral").glob("slot-*"))
    assert len(slots) == PROCESSES
    assert len(list(slots[0].parent.glob("template-prefect-*.db"))) == 1
