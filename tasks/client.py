"""One `CraEvidenceClient` per flow run, shared by the run's tasks.

The flow opens the client with `run_client(...)`; tasks reach it with
`current_client()`. The registry is keyed by the flow-run id, so concurrent
runs in one process never share a client, and the client never becomes a task
input (it is not hashed, persisted or shown in the UI).

The client's pacer is chosen when the run starts (`run_pacer`): under a Prefect
worker (or with `CRAFLOW_BUDGET_MODE=shared`) every flow shares one API budget through
`craflow.budget.pacer_for_run()` (Redis, per API URL and key, falling back to
per-process pacing with a warning); elsewhere the client's default, the process's
shared pacer (`craflow.api.registry.shared_pacer`), paces every run of the process.

The API key comes from the environment (`CRA_EVIDENCE_API_KEY`) or, when no
credentials are set there, from a Prefect `Secret` block; it is never a flow
parameter and never logged.
"""

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from prefect.blocks.system import Secret
from prefect.runtime import flow_run
from pydantic import SecretStr

from config.api import ApiSettings
from config.budget import BudgetSettings
from craflow.api import ConfigurationError, CraEvidenceClient
from craflow.api.ratelimit import Pacer
from craflow.budget import pacer_for_run, under_worker

_LOCK = threading.Lock()
_CLIENTS: dict[str, CraEvidenceClient] = {}
_OUTSIDE_RUNS = "outside-flow-runs"


def _run_key() -> str:
    run_id = flow_run.id
    return str(run_id) if run_id else _OUTSIDE_RUNS


def _secret_from_block(block_name: str) -> str | None:
    try:
        block = Secret.load(block_name)
    except (ValueError, RuntimeError, OSError):
        return None  # no such block, or no Prefect API reachable
    if not isinstance(block, Secret):
        return None
    value = block.get()
    return value if isinstance(value, str) and value else None


def resolve_api_settings(block_name: str, settings: ApiSettings | None = None) -> ApiSettings:
    """API settings from the environment, with the key from Secret *block_name* if unset there."""
    resolved = settings if settings is not None else ApiSettings()
    if resolved.api_key is not None or (resolved.email and resolved.password):
        return resolved
    secret = _secret_from_block(block_name)
    if secret is None:
        return resolved
    return resolved.model_copy(update={"api_key": SecretStr(secret)})


@contextmanager
def register_client(client: CraEvidenceClient, *, key: str | None = None) -> Iterator[None]:
    """Make *client* the current flow run's client (or the one for *key*) while inside."""
    run_key = key if key is not None else _run_key()
    with _LOCK:
        if run_key in _CLIENTS:
            raise ConfigurationError(f"a client is already registered for run {run_key}")
        _CLIENTS[run_key] = client
    try:
        yield
    finally:
        with _LOCK:
            _CLIENTS.pop(run_key, None)


def shares_budget(environ: Mapping[str, str] = os.environ) -> bool:
    """True when a run starting now paces through the API budget every worker shares."""
    mode = BudgetSettings().mode
    return mode == "shared" or (mode == "auto" and under_worker(environ))


def run_pacer(environ: Mapping[str, str] = os.environ) -> Pacer | None:
    """The pacer of a run starting now: the shared budget under a worker, else None.

    None means the client's default, the per-process shared pacer. Settings are
    read here, when the run starts.
    """
    return pacer_for_run(environ) if shares_budget(environ) else None


@contextmanager
def run_client(
    settings: ApiSettings, *, environ: Mapping[str, str] = os.environ
) -> Iterator[CraEvidenceClient]:
    """Open one client for the current flow run, register it, close it at the end."""
    with (
        CraEvidenceClient(settings, pacer=run_pacer(environ)) as client,
        register_client(client),
    ):
        yield client


def current_client() -> CraEvidenceClient:
    """The client registered for the current flow run (or outside any run)."""
    key = _run_key()
    with _LOCK:
        client = _CLIENTS.get(key)
    if client is None:
        raise ConfigurationError(
            f"no CRA Evidence client is open for run {key}: open one with run_client()"
        )
    return client
