"""Which pacer a flow's client gets: the shared budget under a worker, the process's elsewhere."""

import pytest

import tasks.client as client_module
from craflow.api.ratelimit import NoPacing
from tasks.client import run_pacer

WORKER = {"PREFECT__FLOW_RUN_ID": "3f1c2d4e-0000-4000-8000-000000000000"}


@pytest.fixture
def chosen(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []

    def fake(environ: object) -> NoPacing:
        calls.append(environ)
        return NoPacing()

    monkeypatch.setattr(client_module, "pacer_for_run", fake)
    return calls


def test_outside_a_worker_the_process_pacer_stays_the_default(chosen: list[object]) -> None:
    assert run_pacer({}) is None
    assert chosen == []


def test_under_a_worker_every_run_asks_the_shared_budget(chosen: list[object]) -> None:
    assert isinstance(run_pacer(WORKER), NoPacing)
    assert chosen == [WORKER]


@pytest.mark.parametrize(("mode", "shared"), [("shared", True), ("local", False)])
def test_the_budget_mode_overrides_the_worker_detection(
    monkeypatch: pytest.MonkeyPatch, chosen: list[object], mode: str, shared: bool
) -> None:
    monkeypatch.setenv("CRAFLOW_BUDGET_MODE", mode)
    assert (run_pacer({}) is not None) is shared
    assert (run_pacer(WORKER) is not None) is shared
