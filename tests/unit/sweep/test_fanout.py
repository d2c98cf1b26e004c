"""Fan-out planning, result collection (each version once), mode choice and crash re-runs."""

from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.responses import SetStateStatus

import tasks.fanout as fanout_tasks
from craflow.sweep import VersionSnapshot, VersionTarget
from craflow.sweep.fanout import ChunkResult, SweepChunk, collect, plan_chunks
from flows.sweep import fan_out_mode
from tasks.fanout import WorkerPlan, run_as_subflows, run_on_workers


def _target(product: str, version: str) -> VersionTarget:
    return VersionTarget(
        product=product,
        product_id=f"p-{product}",
        version=version,
        version_id=f"v-{product}-{version}",
        release_state="released",
    )


def _snap(target: VersionTarget, *, error: str | None = None) -> VersionSnapshot:
    return VersionSnapshot(
        product=target.product,
        version=target.version,
        version_id=target.version_id,
        release_state=target.release_state,
        scan_state="failed" if error else "completed",
        error=error,
    )


def _fallback(target: VersionTarget, reason: str) -> VersionSnapshot:
    return _snap(target, error=reason)


TARGETS = [_target("a", "1"), _target("b", "1"), _target("a", "2"), _target("a", "3")]
STALE = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_chunks_group_by_product_in_first_seen_order_and_split_large_products() -> None:
    chunks = plan_chunks(TARGETS, max_versions=2)
    assert [(c.index, c.product, [t.version for t in c.targets]) for c in chunks] == [
        (0, "a", ["1", "2"]),
        (1, "a", ["3"]),
        (2, "b", ["1"]),
    ]
    assert plan_chunks([], 5) == ()
    with pytest.raises(ValueError, match="at least 1"):
        plan_chunks(TARGETS, 0)


def test_every_planned_version_is_reported_exactly_once() -> None:
    chunks = plan_chunks(TARGETS, max_versions=2)
    a1, a2, a3, b1 = TARGETS[0], TARGETS[2], TARGETS[3], TARGETS[1]
    results: dict[int, ChunkResult | str] = {
        # a re-run chunk that reported a1 twice and a version it was not given
        0: ChunkResult(index=0, snapshots=(_snap(a1), _snap(a1), _snap(b1), _snap(a2))),
        1: ChunkResult(index=1, errors=((a3.key, "scan failed on 3"),)),
        # chunk 2 never answered
    }
    snapshots, errors = collect(chunks, results, _fallback)
    assert [s.key for s in snapshots] == [a1.key, a2.key, a3.key, b1.key]
    assert errors == {a3.key: "scan failed on 3", b1.key: "no result from the run of b-2"}
    assert [s.error for s in snapshots] == [None, None, "scan failed on 3", errors[b1.key]]


def test_a_chunk_without_result_gives_its_reason_to_each_of_its_versions() -> None:
    chunks = plan_chunks(TARGETS, max_versions=5)
    snapshots, errors = collect(
        chunks, {0: "run of a-0 ended Crashed", 1: ChunkResult(index=1)}, _fallback
    )
    assert errors[TARGETS[0].key] == errors[TARGETS[3].key] == "run of a-0 ended Crashed"
    assert errors[TARGETS[1].key] == f"no result for {TARGETS[1].key} from b-1"
    assert len(snapshots) == 4


@pytest.mark.parametrize(
    ("configured", "worker", "exists", "expected"),
    [
        ("auto", False, True, "inline"),
        ("auto", True, True, "deployment"),
        ("auto", True, False, "subflow"),
        ("subflow", False, True, "subflow"),
        ("deployment", False, False, "deployment"),
    ],
)
def test_auto_fans_out_only_under_a_worker(
    configured: str, worker: bool, exists: bool, expected: str
) -> None:
    assert fan_out_mode(configured, worker=worker, has_deployment=lambda: exists) == expected


def test_a_subflow_that_raises_fails_only_its_chunk() -> None:
    chunks = plan_chunks(TARGETS, max_versions=5)

    def run(chunk: SweepChunk) -> ChunkResult:
        if chunk.product == "b":
            raise RuntimeError("boom\ntraceback")
        return ChunkResult(index=chunk.index, snapshots=tuple(_snap(t) for t in chunk.targets))

    answers = run_as_subflows(chunks, run, parallel=2)
    assert answers[1] == "run of b-1 failed: boom"
    assert isinstance(answers[0], ChunkResult)


Fake = TypeVar("Fake", "_FakeServer", "_Workers")


def _serve(monkeypatch: pytest.MonkeyPatch, fake: Fake) -> Fake:
    """Make *fake* the Prefect server tasks.fanout talks to (its client and run_deployment)."""
    monkeypatch.setattr(fanout_tasks, "run_deployment", fake.run_deployment)
    monkeypatch.setattr(fanout_tasks, "get_client", lambda sync_client: nullcontext(fake))
    return fake


class _FakeServer:
    """Deployment runs whose final states are scripted per chunk, attempt by attempt."""

    def __init__(self, script: dict[str, list[StateType]]) -> None:
        self.script = script
        self.runs: dict[UUID, tuple[str, StateType]] = {}
        self.started: list[str] = []
        self.forced: list[tuple[UUID, StateType, bool]] = []

    def run_deployment(self, name: str, **kwargs: Any) -> Any:
        chunk = SweepChunk.model_validate(kwargs["parameters"]["chunk"])
        attempt = sum(1 for s in self.started if s == chunk.name)
        self.started.append(chunk.name)
        run_id = uuid4()
        self.runs[run_id] = (chunk.model_dump_json(), self.script[chunk.name][attempt])
        return SimpleNamespace(id=run_id)

    def set_flow_run_state(self, run_id: UUID, state: Any, force: bool) -> None:
        self.forced.append((run_id, state.type, force))

    def read_flow_runs(self, flow_run_filter: Any) -> list[Any]:
        found = []
        for run_id in flow_run_filter.id.any_:
            payload, state_type = self.runs[run_id]
            chunk = SweepChunk.model_validate_json(payload)
            result = ChunkResult(
                index=chunk.index, snapshots=tuple(_snap(t) for t in chunk.targets)
            )
            state = SimpleNamespace(
                type=state_type,
                name=state_type.value.title(),
                message="worker died" if state_type == StateType.CRASHED else "",
                is_final=lambda t=state_type: t != StateType.PENDING,
                timestamp=STALE,
                result=lambda r=result: r,
            )
            found.append(SimpleNamespace(id=run_id, state=state))
        return found


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_FakeServer]:
    fake = _FakeServer(
        {
            "a-0": [StateType.CRASHED, StateType.COMPLETED],
            "b-1": [StateType.CRASHED, StateType.CRASHED],
            "c-2": [StateType.PENDING, StateType.COMPLETED],
        }
    )
    yield _serve(monkeypatch, fake)


def test_crashed_runs_are_re_run_until_the_attempts_are_spent(server: _FakeServer) -> None:
    chunks = plan_chunks([*TARGETS, _target("c", "1")], max_versions=5)
    plan = WorkerPlan(
        deployment="sweep-product/sweep-product", concurrency=2, attempts=2, poll_seconds=1
    )
    answers = run_on_workers(
        chunks, plan, sleep=lambda _: None, now=lambda: STALE + timedelta(seconds=901)
    )
    assert server.started.count("a-0") == 2
    assert server.started.count("b-1") == 2
    assert isinstance(answers[0], ChunkResult)
    assert answers[1] == "run of b-1 ended Crashed: worker died"
    # a run left Pending by a dead worker never sends a heartbeat: crashed by the sweep
    assert server.started.count("c-2") == 2
    assert [(t, f) for _, t, f in server.forced] == [(StateType.CRASHED, True)]
    assert isinstance(answers[2], ChunkResult)
    snapshots, errors = collect(chunks, answers, _fallback)
    assert len({s.key for s in snapshots}) == len(snapshots) == 5
    assert set(errors) == {TARGETS[1].key}


class _Workers:
    """Chunk runs on a timeline of reads: a worker takes run *name* at read `take`
    (a Pending proposed from then on is refused), it is Running until read `done`, then
    Completed. A run with no timeline is never taken by a worker."""

    def __init__(self, timeline: dict[str, tuple[int, int]]) -> None:
        self.timeline = timeline
        self.names: dict[UUID, str] = {}
        self.states: dict[str, list[tuple[StateType, bool]]] = {}
        self.reads = 0

    def run_deployment(self, name: str, **kwargs: Any) -> Any:
        chunk = SweepChunk.model_validate(kwargs["parameters"]["chunk"])
        run_id = uuid4()
        self.names[run_id] = chunk.name
        self.states[chunk.name] = []
        return SimpleNamespace(id=run_id)

    def _kind(self, name: str) -> StateType:
        take, done = self.timeline.get(name, (10**9, 10**9))
        if self.reads < take:
            return StateType.SCHEDULED
        return StateType.RUNNING if self.reads < done else StateType.COMPLETED

    def set_flow_run_state(self, run_id: UUID, state: Any, force: bool = False) -> Any:
        name = self.names[run_id]
        refused = not force and self._kind(name) != StateType.SCHEDULED
        if not refused:
            self.states[name].append((state.type, force))
        return SimpleNamespace(status=SetStateStatus.ABORT if refused else SetStateStatus.ACCEPT)

    def read_flow_runs(self, flow_run_filter: Any) -> list[Any]:
        self.reads += 1
        found = []
        for run_id in flow_run_filter.id.any_:
            name = self.names[run_id]
            kind = self._kind(name)
            result = ChunkResult(index=int(name.rsplit("-", 1)[1]))
            state = SimpleNamespace(
                type=kind,
                name=kind.value.title(),
                message="",
                is_final=lambda k=kind: k == StateType.COMPLETED,
                timestamp=datetime.now(UTC),
                result=lambda r=result: r,
            )
            found.append(SimpleNamespace(id=run_id, state=state))
        return found


def _workers(monkeypatch: pytest.MonkeyPatch, timeline: dict[str, tuple[int, int]]) -> _Workers:
    return _serve(monkeypatch, _Workers(timeline))


PLAN = WorkerPlan(
    deployment="sweep-product/sweep-product", concurrency=2, attempts=2, poll_seconds=1
)
CHUNKS = plan_chunks([*TARGETS, _target("c", "1")], max_versions=5)  # a-0, b-1, c-2


def _check(chunk: SweepChunk) -> ChunkResult:
    return ChunkResult(index=chunk.index, snapshots=tuple(_snap(t) for t in chunk.targets))


def test_the_sweep_checks_chunks_itself_while_no_worker_has_begun(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _workers(monkeypatch, {})  # the workers are still starting
    here: list[str] = []
    answers = run_on_workers(
        CHUNKS, PLAN, here=lambda c: here.append(c.name) or _check(c), sleep=lambda _: None
    )
    assert here == ["a-0", "b-1", "c-2"]  # one at a time, in plan order
    # each run is taken as a worker takes it (Pending, not forced), then Running, Completed
    taken = [(StateType.PENDING, False), (StateType.RUNNING, True), (StateType.COMPLETED, True)]
    assert all(fake.states[name] == taken for name in here)
    snapshots, errors = collect(CHUNKS, answers, _fallback)
    assert len(snapshots) == 5 and errors == {}


def test_taking_stops_once_a_worker_began_and_a_run_a_worker_took_is_left_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # b-1 is a worker's from the start and Running at the first read; c-2 is taken later
    fake = _workers(monkeypatch, {"b-1": (0, 3), "c-2": (5, 6)})
    here: list[str] = []
    answers = run_on_workers(
        CHUNKS, PLAN, here=lambda c: here.append(c.name) or _check(c), sleep=lambda _: None
    )
    assert here == ["a-0"]
    assert fake.states["b-1"] == fake.states["c-2"] == []  # nothing proposed was accepted
    assert sorted(answers) == [0, 1, 2]


def test_without_a_lane_here_every_chunk_is_left_to_the_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _workers(monkeypatch, {"a-0": (2, 3), "b-1": (2, 3), "c-2": (2, 4)})
    answers = run_on_workers(CHUNKS, PLAN, sleep=lambda _: None)
    assert all(states == [] for states in fake.states.values())
    assert sorted(answers) == [0, 1, 2]


def test_a_chunk_that_fails_here_fails_only_its_run(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _workers(monkeypatch, {"b-1": (0, 3), "c-2": (0, 3)})

    def fail(chunk: SweepChunk) -> ChunkResult:
        raise RuntimeError("boom\ntraceback")

    answers = run_on_workers(CHUNKS, PLAN, here=fail, sleep=lambda _: None)
    assert answers[0] == "run of a-0 failed: boom"
    assert fake.states["a-0"][-1] == (StateType.FAILED, True)
    assert isinstance(answers[1], ChunkResult) and isinstance(answers[2], ChunkResult)
