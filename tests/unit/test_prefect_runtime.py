"""craflow/prefect_runtime.py: one ephemeral Prefect database per process; the user wins."""

import fcntl
from pathlib import Path

import pytest

from craflow.prefect_runtime import (
    SLOTS_FOLDER,
    claim_slot,
    configure_ephemeral_prefect,
    release_slots,
)


@pytest.fixture(autouse=True)
def _release() -> None:
    yield  # type: ignore[misc]
    release_slots()


def test_each_claim_gets_its_own_slot(tmp_path: Path) -> None:
    first, second = claim_slot(tmp_path), claim_slot(tmp_path)
    assert first is not None and second is not None
    assert first != second


def test_a_slot_held_elsewhere_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "slot-0").mkdir()
    with (tmp_path / "slot-0" / "lock").open("ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert claim_slot(tmp_path) == tmp_path / "slot-1"


def test_a_released_slot_is_reused(tmp_path: Path) -> None:
    assert claim_slot(tmp_path) == tmp_path / "slot-0"
    release_slots()
    assert claim_slot(tmp_path) == tmp_path / "slot-0"


def test_no_free_slot_leaves_prefect_alone(tmp_path: Path) -> None:
    assert claim_slot(tmp_path, max_slots=1) is not None
    assert claim_slot(tmp_path, max_slots=1) is None


def test_ephemeral_runs_get_a_slot_database_and_no_telemetry(tmp_path: Path) -> None:
    env = {"PREFECT_HOME": str(tmp_path)}
    slot = configure_ephemeral_prefect(env)
    assert slot is not None and slot.parent == tmp_path / SLOTS_FOLDER
    assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"].endswith(f"{slot}/prefect.db")
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


@pytest.mark.parametrize(
    "choice",
    [
        {"PREFECT_API_URL": "http://127.0.0.1:4200/api"},
        {"PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://x/y"},
        {"PREFECT_SERVER_DATABASE_CONNECTION_URL": "sqlite+aiosqlite:///mine.db"},
    ],
)
def test_the_users_choice_wins(tmp_path: Path, choice: dict[str, str]) -> None:
    env = {"PREFECT_HOME": str(tmp_path), **choice}
    assert configure_ephemeral_prefect(env) is None
    assert {k: env[k] for k in choice} == choice
    assert not (tmp_path / SLOTS_FOLDER).exists()


def test_analytics_setting_of_the_user_wins(tmp_path: Path) -> None:
    env = {"PREFECT_HOME": str(tmp_path), "PREFECT_SERVER_ANALYTICS_ENABLED": "true"}
    configure_ephemeral_prefect(env)
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"


@pytest.mark.parametrize("argv", [["demo"], ["sandbox", "--port", "0"], ["sbom", "check", "x"]])
def test_self_contained_commands_are_left_alone(tmp_path: Path, argv: list[str]) -> None:
    env = {"PREFECT_HOME": str(tmp_path)}
    assert configure_ephemeral_prefect(env, argv) is None
    assert "PREFECT_SERVER_DATABASE_CONNECTION_URL" not in env
