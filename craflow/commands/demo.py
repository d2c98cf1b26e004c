"""`craflow demo`: the whole pipeline against a local sandbox, in one command.

Starts the sandbox and a loopback S3 endpoint, points Prefect at its own home (the
ephemeral API, or with `--ui` a `prefect server` on 127.0.0.1:4200 left running),
releases a vulnerable and a fixed version of a sample product, sweeps, compares,
verifies the archive, prints where everything is, and stops what it started.
"""

import logging
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from config.deploy import DemoSettings, PrefectServerSettings
from craflow.exitcodes import ExitCode

# Without --verbose the terminal shows only warnings, but the runs' INFO logs still reach
# the Prefect server (its API handler sits on the flow and task run loggers), so every
# run page in the UI tells its story.
QUIET_TERMINAL = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING"}

_HELP = (
    "Run the whole pipeline against a local sandbox: blocked, fixed, released, archived.\n\n"
    "Starts a local CRA Evidence sandbox and a loopback S3 endpoint, releases a vulnerable "
    "(1.0.0, blocked) and a fixed (1.1.0, released and archived) version of a sample product, "
    "triaging a finding of 1.0.0 that 1.1.0 carries forward; then a KEV entry appears for "
    "1.1.0, the sweep sees it and an Art. 14 case opens with its drafts; it compares, "
    "verifies the archive, then stops what it started and prints where everything is. "
    "Never touches your own Prefect server, CRA Evidence organisation or AWS account. "
    "Exit 0 when the story held, 1 otherwise, 6 when the UI port is taken.\n\n"
    "Examples:\n\n"
    "  craflow demo\n\n"
    "  craflow demo --ui                  # Prefect UI on http://127.0.0.1:4200, left running\n\n"
    "  craflow demo --ui --ui-port 4310   # or CRAFLOW_PREFECT_SERVER_UI_PORT=4310\n\n"
    "  craflow demo --workdir ./demo --verbose"
)


def _ui_settings(ui_port: int | None) -> PrefectServerSettings:
    """The UI server's settings (`--ui-port` wins over the variable); one line when bad."""
    try:
        base = PrefectServerSettings()
        if ui_port is None:
            return base
        return PrefectServerSettings.model_validate({**base.model_dump(), "ui_port": ui_port})
    except ValidationError as exc:
        first = exc.errors()[0]
        typer.echo(f"error: {'.'.join(map(str, first['loc']))}: {first['msg']}", err=True)
        raise typer.Exit(int(ExitCode.AUTH_OR_USAGE)) from None


def _check_ui_port(settings: PrefectServerSettings) -> None:
    """Refuse, before anything starts, when the UI port is taken."""
    from craflow.demo.prefect_server import port_available

    if not port_available(settings.host, settings.ui_port):
        typer.echo(
            f"error: {settings.host}:{settings.ui_port} is in use (another Prefect server?); "
            "the demo never uses an existing server: stop it, or pick another port with "
            "--ui-port or CRAFLOW_PREFECT_SERVER_UI_PORT",
            err=True,
        )
        raise typer.Exit(int(ExitCode.CONFIGURATION))


def _start_ui_server(workdir: Path, settings: PrefectServerSettings) -> tuple[str, str]:
    """Start `prefect server` for the UI and leave it running; returns (api URL, report line)."""
    from craflow.demo.prefect_server import PrefectServerError, start_prefect_server

    typer.echo(f"starting a Prefect server on {settings.host}:{settings.ui_port} ...")
    try:
        server, _process = start_prefect_server(
            home=workdir / "prefect-server", settings=settings, port=settings.ui_port
        )
    except PrefectServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(int(ExitCode.ERROR)) from None
    line = (
        f"UI {server.ui_url} (still running, pid {server.pid}; "
        f"stop it with: kill -TERM -{server.pid})"
    )
    return server.api_url, line


def _register_production_shape(api_key: str) -> list[str]:
    """Secret block, work pool and both deployments on the UI server; report lines."""
    from pydantic import SecretStr

    from config.deploy import DeploySettings
    from config.release import ReleaseSettings
    from craflow.demo.production_shape import register_production_shape

    shape = register_production_shape(
        api_key=SecretStr(api_key),
        block_name=ReleaseSettings().secret_block_name,
        settings=DeploySettings(),
    )
    return shape.lines()


def demo(
    ui: Annotated[
        bool,
        typer.Option(
            "--ui",
            help=(
                "Start a Prefect server with its UI (default 127.0.0.1:4200) and leave it "
                "running, with the release and sweep deployments and the Secret block registered."
            ),
        ),
    ] = False,
    ui_port: Annotated[
        int | None,
        typer.Option(
            "--ui-port",
            help=(
                "Port of the UI's Prefect server; implies --ui "
                "(default: CRAFLOW_PREFECT_SERVER_UI_PORT or 4200)."
            ),
        ),
    ] = None,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Folder for the demo's files (default: a new temporary folder)."),
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Show the flows' log lines.")] = False,
) -> None:
    from craflow.demo.environment import (
        apply_environment,
        demo_environment,
        demo_surroundings,
        download_archive,
        process_environment,
    )

    started = time.monotonic()
    settings = DemoSettings()
    server_settings = _ui_settings(ui_port) if ui or ui_port is not None else None
    if server_settings is not None:
        _check_ui_port(server_settings)
    folder = (workdir or Path(tempfile.mkdtemp(prefix="craflow-demo-"))).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sandbox").mkdir(exist_ok=True)
    if not verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the S3 endpoint's access log
    typer.echo(f"craflow demo: starting the sandbox and a loopback S3 endpoint in {folder}")
    with demo_surroundings(settings, folder) as surroundings:
        api_url: str | None = None
        prefect_lines = [f"  Prefect       ephemeral API (gone), home {folder / 'prefect-home'}"]
        if server_settings is not None:
            api_url, ui_line = _start_ui_server(folder, server_settings)
            prefect_lines = [f"  Prefect       {ui_line}"]
        env = demo_environment(
            surroundings, settings, prefect_home=folder / "prefect-home", prefect_api_url=api_url
        )
        if not verbose:
            env.update(QUIET_TERMINAL)
        apply_environment(process_environment(), env)

        from craflow.demo.pipeline import check_prefect_isolation, demo_succeeded, run_pipeline

        check_prefect_isolation(folder / "prefect-home", api_url)
        if api_url is not None:
            prefect_lines += _register_production_shape(surroundings.sandbox.api_key)
        typer.echo(
            "releasing 1.0.0 (vulnerable), triaging it, releasing 1.1.0 (fixed), then a KEV "
            "entry, sweep, Art. 14 case and compare ..."
        )
        results = run_pipeline(settings, folder)
        archive_copy = folder / "archive"
        copied = download_archive(surroundings, archive_copy)
        succeeded = demo_succeeded(settings, results)
        from craflow.demo.report import Places, report_lines

        places = Places(
            workdir=folder,
            sandbox_url=surroundings.sandbox.url,
            s3_url=surroundings.s3.endpoint_url,
            archive_uri=surroundings.archive_root,
            archive_copy=archive_copy,
            archive=copied,
            prefect=prefect_lines,
        )
        lines = report_lines(
            settings=settings,
            places=places,
            sboms=results.sboms,
            releases=results.releases,
            sweep=results.sweep,
            comparison=results.comparison,
            verification=results.verification,
            succeeded=succeeded,
            triaged=results.triaged,
            kev_entry=results.kev_entry,
            case=results.case,
        )
    typer.echo("")
    for line in lines:
        typer.echo(line)
    typer.echo(f"  took          {time.monotonic() - started:.0f} s")
    if not succeeded:
        raise typer.Exit(int(ExitCode.ERROR))


def register(app: typer.Typer) -> None:
    """Add `demo` to *app*."""
    app.command("demo", help=_HELP)(demo)
