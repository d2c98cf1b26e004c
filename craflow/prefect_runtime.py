"""Where a `craflow` process keeps Prefect's run records when no Prefect server is configured.

Without `PREFECT_API_URL`, Prefect starts an ephemeral API (a uvicorn subprocess) on
one SQLite file in `PREFECT_HOME`. Several `craflow` processes at once (a CI matrix
on one runner) then share that file: the ephemeral servers' background services
(the telemetry heartbeat first) hit "database is locked" and print ~150-line
tracebacks, even when every run succeeds.

So each process claims a database slot of its own: `$PREFECT_HOME/craflow-ephemeral/
slot-N/prefect.db`, held with an exclusive `flock` for the life of the process
(the kernel releases it when the process ends, also on SIGKILL). Slots are reused.
A new slot never runs Prefect's migrations itself: its database is copied
(SQLite's backup API) from one template per Prefect version, migrated once under a
file lock (`prefect_template.py`). Each slot keeps its own block-registration memo,
so a reused slot skips that step too (one shared memo would flip between slots).
The telemetry heartbeat is switched off (an ephemeral server has nowhere to send it),
and a logging filter drops two known shutdown reports (`prefect_logging.py`).

The ephemeral server's port is chosen here too (`pin_ephemeral_port`, once Prefect is
imported): Prefect picks one at random from 8000-8999 and checks it is free, but its
uvicorn binds it only seconds later; two processes that picked the same port both
"start", the second one's server exits (address in use) while its health check is
answered by the first one's, and the second process runs its flow on the other's API
until that one stops ("Connection refused", seen in 1 of 6 runs of 8 at once). So the
port is one the kernel assigns (bind to port 0), and as the kernel may hand the same
free port to the next process before uvicorn has bound it (seen once in 8 at once), it
is also written to the slot (`slot-N/port`), under a lock, and a port another live
slot wrote is never taken (`pick_port`).
`PREFECT_HOME` itself stays shared: persisted results and cache records (what
makes a rerun skip a finished upload) live there, not in the database.

Nothing changes when the user chose: a `PREFECT_API_URL`, a database URL, a memo
path, a logging configuration or an analytics setting of their own always wins.
Import cost: the standard library only.
"""

import fcntl
import os
import socket
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import IO

from craflow.prefect_logging import quiet_logging_config
from craflow.prefect_template import seed_slot_database

DB_URL_VARIABLES = (
    "PREFECT_SERVER_DATABASE_CONNECTION_URL",
    "PREFECT_API_DATABASE_CONNECTION_URL",
)
MEMO_VARIABLES = ("PREFECT_SERVER_MEMO_STORE_PATH", "PREFECT_MEMO_STORE_PATH")
SLOTS_FOLDER = "craflow-ephemeral"
DATABASE_NAME = "prefect.db"
#: commands that run no flow in the user's Prefect home (the demo brings its own home)
SELF_CONTAINED_COMMANDS = frozenset({"demo", "sandbox", "sbom"})
MAX_SLOTS = 64

# The lock files stay open for the life of the process: closing one releases the slot.
_held: list[IO[bytes]] = []


def prefect_home(environ: MutableMapping[str, str]) -> Path:
    """Prefect's home folder as Prefect resolves it (`PREFECT_HOME`, else ~/.prefect)."""
    configured = environ.get("PREFECT_HOME", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".prefect"


def claim_slot(root: Path, max_slots: int = MAX_SLOTS) -> Path | None:
    """Lock the first free `slot-N` folder under *root*; None when all are taken."""
    root.mkdir(parents=True, exist_ok=True)
    for index in range(max_slots):
        slot = root / f"slot-{index}"
        slot.mkdir(exist_ok=True)
        handle = (slot / "lock").open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _held.append(handle)
        return slot
    return None


def configure_ephemeral_prefect(
    environ: MutableMapping[str, str] | None = None, argv: Sequence[str] = ()
) -> Path | None:
    """Give this process its own ephemeral Prefect database; return its slot (None: untouched).

    Call before Prefect is imported (its settings are read at import). *argv* (the
    command line after the program name) leaves self-contained commands alone.
    """
    env = os.environ if environ is None else environ
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in SELF_CONTAINED_COMMANDS:
        return None
    if env.get("PREFECT_API_URL", "").strip():
        return None  # a real server keeps the records
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if any(env.get(name, "").strip() for name in DB_URL_VARIABLES):
        return None
    home = prefect_home(env)
    try:
        slot = claim_slot(home / SLOTS_FOLDER)
    except OSError:
        return None  # an unwritable home: Prefect reports it in its own words
    if slot is None:
        return None
    database = slot / DATABASE_NAME
    if not database.exists():
        seed_slot_database(database, env)  # best effort: else the server migrates it
    env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{database}"
    if not any(env.get(name, "").strip() for name in MEMO_VARIABLES):
        env["PREFECT_SERVER_MEMO_STORE_PATH"] = str(slot / "memo_store.toml")
    _quiet_shutdown(env, home)
    return slot


def _quiet_shutdown(env: MutableMapping[str, str], home: Path) -> None:
    """Point Prefect at its own logging configuration plus craflow's shutdown filter.

    Left alone when the user has a logging configuration (the variable, or
    `$PREFECT_HOME/logging.yml`, which Prefect reads by default).
    """
    if env.get("PREFECT_LOGGING_SETTINGS_PATH", "").strip() or (home / "logging.yml").exists():
        return
    config = quiet_logging_config(home / SLOTS_FOLDER)
    if config is not None:
        env["PREFECT_LOGGING_SETTINGS_PATH"] = str(config)


def _kernel_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _held_elsewhere(slot: Path) -> bool:
    """True while another process holds *slot* (its flock cannot be taken)."""
    try:
        with (slot / "lock").open("ab") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    return False


def pick_port(mine: Path, new_port: Callable[[], int] = _kernel_port) -> int:
    """A port for the server of slot *mine*: one *new_port* gives that no other live slot
    of the same home has written (under the home's lock), written to `mine/port`."""
    root = mine.parent
    with (root / "ports.lock").open("ab") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # one process picks at a time
        taken: set[int] = set()
        for slot in root.glob("slot-*"):
            try:
                port = int((slot / "port").read_text(encoding="ascii"))
            except (OSError, ValueError):
                continue
            if slot != mine and _held_elsewhere(slot):
                taken.add(port)
        port = new_port()
        for _ in range(100):
            if port not in taken:
                break
            port = new_port()
        (mine / "port").write_text(str(port), encoding="ascii")
    return port


def pin_ephemeral_port() -> int | None:
    """Give the ephemeral server of this process its own port (`pick_port`); the port
    (None: no slot claimed here, or Prefect's default server is already chosen).

    Prefect keeps its default ephemeral server as `SubprocessASGIServer._instances[None]`
    (its test harness sets it the same way); `SubprocessASGIServer()` then returns it.
    """
    if not _held:
        return None  # a Prefect server, a user's database, or not the CLI: Prefect's choice
    from prefect.server.api.server import SubprocessASGIServer

    if None in SubprocessASGIServer._instances:
        return None
    port = pick_port(Path(_held[0].name).parent)
    SubprocessASGIServer._instances[None] = SubprocessASGIServer(port=port)
    return port


def release_slots() -> None:
    """Unlock every slot this process holds (tests; a process exit does it anyway)."""
    while _held:
        _held.pop().close()
