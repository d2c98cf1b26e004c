"""`craflow sweep`: re-check a whole portfolio and say what changed since the last sweep."""

# Prefect and the flows are imported inside the commands so `craflow --help` stays fast.

from typing import TYPE_CHECKING, Annotated, Any

import typer

from craflow.commands.helptext import help_with_examples

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State

    from craflow.sweep import SweepOutcome


def split_values(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated options as one list (None when nothing was given)."""
    if not values:
        return None
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return items or None


def flow_failure(state: "State[Any]") -> BaseException:
    """The exception a failed flow state holds (a generic one when it holds none)."""
    data = state.result(raise_on_failure=False)
    if isinstance(data, BaseException):
        return data
    return RuntimeError(state.message or f"flow run ended {state.type.value.lower()}")


def fail(exc: BaseException) -> typer.Exit:
    """Print *exc* as one line on stderr and return the matching exit."""
    from craflow.boundary import exit_code_for, one_line

    typer.echo(f"error: {one_line(exc)}", err=True)
    return typer.Exit(int(exit_code_for(exc)))


def _print_outcome(outcome: "SweepOutcome") -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for line in outcome.changes:
        console.print(f"• {line}", markup=False, highlight=False)
    if outcome.rows:
        table = Table(title=f"Portfolio after sweep {outcome.run_id}")
        for column in outcome.rows[0]:
            table.add_column(column, justify="right" if column in {"critical", "high"} else "left")
        for row in outcome.rows:
            table.add_row(*(str(v) for v in row.values()))
        console.print(table)
    console.print(outcome.message, markup=False, highlight=False)
    if outcome.snapshot_uri:
        console.print(f"snapshot: {outcome.snapshot_uri}", markup=False, highlight=False)


def sweep(  # noqa: PLR0917 - typer maps options to parameters
    product: Annotated[
        list[str] | None,
        typer.Option(
            "--product",
            "-p",
            help="Product slug or glob pattern (`web-*`); repeat or comma-separate. Default: all.",
        ),
    ] = None,
    states: Annotated[
        list[str] | None,
        typer.Option("--states", help="Release states to re-check (default: released, approved)."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Versions in flight at once.")
    ] = 8,
    export: Annotated[
        str | None,
        typer.Option(
            "--export",
            help="Evidence archive root (s3://bucket/prefix or file:///dir) for snapshots "
            "and exports. Default: CRAFLOW_EVIDENCE_DESTINATION.",
        ),
    ] = None,
    export_changed: Annotated[
        bool,
        typer.Option(
            "--export-changed", help="Refresh the technical-file export of changed versions."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Rescan every selected version, compare with the last sweep, report the changes.

    Exit 0 when every product succeeded, 3 when any failed (the others still run).
    """
    from craflow.sweep import SweepFailedError, SweepOutcome
    from flows.sweep import sweep_flow

    state = sweep_flow(
        products=split_values(product),
        states=split_values(states),
        concurrency=concurrency,
        export=export,
        export_changed=export_changed,
        return_state=True,
    )
    if state.is_completed():
        outcome = state.result()
        if not isinstance(outcome, SweepOutcome):
            raise fail(RuntimeError("the sweep returned no outcome"))
    else:
        exc = flow_failure(state)
        if not isinstance(exc, SweepFailedError):
            raise fail(exc)
        outcome = exc.outcome
    if as_json:
        typer.echo(outcome.model_dump_json(indent=2))
    else:
        _print_outcome(outcome)
    raise typer.Exit(int(outcome.exit_code))


_HELP = help_with_examples(
    "Rescan every selected version, compare with the last sweep, report the changes. "
    "The Prefect run is named by date and scope (sweep-2026-12-01-released), tagged "
    "craflow and sweep, and ends with a one-line portfolio verdict as its state message.",
    [
        "craflow sweep",
        "craflow sweep --product 'web-*' --states released --export s3://evidence/cra",
        "craflow sweep -p shop,api --export-changed --json",
    ],
    [
        "The last snapshot lives in the evidence archive (--export, default "
        "CRAFLOW_EVIDENCE_DESTINATION) at <archive>/sweeps/<timestamp>-<run>/snapshot.json; "
        "the next sweep compares against the newest one there.",
        "Events: craflow.version.changed for each version whose findings or CRA status "
        "changed, craflow.kev.detected for each new KEV-listed finding, and "
        "craflow.sweep.completed once per run (payloads in docs/deployments.md).",
        "Exit codes: 0 when every product was checked, 3 when any product failed (the "
        "others still run). A new KEV hit does not change the exit code: it is reported, "
        "emitted as craflow.kev.detected and counted in the verdict line.",
    ],
)


def register(app: typer.Typer) -> None:
    """Add `craflow sweep` to *app*."""
    app.command("sweep", help=_HELP)(sweep)
