"""`craflow release`: run the release flow for one product version and exit with its verdict."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from craflow.exitcodes import ExitCode

_HELP = (
    "Release a product version: SBOM → upload (once) → scan → wait → compare → gate → "
    "promote → archive the evidence, as one Prefect flow run.\n\n"
    "Exit codes: 0 passed, 2 authentication/usage, 3 API error, 4 validation, 5 file not "
    "found, 6 configuration, 10-13 severity gate (critical, high, medium, low), 20 CRA floor "
    "not ready (or KEV), 24 release policy not met, 75 pending (scan not finished in time)."
)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"craflow release: {message}", err=True)
    return typer.Exit(int(code))


def release(
    *,
    product: Annotated[
        str, typer.Option("--product", envvar="CRA_EVIDENCE_PRODUCT", help="Product slug.")
    ],
    version: Annotated[
        str, typer.Option("--version", envvar="CRA_EVIDENCE_VERSION", help="Version number.")
    ],
    sbom: Annotated[
        str | None, typer.Option("--sbom", help="SBOM file: path, file:// or s3:// URI.")
    ] = None,
    sbom_source: Annotated[
        str | None,
        typer.Option(
            "--from", help="Generate the SBOM instead: requirements:FILE, uv-lock:FILE, env:PYTHON."
        ),
    ] = None,
    previous: Annotated[
        str | None,
        typer.Option("--previous", help="Compare with this version (default: last release)."),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Lowest blocking severity: critical|high|medium|low|none [default: high].",
        ),
    ] = None,
    new_only: Annotated[
        bool,
        typer.Option(
            "--new-only", help="Count only vulnerabilities new since the previous release."
        ),
    ] = False,
    fail_on_kev: Annotated[
        bool, typer.Option("--fail-on-kev", help="Block on any open KEV-listed vulnerability.")
    ] = False,
    require_ready: Annotated[
        bool,
        typer.Option(
            "--require-ready", help="Block unless the CRA floor and release policy are ready."
        ),
    ] = False,
    promote: Annotated[
        str | None,
        typer.Option(
            "--promote",
            help="State to promote to when the gate passes, or none [default: released].",
        ),
    ] = None,
    deprecate_previous: Annotated[
        bool,
        typer.Option(
            "--deprecate-previous", help="Deprecate the previous release (superseded_by)."
        ),
    ] = False,
    export: Annotated[
        str | None,
        typer.Option("--export", help="Evidence archive root: s3://bucket/prefix or file:///dir."),
    ] = None,
    retain_years: Annotated[
        int | None, typer.Option("--retain-years", min=1, max=100, help="S3 Object Lock retention.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON result on stdout.")
    ] = False,
) -> None:
    """Release a product version (see `craflow release --help`)."""
    from config.release import ReleaseSettings

    try:
        defaults = ReleaseSettings()
    except ValidationError as exc:
        wrong = "; ".join(
            f"CRAFLOW_RELEASE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise _fail(f"bad setting: {wrong}", ExitCode.CONFIGURATION) from None
    fail_on = fail_on if fail_on is not None else defaults.fail_on
    promote = promote if promote is not None else defaults.promote
    _check_options(
        (product, version),
        sbom=sbom,
        sbom_source=sbom_source,
        fail_on=fail_on,
        promote=promote,
        export=export,
    )

    from craflow.release.errors import exit_code_for_error, one_line
    from flows.release import run_release

    try:
        result = run_release(
            product=product,
            version=version,
            sbom=str(Path(sbom).resolve()) if sbom and "://" not in sbom else sbom,
            sbom_source=sbom_source,
            previous=previous,
            fail_on=fail_on,
            new_only=new_only,
            fail_on_kev=fail_on_kev,
            require_ready=require_ready,
            promote=promote,
            deprecate_previous=deprecate_previous,
            export=export,
            retain_years=retain_years,
        )
    except Exception as exc:  # the flow machinery itself failed (e.g. no Prefect API)
        result = exc
    if isinstance(result, BaseException):
        code = exit_code_for_error(result)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "product": product,
                        "version": version,
                        "verdict": "failed",
                        "exit_code": code,
                        "error": one_line(result),
                    }
                )
            )
        raise _fail(one_line(result), code)
    if as_json:
        typer.echo(result.model_dump_json())
    else:
        typer.echo(result.message)
        if result.archive_uri:
            typer.echo(f"evidence: {result.archive_uri}")
    sys.stdout.flush()
    raise typer.Exit(result.exit_code)


def _check_options(
    names: tuple[str, str],
    *,
    sbom: str | None,
    sbom_source: str | None,
    fail_on: str,
    promote: str,
    export: str | None,
) -> None:
    """Refuse bad options before the flow starts, so nothing is created on the server."""
    from craflow.evidence.errors import InvalidArchiveUriError
    from craflow.evidence.uri import parse_location
    from craflow.release.errors import ReleaseInputError
    from craflow.release.gate import GateConfigError, GatePolicy
    from craflow.release.names import check_release_names
    from craflow.release.states import TransitionError, check_state

    try:
        check_release_names(*names)
    except ReleaseInputError as exc:
        raise _fail(str(exc), ExitCode.VALIDATION) from None
    if (sbom is None) == (sbom_source is None):
        raise _fail("give exactly one of --sbom FILE or --from SOURCE", ExitCode.AUTH_OR_USAGE)
    if sbom is not None and "://" not in sbom and not Path(sbom).is_file():
        raise _fail(f"SBOM file not found: {sbom}", ExitCode.FILE_NOT_FOUND)
    try:
        GatePolicy.parse(fail_on)
        if promote != "none":
            check_state(promote)
    except (GateConfigError, TransitionError) as exc:
        raise _fail(str(exc), ExitCode.AUTH_OR_USAGE) from None
    if export is not None:
        try:
            parse_location(export)
        except InvalidArchiveUriError as exc:
            raise _fail(f"--export: {exc}", ExitCode.VALIDATION) from None


def register(app: typer.Typer) -> None:
    """Add `craflow release` to *app*."""
    app.command(name="release", help=_HELP)(release)
