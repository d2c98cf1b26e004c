"""`craflow stack up|down|status|restart`: the production-shaped Prefect stack on this machine."""

from typing import TYPE_CHECKING, Annotated

import typer

from craflow.exitcodes import ExitCode

if TYPE_CHECKING:
    from config.stack import StackSettings


def register(app: typer.Typer) -> None:
    """Add the `stack` command group to the CLI."""
    stack = typer.Typer(
        help=(
            "Prefect on PostgreSQL and Redis (several API servers behind a loopback "
            "balancer) with a services process, a process work pool and workers "
            "(settings: CRAFLOW_STACK_*; see docs/production.md).\n\n"
            "Examples:\n\n  craflow stack up --workers 2\n\n  craflow stack status\n\n"
            "  craflow stack restart server-0\n\n  craflow stack down"
        ),
        no_args_is_help=True,
    )
    stack.command("up")(_up)
    stack.command("down")(_down)
    stack.command("status")(_status)
    stack.command("restart")(_restart)
    app.add_typer(stack, name="stack")


def _settings() -> "StackSettings":
    from pydantic import ValidationError

    from config.stack import StackSettings

    try:
        return StackSettings()
    except ValidationError as error:
        first = error.errors()[0]
        name = f"CRAFLOW_STACK_{str(first['loc'][0]).upper()}"
        typer.echo(f"error: bad setting {name}: {first['msg']}", err=True)
        raise typer.Exit(ExitCode.CONFIGURATION) from None


def _up(
    workers: Annotated[
        int | None, typer.Option(help="Workers to start (overrides CRAFLOW_STACK_WORKERS).")
    ] = None,
) -> None:
    """Start the stack and print its API URL."""
    import time

    from craflow.stack import StackError, up

    settings = _settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    began = time.monotonic()
    try:
        state = up(settings)
    except StackError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(ExitCode.CONFIGURATION) from None
    typer.echo(
        f"stack up in {time.monotonic() - began:.1f} s: API {', '.join(state.api_urls)}, "
        f"database {state.database}, pool {state.work_pool}, "
        f"{sum(p.role == 'worker' for p in state.processes)} workers"
    )
    typer.echo(f"export PREFECT_API_URL={state.api_urls[0]}")


def _down() -> None:
    """Stop exactly the processes `craflow stack up` started."""
    from craflow.stack import down

    settings = _settings()
    stopped = down(settings)
    typer.echo(f"stopped {len(stopped)} processes" if stopped else "no stack running")
    raise typer.Exit(ExitCode.OK)


def _status() -> None:
    """Show the stack's processes and whether each runs; exit 1 when any has stopped."""
    from craflow.stack import status

    settings = _settings()
    current, running = status(settings)
    if current is None:
        typer.echo("no stack started from this run directory")
        raise typer.Exit(1)
    typer.echo(f"API {', '.join(current.api_urls)}  database {current.database}")
    for record in current.processes:
        serves = f"  {record.url}" if record.url else ""
        typer.echo(
            f"  {record.name:<12} {'running' if running[record.name] else 'STOPPED'}{serves}"
        )
    raise typer.Exit(ExitCode.OK if all(running.values()) else 1)


def _restart(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Processes to restart (as `status` names them); default: every stopped one."
        ),
    ] = None,
) -> None:
    """Start stopped processes again as `up` started them (command line, port, log).

    E.g. an API server killed by `kill -9`. CRAFLOW_STACK_* must be as at `up`.
    """
    import time

    from craflow.stack import StackError, restart

    settings = _settings()
    began = time.monotonic()
    try:
        started = restart(settings, names or [])
    except StackError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(ExitCode.CONFIGURATION) from None
    if not started:
        typer.echo("every process of the stack is running: nothing to restart")
        return
    typer.echo(
        f"restarted {', '.join(r.name for r in started)} in {time.monotonic() - began:.1f} s "
        f"(logs appended: {', '.join(r.log for r in started)})"
    )
