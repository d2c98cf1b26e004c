"""`craflow demo`: the whole pipeline against a local sandbox, in one command.

Starts the sandbox and a loopback S3 endpoint, points Prefect at its own home (the
ephemeral API, or with `--ui` a `prefect server` on 127.0.0.1:4200 left running),
releases a vulnerable and a fixed version of a sample product, sweeps, compares,
verifies the archive, prints where everything is, and stops what it started.
"""

import logging
import socket
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from config.deploy import DemoSettings, PrefectServerSettings
from craflow.exitcodes import ExitCode


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _start_ui_server(workdir: Path, settings: PrefectServerSettings) -> tuple[str, str]:
    """Start `prefect server` for the UI and leave it running; returns (api URL, report line)."""
    from craflow.demo.prefect_server import PrefectServerError, start_prefect_server

    if _port_in_use(settings.host, settings.ui_port):
        typer.echo(
            f"error: {settings.host}:{settings.ui_port} is in use (another Prefect server?); "
            "the demo never uses an existing server: stop it or set CRAFLOW_PREFECT_SERVER_UI_PORT",
            err=True,
        )
        raise typer.Exit(int(ExitCode.CONFIGURATION))
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


def demo(
    ui: Annotated[
        bool,
        typer.Option(
            "--ui",
            help="Start a Prefect server with its UI on 127.0.0.1:4200 and leave it running.",
        ),
    ] = False,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Folder for the demo's files (default: a new temporary folder)."),
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Show the flows' log lines.")] = False,
) -> None:
    """Run the whole pipeline against a local sandbox: blocked, fixed, released, archived."""
    from craflow.demo.environment import (
        apply_environment,
        demo_environment,
        demo_surroundings,
        download_bucket,
        process_environment,
    )

    started = time.monotonic()
    settings = DemoSettings()
    folder = (workdir or Path(tempfile.mkdtemp(prefix="craflow-demo-"))).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sandbox").mkdir(exist_ok=True)
    if not verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the S3 endpoint's access log
    typer.echo(f"craflow demo: starting the sandbox and a loopback S3 endpoint in {folder}")
    with demo_surroundings(settings, folder) as surroundings:
        api_url: str | None = None
        prefect_line = f"ephemeral API (gone), home {folder / 'prefect-home'}"
        if ui:
            api_url, prefect_line = _start_ui_server(folder, PrefectServerSettings())
        env = demo_environment(
            surroundings, settings, prefect_home=folder / "prefect-home", prefect_api_url=api_url
        )
        if not verbose:
            env["PREFECT_LOGGING_LEVEL"] = "WARNING"
        apply_environment(process_environment(), env)

        from craflow.demo.pipeline import check_prefect_isolation, demo_succeeded, run_pipeline

        check_prefect_isolation(folder / "prefect-home", api_url)
        typer.echo("releasing 1.0.0 (vulnerable) and 1.1.0 (fixed), then sweep and compare ...")
        results = run_pipeline(settings, folder)
        archive_copy = folder / "evidence"
        copied = download_bucket(surroundings.s3, surroundings.bucket, archive_copy)
        succeeded = demo_succeeded(settings, results)
        from craflow.demo.report import Places, report_lines

        places = Places(
            workdir=folder,
            sandbox_url=surroundings.sandbox.url,
            s3_url=surroundings.s3.endpoint_url,
            archive_copy=archive_copy,
            archive_objects=copied,
            prefect=prefect_line,
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
        )
    typer.echo("")
    for line in lines:
        typer.echo(line)
    typer.echo(f"  took          {time.monotonic() - started:.0f} s")
    if not succeeded:
        raise typer.Exit(int(ExitCode.ERROR))


def register(app: typer.Typer) -> None:
    """Add `demo` to *app*."""
    app.command("demo")(demo)
