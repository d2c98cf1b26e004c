"""Run a sweep's chunks: as subflows of this run, or as runs of the `sweep-product` deployment.

`run_as_subflows` calls the chunk flow in this process, a few at once.
`run_on_workers` creates one run of the deployment per chunk (any worker of the pool
picks it up), waits for every run to end, and re-creates the run of a chunk whose run
Crashed (its worker died; deployments/automations.py marks such runs), at most
`attempts` runs per chunk. Either way the answer is, per chunk index, its
`ChunkResult` or one line saying why it has none; `craflow.sweep.fanout.collect`
makes that one snapshot per version.
"""

import contextvars
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.states import Completed, Crashed, Failed, Pending, Running

from craflow.sweep.fanout import ChunkResult, SweepChunk

ChunkAnswer = ChunkResult | str
ChunkRunner = Callable[[SweepChunk], ChunkResult]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_as_subflows(
    chunks: Sequence[SweepChunk], run: ChunkRunner, parallel: int
) -> dict[int, ChunkAnswer]:
    """Run each chunk with *run* (a subflow call), at most *parallel* at once; never raise."""

    def one(chunk: SweepChunk) -> tuple[int, ChunkAnswer]:
        try:
            return chunk.index, ChunkResult.model_validate(run(chunk))
        except Exception as exc:  # one product never stops the sweep
            return chunk.index, f"run of {chunk.name} failed: {_one_line(exc)}"

    if not chunks:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(chunks)))) as pool:
        return dict(pool.map(one, chunks))


@dataclass(frozen=True)
class WorkerPlan:
    """Where and how the chunks run on workers."""

    deployment: str  # "flow-name/deployment-name"
    concurrency: int  # versions in flight inside one chunk's run
    attempts: int  # runs per chunk at most (a crashed run is re-created)
    poll_seconds: float
    pending_seconds: float = 900.0  # a run Pending longer than this is crashed and re-run
    tags: tuple[str, ...] = ()


def deployment_exists(name: str) -> bool:
    """True when the Prefect server knows deployment *name* ("flow/deployment")."""
    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        return False
    return True


def _start(chunk: SweepChunk, plan: WorkerPlan, attempt: int) -> UUID:
    run: FlowRun = run_deployment(  # type: ignore[assignment]  # sync call: a FlowRun
        plan.deployment,
        parameters={"chunk": chunk.model_dump(mode="json"), "concurrency": plan.concurrency},
        flow_run_name=f"sweep-{chunk.name}" + (f"-retry{attempt - 1}" if attempt > 1 else ""),
        timeout=0,  # create it and go on: the workers run the chunks side by side
        tags=list(plan.tags),
    )
    return run.id


def _answer(run: FlowRun, chunk: SweepChunk) -> ChunkAnswer:
    state = run.state
    if state is None or state.type != StateType.COMPLETED:
        message = (state.message or "").strip() if state is not None else ""
        name = state.name if state is not None else "unknown"
        return f"run of {chunk.name} ended {name}" + (f": {message}" if message else "")
    try:
        return ChunkResult.model_validate(state.result())
    except Exception as exc:  # a result that cannot be read is that chunk's failure
        return f"result of {chunk.name} unreadable: {_one_line(exc)}"


def _stalled(run: FlowRun, limit: float, at: datetime) -> str | None:
    """Why a run counts as crashed though no one said so: Pending (picked up by a worker
    that died before the run began, so no heartbeat ever came) for longer than *limit*."""
    state = run.state
    if state is None or state.type != StateType.PENDING or state.timestamp is None:
        return None
    waited = (at - state.timestamp).total_seconds()
    return f"Pending for {waited:.0f} s: its worker is gone" if waited > limit else None


_HERE = "checked by the sweep run itself while the workers start"
_WAITING = {StateType.SCHEDULED, StateType.PENDING}


class ChunkRuns:
    """The deployment runs of a sweep's chunks: started, re-started when crashed, answered."""

    def __init__(
        self, client: SyncPrefectClient, plan: WorkerPlan, now: Callable[[], datetime]
    ) -> None:
        self.client, self.plan, self.now = client, plan, now
        self.answers: dict[int, ChunkAnswer] = {}
        self.attempts: dict[int, int] = {}
        self.running: dict[UUID, SweepChunk] = {}
        self.begun = False  # a worker has begun one of them

    def start(self, chunk: SweepChunk) -> None:
        self.attempts[chunk.index] = self.attempts.get(chunk.index, 0) + 1
        self.running[_start(chunk, self.plan, self.attempts[chunk.index])] = chunk

    def take(self) -> tuple[UUID, SweepChunk] | None:
        """Take the first run no worker has taken: propose Pending, as a worker does.

        Prefect refuses a second Pending (PreventPendingTransitions), so a run is taken
        by this process or by one worker, never by both."""
        for run_id in list(self.running):
            proposal: State[None] = Pending(message=_HERE)
            if self.client.set_flow_run_state(run_id, proposal).status == SetStateStatus.ACCEPT:
                self.client.set_flow_run_state(run_id, Running(message=_HERE), force=True)
                return run_id, self.running.pop(run_id)
        return None

    def poll(self) -> None:
        """Read the runs' states: answer the final ones, re-start the crashed ones."""
        runs = self.client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(self.running)))
        )
        self.begun = self.begun or any(
            r.state is not None and r.state.type not in _WAITING for r in runs
        )
        for run in runs:
            stalled = _stalled(run, self.plan.pending_seconds, self.now())
            if stalled is not None:
                self.client.set_flow_run_state(run.id, Crashed(message=stalled), force=True)
            elif run.state is None or not run.state.is_final():
                continue
            chunk = self.running.pop(run.id)
            crashed = stalled is not None or (
                run.state is not None and run.state.type == StateType.CRASHED
            )
            if crashed and self.attempts[chunk.index] < self.plan.attempts:
                self.start(chunk)
                continue
            self.answers[chunk.index] = (
                f"run of {chunk.name}: {stalled}" if stalled else _answer(run, chunk)
            )

    def finish_here(self, run_id: UUID, chunk: SweepChunk, future: Future[ChunkResult]) -> None:
        """Answer a chunk checked here; its run ends Completed or Failed to match."""
        try:
            self.answers[chunk.index] = ChunkResult.model_validate(future.result())
        except Exception as exc:  # one chunk never stops the sweep
            reason = f"run of {chunk.name} failed: {_one_line(exc)}"
            self.client.set_flow_run_state(run_id, Failed(message=reason), force=True)
            self.answers[chunk.index] = reason
            return
        self.client.set_flow_run_state(run_id, Completed(message=_HERE), force=True)


def run_on_workers(
    chunks: Sequence[SweepChunk],
    plan: WorkerPlan,
    *,
    here: ChunkRunner | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[int, ChunkAnswer]:
    """One deployment run per chunk; wait for all; re-run crashed ones; never raise for one.

    With *here*, this process checks chunks itself, one at a time, taking their runs
    before a worker does, until the first worker's run has begun: the API budget is
    not left idle while the workers' processes start."""
    mine: tuple[UUID, SweepChunk, Future[ChunkResult]] | None = None  # the chunk checked here
    with get_client(sync_client=True) as client, ThreadPoolExecutor(max_workers=1) as pool:
        runs = ChunkRuns(client, plan, now)
        for chunk in chunks:
            runs.start(chunk)
        while runs.running or mine is not None:
            if here is not None and not runs.begun and mine is None:
                taken = runs.take()
                if taken is not None:
                    mine = (*taken, pool.submit(contextvars.copy_context().run, here, taken[1]))
            if mine is not None:  # until the next read, or sooner when the chunk here is done
                wait([mine[2]], timeout=plan.poll_seconds)
                if mine[2].done():
                    runs.finish_here(*mine)
                    mine = None
            elif runs.running:
                sleep(plan.poll_seconds)
            if runs.running:
                runs.poll()
    return runs.answers
