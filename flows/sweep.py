"""The scheduled compliance sweep: re-check a whole portfolio and say what changed.

Products → versions in the chosen release states → for each version, one coarse
task (rescan, poll to a terminal state, read CRA status and open findings), a
bounded number in flight → deltas against the previous sweep's snapshot → a new
snapshot in the evidence archive, events, artifacts, and optional refreshed
exports. Each product is its own unit of failure: the run finishes the others and
then ends Failed with "N of M products failed: …".

Fan-out (`CRAFLOW_SWEEP_FAN_OUT`, craflow/sweep/fanout.py): the versions are planned
as per-product chunks; each chunk is checked inline, by a `sweep-product` subflow, or
by a run of the `sweep-product` deployment on any worker (a crashed run is re-run);
the results are collected into one snapshot per version, each reported once. A KEV
hit on a released version opens an Art. 14 case (flows/incident.py, idempotent).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from prefect import State, Task, flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from config.deploy import DeploySettings
from config.evidence import EvidenceSettings
from config.release import ReleaseSettings
from config.sweep import SweepSettings
from craflow.api import scan_history
from craflow.budget import under_worker
from craflow.evidence.uri import Location
from craflow.release.request import SweepRequest
from craflow.sweep import (
    ProductFailure,
    SweepFailedError,
    SweepOutcome,
    SweepSnapshot,
    VersionDelta,
    VersionSnapshot,
    VersionTarget,
    carry_forward,
    compute_delta,
    portfolio_rows,
    summary_markdown,
)
from craflow.sweep.fanout import ChunkResult, SweepChunk, collect, plan_chunks
from craflow.sweep.portfolio import change_lines, sweep_run_name
from flows.incident import open_cases_for_kev_hits
from tasks import events
from tasks.client import resolve_api_settings, run_client, shares_budget
from tasks.export import (
    ArchiveKey,
    ArchiveRequest,
    archive_release,
    check_writable,
    fetch_platform_files,
    resolve_target,
)
from tasks.fanout import ChunkAnswer, WorkerPlan, deployment_exists, run_as_subflows, run_on_workers
from tasks.retry import with_retries
from tasks.runmeta import tag_this_run
from tasks.sweep import (
    KevCaseInputs,
    check_version_task,
    describe_failure,
    emit_sweep_events,
    kev_case_inputs_task,
    load_previous_snapshot_task,
    select_targets_task,
    write_snapshot_task,
)


def _run_id() -> str:
    run = flow_run.get_id()
    return str(run) if run else uuid.uuid4().hex


def _check_all(
    targets: tuple[VersionTarget, ...],
    settings: SweepSettings,
    concurrency: int,
    retries: ReleaseSettings,
) -> tuple[list[VersionSnapshot], dict[str, str]]:
    """Check each version, *concurrency* at once: the snapshots, and one line per failure."""
    snapshots: list[VersionSnapshot] = []
    errors: dict[str, str] = {}
    if not targets:
        return snapshots, errors
    progress = create_progress_artifact(
        0.0, key="sweep-progress", description="Versions re-checked so far (%)."
    )
    # Prefect's overloads of `submit` do not resolve for a sync task under mypy; the
    # runner is used as Prefect's own flow engine uses it.
    check: Task[..., Any] = with_retries(check_version_task, retries)
    with ThreadPoolTaskRunner[Any](max_workers=concurrency) as runner:
        futures: dict[PrefectFuture[Any], VersionTarget] = {
            runner.submit(check, {"target": t, "settings": settings}): t for t in targets
        }
        for done, future in enumerate(as_completed(list(futures)), start=1):
            target = futures[future]
            try:
                snapshots.append(future.result())
            except Exception as exc:  # one version never stops the sweep
                errors[target.key] = describe_failure(exc)
            if isinstance(progress, UUID):
                update_progress_artifact(progress, 100.0 * done / len(futures))
    scan_history.flush_all()  # the waits wrote behind: what the last ones learned is kept now
    return snapshots, errors


@flow(name="sweep-product", persist_result=True, log_prints=False)
def sweep_product_flow(chunk: SweepChunk, concurrency: int = 8) -> ChunkResult:
    """Check the versions of one chunk of a fanned-out sweep (one product) with its own client."""
    settings, release = SweepSettings(), ReleaseSettings()
    width = max(1, min(concurrency, settings.max_concurrency))
    with run_client(resolve_api_settings(release.secret_block_name)):
        return _check_chunk(chunk, settings, width, release)


def _check_chunk(
    chunk: SweepChunk, settings: SweepSettings, concurrency: int, release: ReleaseSettings
) -> ChunkResult:
    snapshots, errors = _check_all(chunk.targets, settings, concurrency, release)
    return ChunkResult(index=chunk.index, snapshots=tuple(snapshots), errors=tuple(errors.items()))


def fan_out_mode(configured: str, *, worker: bool, has_deployment: Callable[[], bool]) -> str:
    """The fan-out a sweep uses: `auto` becomes deployment/subflow under a worker, else inline."""
    if configured != "auto":
        return configured
    if not worker:
        return "inline"
    return "deployment" if has_deployment() else "subflow"


def _run_chunks(
    chunks: tuple[SweepChunk, ...],
    mode: str,
    settings: SweepSettings,
    concurrency: int,
    release: ReleaseSettings,
) -> dict[int, ChunkAnswer]:
    """Every chunk's result (or why it has none), checked the *mode* way."""
    if mode == "subflow":
        return run_as_subflows(
            chunks, lambda c: sweep_product_flow(c, concurrency), settings.fan_out_parallel
        )
    if mode == "deployment":
        plan = WorkerPlan(
            deployment=f"sweep-product/{DeploySettings().sweep_product_name}",
            concurrency=concurrency,
            attempts=settings.fan_out_attempts,
            poll_seconds=settings.fan_out_poll_seconds,
            pending_seconds=settings.fan_out_pending_seconds,
            tags=("craflow", "sweep"),
        )

        def here(chunk: SweepChunk) -> ChunkResult:
            get_run_logger().info("Checking %s in this run while the workers start", chunk.name)
            return _check_chunk(chunk, settings, concurrency, release)

        # this run checks chunks itself while the workers start, if it paces as they do
        fill = settings.fan_out_fill_start and shares_budget()
        return run_on_workers(chunks, plan, here=here if fill else None)
    targets = tuple(t for c in chunks for t in c.targets)
    snapshots, errors = _check_all(targets, settings, concurrency, release)
    whole = ChunkResult(index=-1, snapshots=tuple(snapshots), errors=tuple(errors.items()))
    return {c.index: whole for c in chunks}


def _product_failures(
    products: tuple[str, ...], unmatched: tuple[str, ...], errors: dict[str, str]
) -> list[ProductFailure]:
    failures = [ProductFailure(product=u, reason="no such product") for u in unmatched]
    for product in products:
        reasons = [r for key, r in sorted(errors.items()) if key.split("/", 1)[0] == product]
        if reasons:
            failures.append(ProductFailure(product=product, reason="; ".join(reasons)))
    return failures


def _run_name() -> str:
    """`sweep-<date>-<scope>`, from the run's parameters and the settings read now."""
    params = flow_run.parameters
    states = params.get("states") or SweepSettings().states
    return sweep_run_name(datetime.now(UTC).date(), params.get("products"), list(states))


#: tags of every sweep run (a deployment adds its own)
SWEEP_TAGS = ("craflow", "sweep")


@flow(name="sweep", flow_run_name=_run_name, log_prints=False)
def sweep_flow(
    products: list[str] | None = None,
    states: list[str] | None = None,
    concurrency: int = 8,
    export: str | None = None,
    export_changed: bool = False,
    *,
    fan_out: Literal["auto", "inline", "subflow", "deployment"] | None = None,
) -> SweepOutcome | State[SweepOutcome]:
    """Re-check every selected version and report what changed since the last sweep.

    The parameters are validated once, here, into a `SweepRequest` passed whole below;
    `fan_out` (default `CRAFLOW_SWEEP_FAN_OUT`) says where the versions are checked.
    """
    request = SweepRequest.build(
        products=products,
        states=states,
        concurrency=concurrency,
        export=export,
        export_changed=export_changed,
    )
    settings = SweepSettings()
    if fan_out is not None:
        settings = settings.model_copy(update={"fan_out": fan_out})
    return _sweep(request, settings, ReleaseSettings())


def _sweep(
    request: SweepRequest, settings: SweepSettings, release: ReleaseSettings
) -> SweepOutcome | State[SweepOutcome]:
    logger = get_run_logger()
    run_id = _run_id()
    tag_this_run(SWEEP_TAGS)
    archive = check_writable(resolve_target(request.export, EvidenceSettings()))
    concurrency = max(1, min(request.concurrency, settings.max_concurrency))
    with run_client(resolve_api_settings(release.secret_block_name)):
        selection = with_retries(select_targets_task, release)(
            list(request.products) if request.products else None,
            list(request.states or settings.states),
        )
        prior = load_previous_snapshot_task(archive)
        previous = prior.index() if prior is not None else {}
        logger.info(
            "Sweeping %d versions of %d products (%d in flight)",
            len(selection.targets),
            len(selection.products),
            concurrency,
        )
        chunks = plan_chunks(selection.targets, settings.chunk_versions)
        mode = fan_out_mode(
            settings.fan_out,
            worker=under_worker(),
            has_deployment=lambda: deployment_exists(
                f"sweep-product/{DeploySettings().sweep_product_name}"
            ),
        )
        logger.info("Checking %d chunks (%s)", len(chunks), mode)
        answers = _run_chunks(chunks, mode, settings, concurrency, release)
        snapshots, errors = collect(chunks, answers, _carry(previous))
        deltas: list[VersionDelta] = [compute_delta(previous.get(s.key), s) for s in snapshots]
        kev_inputs = _kev_inputs(snapshots, release)
        exports = (
            _export_changed(selection.targets, deltas, archive, run_id, release)
            if request.export_changed
            else []
        )
    taken_at = datetime.now(UTC)
    # The archive orders snapshots by key (`{date}-{run id}`): a time prefix keeps two
    # sweeps of one day in order, whatever the flow-run id looks like.
    snapshot = SweepSnapshot(
        run_id=f"{taken_at:%H%M%S%f}-{run_id}", taken_at=taken_at, versions=tuple(snapshots)
    )
    snapshot_uri = write_snapshot_task(archive, snapshot)
    changed_events, kev_events = emit_sweep_events(deltas, run_id=run_id)
    _open_kev_cases(kev_inputs, archive)
    failures = [
        *selection.failed,
        *_product_failures(selection.products, selection.unmatched, errors),
    ]
    by_key = {d.product + "/" + d.version: d for d in deltas}
    rows = portfolio_rows(snapshots, by_key)
    outcome = SweepOutcome(
        run_id=run_id,
        products_total=len(selection.products) + len(selection.unmatched) + len(selection.failed),
        products_failed=failures,
        versions_total=len(snapshots),
        versions_changed=changed_events,
        kev_detected=kev_events,
        rows=rows,
        changes=[line for d in deltas if d.changed for line in change_lines(d)],
        snapshot_uri=snapshot_uri,
        exports=exports,
    )
    _publish(outcome, deltas, settings)
    logger.info("Portfolio verdict: %s", outcome.message)
    events.emit_sweep_completed(
        _name(),
        {
            "run_id": run_id,
            "ok": outcome.ok,
            "message": outcome.message,
            "products": outcome.products_total,
            "products_failed": [f.product for f in failures],
            "versions": outcome.versions_total,
            "versions_changed": outcome.versions_changed,
            "kev_detected": outcome.kev_detected,
            "snapshot_uri": outcome.snapshot_uri,
        },
    )
    if failures:
        return Failed(message=outcome.message, data=SweepFailedError(outcome))
    return Completed(message=outcome.message, data=outcome)


def _name() -> str:
    return str(flow_run.name or "sweep")


def _carry(
    previous: dict[str, VersionSnapshot],
) -> Callable[[VersionTarget, str], VersionSnapshot]:
    """The snapshot of a version whose check failed: the last one seen, with the error."""

    def fallback(target: VersionTarget, reason: str) -> VersionSnapshot:
        return carry_forward(
            previous.get(target.key),
            product=target.product,
            version=target.version,
            version_id=target.version_id,
            release_state=target.release_state,
            error=reason,
        )

    return fallback


def _kev_inputs(snapshots: list[VersionSnapshot], release: ReleaseSettings) -> KevCaseInputs:
    """What the case book needs about KEV-listed open findings on released versions."""
    if not any(
        h.kev for s in snapshots if s.release_state == "released" for h in s.vulnerabilities
    ):
        return KevCaseInputs()
    return with_retries(kev_case_inputs_task, release)(
        sorted({s.product for s in snapshots if s.release_state == "released"})
    )


def _open_kev_cases(inputs: KevCaseInputs, archive: Location) -> None:
    """Open (once) an Art. 14 case for each KEV-listed open finding on a released version."""
    cases = open_cases_for_kev_hits(inputs.hits, inputs.released, archive=archive.uri)
    if cases:
        get_run_logger().info("KEV hits on released versions: %d case(s) open", len(cases))


def _publish(outcome: SweepOutcome, deltas: list[VersionDelta], settings: SweepSettings) -> None:
    """The portfolio table and the markdown summary of the sweep."""
    create_table_artifact(
        outcome.rows, key="sweep-portfolio", description=f"Portfolio after {_name()}"
    )
    create_markdown_artifact(
        summary_markdown(
            run_id=outcome.run_id,
            rows=outcome.rows,
            deltas=deltas,
            failures=outcome.products_failed,
            products_total=outcome.products_total,
            max_change_lines=settings.summary_max_rows,
            title=_name(),
        ),
        key="sweep-summary",
        description=outcome.message,
    )


def _export_changed(
    targets: tuple[VersionTarget, ...],
    deltas: list[VersionDelta],
    archive: Location,
    run_id: str,
    release: ReleaseSettings,
) -> list[str]:
    """Refresh the technical-file export of every version that changed and did not fail."""
    wanted = {(d.product, d.version) for d in deltas if d.changed and d.scan_failure is None}
    uris: list[str] = []
    for target in targets:
        if (target.product, target.version) not in wanted:
            continue
        with tempfile.TemporaryDirectory(prefix="craflow-sweep-export-") as folder:
            download, files = fetch_platform_files(target.version_id, None, Path(folder), release)
            key = ArchiveKey(
                target=archive,
                product=target.product,
                version=target.version,
                content_sha256=download.sha256,
                verdict="refresh",
            )
            request = ArchiveRequest(
                key=key, run_id=run_id, files=tuple(files), mode="refresh", reason="sweep-refresh"
            )
            uris.append(archive_release(request).run_uri)
    return uris
