"""`craflow stack restart`: a stopped recorded process starts again as `up` started it
(command line, environment, log); the state file stays readable across versions.

`down` stops role by role. The "processes" are tiny Python children (no Prefect, no
PostgreSQL, no Redis)."""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.stack import StackSettings
from craflow.cli import app
from craflow.stack import StackError, down, restart, status, up
from craflow.stack import state as state_file
from craflow.stack.environment import environment_digest
from craflow.stack.processes import CHILDREN, spawn
from craflow.stack.state import ProcessRecord, StackState, alive

API = "http://127.0.0.1:9/api"
WAITER = "import signal; signal.pause()"  # runs until SIGTERM


def _settings(tmp_path: Path, **changes: object) -> StackSettings:
    return StackSettings(run_dir=tmp_path, stop_timeout_seconds=5, **changes)  # type: ignore[arg-type]


def _record(settings: StackSettings, name: str, argv: list[str]) -> ProcessRecord:
    log = str(Path(settings.run_dir) / f"{name}.log")
    digest = environment_digest(settings, api=API)
    return ProcessRecord("worker", name, 0, "", log, tuple(argv), "", API, digest)


def _started(settings: StackSettings, name: str) -> ProcessRecord:
    return spawn(_record(settings, name, [sys.executable, "-c", WAITER]), {"PREFECT_API_URL": API})


def _ended(settings: StackSettings, name: str) -> ProcessRecord:
    """A record of a process that ran WAITER's command line... and has ended."""
    record = spawn(_record(settings, name, [sys.executable, "-c", "pass"]), {})
    CHILDREN.pop(record.pid).wait(timeout=30)
    return ProcessRecord(
        record.role, name, record.pid, record.started, record.log,
        (sys.executable, "-c", WAITER), record.url, record.api, record.env_digest,
    )  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> StackSettings:
    return _settings(tmp_path)


def test_restart_starts_only_the_stopped_process_with_its_command_line_and_log(
    settings: StackSettings,
) -> None:
    running, stopped = _started(settings, "worker-0"), _ended(settings, "worker-1")
    state_file.save(settings.run_dir, StackState([API], "db", "pool", [running, stopped]))
    try:
        (new,) = restart(settings, environ={"PATH": "/usr/bin:/bin"})
        assert (new.name, new.argv, new.log) == ("worker-1", stopped.argv, stopped.log)
        assert new.pid != stopped.pid and alive(new)
        environment = Path(f"/proc/{new.pid}/environ").read_bytes().split(b"\0")
        assert f"PREFECT_API_URL={API}".encode() in environment  # rebuilt from the settings
        assert b"PATH=/usr/bin:/bin" in environment  # on the caller's environment
        current, live = status(settings)
        assert live == {"worker-0": True, "worker-1": True}
        assert current is not None and current.processes[0] == running  # untouched
    finally:
        stopped_names = down(settings)
    assert sorted(stopped_names) == ["worker-0", "worker-1"]  # down stops exactly what runs
    assert "restarted by craflow stack restart" in Path(new.log).read_text()


def test_a_named_running_or_unknown_process_is_refused(settings: StackSettings) -> None:
    running = _started(settings, "worker-0")
    state_file.save(settings.run_dir, StackState([API], "db", "pool", [running]))
    try:
        with pytest.raises(StackError, match="worker-0 is running"):
            restart(settings, ["worker-0"])
        with pytest.raises(StackError, match=r"no process server-9 .*it has: worker-0"):
            restart(settings, ["server-9"])
        assert restart(settings) == []  # nothing stopped: nothing to do
    finally:
        down(settings)


def test_changed_settings_are_refused_before_anything_starts(
    settings: StackSettings, tmp_path: Path
) -> None:
    stopped = _ended(settings, "worker-0")
    state_file.save(settings.run_dir, StackState([API], "db", "pool", [stopped]))
    other = _settings(tmp_path, database="another_db")
    with pytest.raises(StackError, match="settings differ"):
        restart(other)
    assert status(settings)[1] == {"worker-0": False}


def test_a_state_file_of_an_older_version_loads_but_cannot_restart(
    settings: StackSettings,
) -> None:
    old = {
        "api_urls": [API], "database": "db", "work_pool": "pool",
        "processes": [{"role": "server", "name": "server-0", "pid": 2**22 + 1, "started": "1",
                       "log": "/tmp/x.log"}],
    }  # fmt: skip
    Path(settings.run_dir, "stack.json").write_text(json.dumps(old))
    current = state_file.load(settings.run_dir)
    assert current is not None and current.processes[0].argv == ()
    with pytest.raises(StackError, match="older craflow"):
        restart(settings)


def test_fields_of_a_newer_version_are_ignored(settings: StackSettings) -> None:
    record = _record(settings, "worker-0", ["x"])
    state_file.save(settings.run_dir, StackState([API], "db", "pool", [record]))
    raw = json.loads(Path(settings.run_dir, "stack.json").read_text())
    raw["future"] = 1
    raw["processes"][0]["future"] = 2
    Path(settings.run_dir, "stack.json").write_text(json.dumps(raw))
    assert state_file.load(settings.run_dir) == StackState([API], "db", "pool", [record])


def test_up_on_a_partly_running_stack_points_at_restart(settings: StackSettings) -> None:
    running, stopped = _started(settings, "worker-0"), _ended(settings, "worker-1")
    state_file.save(settings.run_dir, StackState([API], "db", "pool", [running, stopped]))
    try:
        with pytest.raises(StackError, match=r"partly running \(1 of 2.*craflow stack restart"):
            up(settings)
    finally:
        down(settings)


def test_restart_command_without_a_stack_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAFLOW_STACK_RUN_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["stack", "restart"])
    assert result.exit_code == 6
    assert (
        result.output.strip()
        == f"error: no stack started from {tmp_path}: `craflow stack up` first"
    )


# a process that, on SIGTERM, appends its name to a file and ends; "ready" once it listens
_ORDERLY = """
import signal, sys
def bye(*_):
    with open(sys.argv[1], "a") as out:
        out.write(sys.argv[2] + "\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
print("ready", flush=True)
signal.pause()
"""


def test_down_stops_role_by_role_workers_first_servers_last(tmp_path: Path) -> None:
    import subprocess

    from craflow.stack.control import _stop
    from craflow.stack.state import start_time

    order = tmp_path / "order"
    records = []
    for role, name in [("server", "server-0"), ("worker", "worker-0"), ("services", "services")]:
        child = subprocess.Popen(
            [sys.executable, "-c", _ORDERLY, str(order), name],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.stdout.close()
        CHILDREN[child.pid] = child
        records.append(ProcessRecord(role, name, child.pid, start_time(child.pid), ""))
    assert _stop(records, timeout=30) == ["worker-0", "services", "server-0"]
    # each role had ended before the next got its SIGTERM
    assert order.read_text().split() == ["worker-0", "services", "server-0"]
