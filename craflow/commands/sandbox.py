"""`craflow sandbox`: run a local CRA Evidence server in the foreground."""

from pathlib import Path
from typing import Annotated

import typer

from craflow.exitcodes import ExitCode

_HELP = (
    "Start a local CRA Evidence server (the sandbox) and print how to reach it.\n\n"
    "It implements the CRA Evidence REST API (products, versions, SBOM upload, scans, "
    "CRA status, release states, compare, exports) with SQLite and bundled OSV data, for "
    "development, demos and tests. It prints its URL, an owner login and a full-access API "
    "key, and runs in the foreground until Ctrl-C. Exit 2 on a bad option, 5 when an --osv "
    "path is missing, 6 when the port cannot be bound.\n\n"
    "Examples:\n\n"
    "  craflow sandbox                                  # http://127.0.0.1:8765\n\n"
    "  craflow sandbox --port 0 --scan-seconds 0.5      # a free port, fast scans\n\n"
    "  craflow sandbox --data-dir ./sandbox-data --api-key cra_devkey   # keep state\n\n"
    "  craflow sandbox --rate-scale 60 --osv ./extra-advisories.jsonl"
)


def register(app: typer.Typer) -> None:
    """Add `craflow sandbox` to *app*."""
    app.command("sandbox", help=_HELP)(sandbox)


def sandbox(
    *,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8765,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Keep state here across restarts (default: a temporary folder)."),
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="Full-access API key to seed (cra_...); generated if absent.")
    ] = None,
    scan_seconds: Annotated[
        float | None, typer.Option(help="Seconds a scan runs before it completes (default 2).")
    ] = None,
    rate_scale: Annotated[
        float | None, typer.Option(help="Divide every rate-limit window by this (60: per second).")
    ] = None,
    reset: Annotated[
        bool,
        typer.Option(help="Delete the database and every stored file in --data-dir first."),
    ] = False,
    allow_fake_oidc: Annotated[
        bool,
        typer.Option(help="Serve /oidc/token, which trusts ANY token (local use only)."),
    ] = False,
    osv: Annotated[
        list[Path] | None,
        typer.Option(help="More OSV records: a .json/.jsonl(.gz) file or a folder (repeatable)."),
    ] = None,
) -> None:
    """Start a local CRA Evidence server (the sandbox) and print how to reach it."""
    from pydantic import ValidationError

    from config.sandbox import SandboxSettings
    from craflow.sandbox.auth import mask_key
    from craflow.sandbox.runner import SandboxServer
    from craflow.sandbox.state import SandboxDataError

    for path in osv or []:
        if not path.exists():
            typer.echo(f"error: OSV path {path} does not exist", err=True)
            raise typer.Exit(ExitCode.FILE_NOT_FOUND)
    overrides: dict[str, object] = {"host": host, "port": port, "allow_fake_oidc": allow_fake_oidc}
    if scan_seconds is not None:
        overrides["scan_seconds"] = scan_seconds
    if rate_scale is not None:
        overrides["rate_scale"] = rate_scale
    try:
        settings = SandboxSettings.model_validate(overrides)
        server = SandboxServer(settings, data_dir, api_key, osv or [], reset=reset)
    except ValidationError as exc:
        first = exc.errors()[0]
        typer.echo(f"error: {'.'.join(map(str, first['loc']))}: {first['msg']}", err=True)
        raise typer.Exit(ExitCode.AUTH_OR_USAGE) from None
    except SandboxDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.CONFIGURATION) from None
    except OSError as exc:
        typer.echo(f"error: cannot start the sandbox: {exc}", err=True)
        raise typer.Exit(ExitCode.CONFIGURATION) from None
    info = server.info
    shown_key = mask_key(info.api_key) if api_key else info.api_key
    typer.echo(f"CRA Evidence sandbox at {info.url}  (API: {info.api_url}, docs: {info.url}/docs)")
    typer.echo(f"  owner: {info.owner_email} / {info.owner_password}")
    typer.echo(f"  API key (full access): {shown_key}")
    typer.echo(f"  data: {info.data_dir}" + ("" if data_dir else " (removed at exit)"))
    typer.echo(f"  export CRA_EVIDENCE_URL={info.url} CRA_EVIDENCE_API_KEY=<the key above>")
    typer.echo("Press Ctrl-C to stop.")
    try:
        server.run_foreground()
    finally:
        server.close()
