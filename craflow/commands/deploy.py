"""`craflow serve`, `craflow deploy`, `craflow setup` and `craflow trigger-release`.

Prefect (and everything that imports it) is imported inside each command so
`craflow --help` stays fast.
"""

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr, ValidationError

from config.deploy import DeploySettings
from craflow.commands.helptext import help_with_examples
from craflow.exitcodes import ExitCode


def _fail(message: str, code: ExitCode) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(int(code))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _deploy_settings() -> DeploySettings:
    try:
        return DeploySettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise _fail(
            f"CRAFLOW_DEPLOY_{where.upper()}: {first['msg']}", ExitCode.CONFIGURATION
        ) from None


def serve() -> None:
    """Serve the release (event-triggered) and sweep (scheduled) deployments from this process.

    For one machine without a worker: schedules and triggers are live while it runs.
    Stop it with Ctrl-C. Needs PREFECT_API_URL to point at a Prefect server.
    """
    from deployments.build import serve_all
    from deployments.events import NoPrefectServerError, configured_api_url

    settings = _deploy_settings()
    try:
        configured_api_url()
    except NoPrefectServerError as exc:
        raise _fail(str(exc), ExitCode.CONFIGURATION) from None
    serve_all(settings)


def deploy() -> None:
    """Register the release and sweep deployments with the work pool (production).

    Run `craflow setup` first; then start a worker: `prefect worker start --pool <pool>`.
    """
    from deployments.build import deploy_all
    from deployments.events import NoPrefectServerError, configured_api_url

    settings = _deploy_settings()
    try:
        configured_api_url()
        ids = deploy_all(settings)
    except (NoPrefectServerError, ValueError) as exc:
        raise _fail(str(exc), ExitCode.CONFIGURATION) from None
    except Exception as exc:  # the server refused or is unreachable: one line, no traceback
        raise _fail(
            f"could not register the deployments: {_one_line(exc)}", ExitCode.ERROR
        ) from None
    typer.echo(
        f"registered {len(ids)} deployments with work pool {settings.work_pool!r}; "
        f"start a worker with: prefect worker start --pool {settings.work_pool}"
    )


def setup(
    api_key_env: Annotated[
        bool,
        typer.Option(
            "--api-key-from-env/--no-api-key",
            help="Store CRA_EVIDENCE_API_KEY in the Secret block (when set).",
        ),
    ] = True,
) -> None:
    """Create the API-key Secret block, the work pool and the crash automation (idempotent)."""
    from config.release import ReleaseSettings
    from deployments.events import NoPrefectServerError, configured_api_url
    from deployments.setup import run_setup

    settings = _deploy_settings()
    try:
        configured_api_url()
    except NoPrefectServerError as exc:
        raise _fail(str(exc), ExitCode.CONFIGURATION) from None
    raw_key = os.environ.get("CRA_EVIDENCE_API_KEY", "").strip() if api_key_env else ""
    api_key = SecretStr(raw_key) if raw_key else None
    try:
        steps = asyncio.run(
            run_setup(
                block_name=ReleaseSettings().secret_block_name,
                api_key=api_key,
                pool_name=settings.work_pool,
                pool_type=settings.work_pool_type,
            )
        )
    except Exception as exc:  # the server refused or is unreachable: one line, no traceback
        raise _fail(f"setup stopped: {_one_line(exc)}", ExitCode.ERROR) from None
    for step in steps:
        typer.echo(f"{step.what:<13} {step.name:<28} {step.outcome}")
    if any(step.outcome == "skipped" for step in steps):
        typer.echo(
            "note: no API key stored (CRA_EVIDENCE_API_KEY unset); workers must have it in "
            "their environment"
        )


def _sbom_location(value: str) -> str:
    """A local path becomes absolute (the flow may run elsewhere); URIs pass unchanged."""
    if "://" in value:
        return value
    return str(Path(value).expanduser().resolve())


def trigger_release(  # noqa: PLR0917 - typer maps each option to a parameter
    product: Annotated[
        str, typer.Option(envvar="CRA_EVIDENCE_PRODUCT", help="Product slug.", show_default=False)
    ],
    version: Annotated[
        str, typer.Option(envvar="CRA_EVIDENCE_VERSION", help="Version number.", show_default=False)
    ],
    sbom: Annotated[
        str | None, typer.Option(help="SBOM to release: path, file:// or s3:// URI.")
    ] = None,
    sbom_source: Annotated[
        str | None,
        typer.Option(
            "--from",
            "--sbom-source",
            help="Generate the SBOM in the flow: requirements:FILE, uv-lock:FILE, env:PYTHON.",
        ),
    ] = None,
    fail_on: Annotated[
        str | None, typer.Option(help="Lowest blocking severity: critical|high|medium|low|none.")
    ] = None,
    new_only: Annotated[bool, typer.Option(help="Block only on new vulnerabilities.")] = False,
    fail_on_kev: Annotated[bool, typer.Option(help="Block on any KEV-listed one.")] = False,
    require_ready: Annotated[bool, typer.Option(help="Block unless CRA status is ready.")] = False,
    promote: Annotated[
        str | None, typer.Option(help="Release state to promote to ('none' = do not).")
    ] = None,
    deprecate_previous: Annotated[
        bool, typer.Option(help="Deprecate the previous released version.")
    ] = False,
    export: Annotated[
        str | None, typer.Option(help="Archive root, s3://bucket/prefix or file:///dir.")
    ] = None,
) -> None:
    """Emit `craflow.release.requested`; the release deployment picks it up.

    Same as: prefect event emit craflow.release.requested --resource '{...}' --payload '{...}'
    """
    from deployments.events import NoPrefectServerError, emit_release_requested
    from deployments.triggers import ReleaseRequestError, release_request

    settings = _deploy_settings()
    if fail_on is not None and fail_on not in {"critical", "high", "medium", "low", "none"}:
        raise _fail(
            f"--fail-on must be critical|high|medium|low|none, got {fail_on!r}",
            ExitCode.AUTH_OR_USAGE,
        )
    options: dict[str, object | None] = {
        "sbom": _sbom_location(sbom) if sbom else None,
        "sbom_source": sbom_source,
        "fail_on": fail_on,
        "new_only": new_only or None,
        "fail_on_kev": fail_on_kev or None,
        "require_ready": require_ready or None,
        "promote": promote,
        "deprecate_previous": deprecate_previous or None,
        "export": export,
    }
    try:
        request = release_request(product, version, options)
    except ReleaseRequestError as exc:
        raise _fail(str(exc), ExitCode.AUTH_OR_USAGE) from None
    try:
        event_id = emit_release_requested(request, timeout=settings.emit_timeout_seconds)
    except NoPrefectServerError as exc:
        raise _fail(str(exc), ExitCode.CONFIGURATION) from None
    except Exception as exc:  # unreachable or refused: one line, no traceback
        raise _fail(
            f"the Prefect server did not accept the event: {_one_line(exc)}", ExitCode.ERROR
        ) from None
    typer.echo(f"emitted craflow.release.requested for {product} {version} (event {event_id})")


_NEEDS_SERVER = "Needs PREFECT_API_URL to point at a Prefect server (exit 6 otherwise)."

_SERVE_HELP = help_with_examples(
    "Serve the release (event-triggered) and sweep (scheduled) deployments from this "
    "process: for one machine without a worker; triggers and schedules are live while it "
    "runs. Stop it with Ctrl-C.",
    [
        "PREFECT_API_URL=http://127.0.0.1:4200/api craflow serve",
        "CRAFLOW_DEPLOY_SWEEP_CRON='0 2 * * *' craflow serve",
    ],
    [_NEEDS_SERVER],
)
_DEPLOY_HELP = help_with_examples(
    "Register the release and sweep deployments with the work pool (production). Run "
    "`craflow setup` first, then start a worker: `prefect worker start --pool <pool>`.",
    ["craflow setup && craflow deploy", "prefect worker start --pool craflow-process"],
    [_NEEDS_SERVER],
)
_SETUP_HELP = help_with_examples(
    "Create the API-key Secret block, the work pool and the rate-limit buckets "
    "(idempotent: a rerun changes nothing that is already right).",
    [
        "CRA_EVIDENCE_API_KEY=... craflow setup",
        "craflow setup --no-api-key   # the key comes from the worker's environment",
    ],
    [_NEEDS_SERVER],
)
_TRIGGER_HELP = help_with_examples(
    "Emit `craflow.release.requested`; the release deployment (served or deployed) runs "
    "the release. Same as `prefect event emit craflow.release.requested ...`.",
    [
        "craflow trigger-release --product shop --version 1.2.0 --sbom s3://builds/1.2.0.cdx.json",
        "craflow trigger-release --product shop --version 1.2.0 --sbom-source "
        "requirements:/srv/shop/requirements.txt --fail-on critical --promote approved",
    ],
    [
        "A local --sbom path is made absolute (the flow may run elsewhere). Exit codes: 0 "
        "emitted, 2 bad option, 6 no Prefect server configured, 1 the server refused it.",
    ],
)


def register(app: typer.Typer) -> None:
    """Add `serve`, `deploy`, `setup` and `trigger-release` to *app*."""
    app.command("serve", help=_SERVE_HELP)(serve)
    app.command("deploy", help=_DEPLOY_HELP)(deploy)
    app.command("setup", help=_SETUP_HELP)(setup)
    app.command("trigger-release", help=_TRIGGER_HELP)(trigger_release)
