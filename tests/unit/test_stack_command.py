"""`craflow stack` reports a missing Redis or PostgreSQL, or a bad setting, in one line."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from craflow.cli import app


def test_unreachable_redis_is_one_line_and_exit_6(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAFLOW_STACK_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("CRAFLOW_STACK_REDIS_URL", "redis://127.0.0.1:1/0")
    result = CliRunner().invoke(app, ["stack", "up"])
    assert result.exit_code == 6
    assert result.output.strip().splitlines() == [
        "error: Redis unreachable at CRAFLOW_STACK_REDIS_URL (ConnectionError)"
    ]
    assert not (tmp_path / "stack.json").exists()


def test_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFLOW_STACK_WORKERS", "-1")
    result = CliRunner().invoke(app, ["stack", "up"])
    assert result.exit_code == 6
    assert "CRAFLOW_STACK_WORKERS" in result.output


def test_status_and_down_without_a_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFLOW_STACK_RUN_DIR", str(tmp_path))
    assert CliRunner().invoke(app, ["stack", "status"]).exit_code == 1
    down = CliRunner().invoke(app, ["stack", "down"])
    assert down.exit_code == 0
    assert "no stack running" in down.output
