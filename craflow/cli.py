"""The `craflow` command: the composition root. Nothing imports this module."""

import os
import sys
from typing import Annotated

import typer

from craflow import __version__, interrupts
from craflow.commands import (
    compare,
    demo,
    deploy,
    export,
    incident,
    release,
    sandbox,
    sbom,
    stack,
    sweep,
    triage,
    vex,
)

app = typer.Typer(
    name="craflow",
    help=(
        "EU Cyber Resilience Act evidence pipelines on Prefect.\n\n"
        "Build or take an SBOM, upload it once, scan it, wait for the verdict, compare "
        "with the last release, gate, promote, and archive the technical file in S3 — "
        "with every run visible in the Prefect UI.\n\n"
        "Start with `craflow demo` to see the whole pipeline against a local sandbox."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"craflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print craflow's version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
    require_tls: Annotated[
        bool,
        typer.Option(
            "--require-tls",
            help="Refuse plain http:// to a non-loopback API (also CRAFLOW_API_REQUIRE_TLS=1).",
        ),
    ] = False,
) -> None:
    """EU Cyber Resilience Act evidence pipelines on Prefect."""
    if require_tls:
        os.environ["CRAFLOW_API_REQUIRE_TLS"] = "1"
    refused = interrupts.refused_api_url(os.environ)  # before any flow starts: nothing sent
    if refused:
        typer.echo(f"craflow: {refused}", err=True)
        raise typer.Exit(4)


for _module in (
    sbom,
    release,
    sweep,
    compare,
    export,
    sandbox,
    deploy,
    demo,
    triage,
    vex,
    incident,
    stack,
):
    _module.register(app)


def _prefect_defaults() -> None:
    """Give Prefect's ephemeral API craflow's start-up allowance unless the user set one."""
    from pydantic import ValidationError

    from config.deploy import PrefectServerSettings

    try:
        timeout = PrefectServerSettings().ephemeral_startup_timeout_seconds
    except ValidationError:
        return  # the commands that use these settings report the bad variable
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(timeout))


def main() -> None:
    """Console-script entry point."""
    from craflow.prefect_runtime import configure_ephemeral_prefect

    configure_ephemeral_prefect(argv=sys.argv[1:])  # own ephemeral Prefect DB (issue 12 #12)
    _prefect_defaults()
    interrupts.install()
    app()


if __name__ == "__main__":
    main()
