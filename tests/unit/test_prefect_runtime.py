"""craflow/prefect_runtime.py: one ephemeral Prefect database per process; the user wins."""

import fcntl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from craflow.prefect_runtime import (
    SLOTS_FOLDER,
    claim_slot,
    configure_ephemeral_prefect,
    pick_port,
    pin_ephemeral_port,
    release_slots,
)


@pytest.fixture(autouse=True)
def _release() -> Iterator[None]:
    # the template's real migration is a subprocess: tests/unit/test_prefect_template.py
    with patch("craflow.prefect_runtime.seed_slot_database", return_value=True):
        yield
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


def test_a_new_slot_gets_the_users_memo_and_logging_choices(tmp_path: Path) -> None:
    env = {
        "PREFECT_HOME": str(tmp_path),
        "PREFECT_MEMO_STORE_PATH": "/mine/memo.toml",
        "PREFECT_LOGGING_SETTINGS_PATH": "/mine/logging.yml",
    }
    configure_ephemeral_prefect(env)
    assert "PREFECT_SERVER_MEMO_STORE_PATH" not in env
    assert env["PREFECT_LOGGING_SETTINGS_PATH"] == "/mine/logging.yml"


def test_a_slot_keeps_its_own_block_registration_memo(tmp_path: Path) -> None:
    env = {"PREFECT_HOME": str(tmp_path)}
    slot = configure_ephemeral_prefect(env)
    assert slot is not None
    assert env["PREFECT_SERVER_MEMO_STORE_PATH"] == str(slot / "memo_store.toml")


def test_a_logging_file_in_the_prefect_home_is_left_to_prefect(tmp_path: Path) -> None:
    (tmp_path / "logging.yml").write_text("version: 1\n")
    env = {"PREFECT_HOME": str(tmp_path)}
    configure_ephemeral_prefect(env)
    assert "PREFECT_LOGGING_SETTINGS_PATH" not in env


def test_only_a_slot_without_database_is_seeded(tmp_path: Path) -> None:
    env = {"PREFECT_HOME": str(tmp_path)}
    with patch("craflow.prefect_runtime.seed_slot_database", return_value=True) as seed:
        slot = configure_ephemeral_prefect(env)
        assert slot is not None and seed.call_args.args[0] == slot / "prefect.db"
        (slot / "prefect.db").write_bytes(b"")
        release_slots()
        configure_ephemeral_prefect(env)
    assert seed.call_count == 1


@pytest.fixture
def no_default_server() -> Iterator[dict[Any, Any]]:
    """Prefect's registry of ephemeral servers, emptied for the test and restored after."""
    from prefect.server.api.server import SubprocessASGIServer

    saved = dict(SubprocessASGIServer._instances)
    SubprocessASGIServer._instances.clear()
    try:
        yield SubprocessASGIServer._instances
    finally:
        SubprocessASGIServer._instances.clear()
        SubprocessASGIServer._instances.update(saved)


def test_a_claimed_slot_pins_a_port_the_kernel_assigned(
    tmp_path: Path, no_default_server: dict[Any, Any]
) -> None:
    from prefect.server.api.server import SubprocessASGIServer

    assert claim_slot(tmp_path) is not None
    port = pin_ephemeral_port()
    assert port is not None
    server = SubprocessASGIServer()  # what Prefect's client asks for in ephemeral mode
    assert server.port == port and not server.running
    assert pin_ephemeral_port() is None  # once per process: the chosen server stays
    assert SubprocessASGIServer().port == port


def test_without_a_slot_prefect_chooses(no_default_server: dict[Any, Any]) -> None:
    assert pin_ephemeral_port() is None
    assert no_default_server == {}


def _ports(*ports: int) -> Callable[[], int]:
    """What the kernel hands out, in turn."""
    queue = list(ports)
    return lambda: queue.pop(0)


def test_a_port_another_live_slot_holds_is_never_picked(tmp_path: Path) -> None:
    # the kernel may give the next process a port whose server has not bound it yet
    (tmp_path / "slot-0").mkdir()
    (tmp_path / "slot-0" / "port").write_text("41000")
    mine = tmp_path / "slot-1"
    mine.mkdir()
    with (tmp_path / "slot-0" / "lock").open("ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # slot-0's process lives
        assert pick_port(mine, _ports(41000, 41002)) == 41002
    assert (mine / "port").read_text() == "41002"


def test_the_port_of_a_slot_whose_process_ended_is_free_again(tmp_path: Path) -> None:
    (tmp_path / "slot-0").mkdir()
    (tmp_path / "slot-0" / "port").write_text("41000")
    mine = tmp_path / "slot-1"
    mine.mkdir()
    assert pick_port(mine, _ports(41000)) == 41000
