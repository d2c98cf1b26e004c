"""`craflow release`: run the release flow for one product version and exit with its verdict."""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from craflow.commands.helptext import help_with_examples
from craflow.exitcodes import ExitCode

if TYPE_CHECKING:
    from config.release import ReleaseSettings
    from craflow.release.outcome import ReleaseOutcome
    from craflow.release.request import ReleaseRequest

_HELP = help_with_examples(
    "Release a product version: SBOM → upload (once) → scan → wait → compare → gate → "
    "promote → archive the evidence, as one Prefect flow run named "
    "release-<product>-<version> (its logs, artifacts and events tell the story in the UI).",
    [
        "craflow release --product shop --version 1.2.0 --sbom sbom.cdx.json",
        "craflow release --product shop --version 1.2.0 --from requirements:requirements.txt "
        "--fail-on critical --export s3://evidence/cra",
        "craflow release --product shop --version 1.3.0 --sbom s3://builds/1.3.0.cdx.json "
        "--fail-on-kev --promote approved --deprecate-previous --json",
    ],
    [
        "The SBOM: give exactly one of --sbom (an existing file) or --from (generate it); "
        "both, or neither, is a usage error (exit 2) and nothing is created.",
        "Defaults: --fail-on high, --promote released, --unknown-as high (settings "
        "CRAFLOW_RELEASE_FAIL_ON, _PROMOTE, _UNKNOWN_AS); the archive is "
        "CRAFLOW_EVIDENCE_DESTINATION unless --export is given.",
        "Verdicts: passed, blocked (Prefect state Blocked), pending (state Pending), failed.",
        "Exit codes: 0 passed, 1 unexpected error (a bug: please report it), 2 "
        "authentication/usage, 3 API error, 4 validation, 5 file not found, 6 configuration, "
        "10-13 severity gate (critical, high, medium, low), 20 CRA floor not ready (or KEV), "
        "24 release policy not met, 75 pending (scan not finished in time).",
    ],
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
    no_carry_triage: Annotated[
        bool,
        typer.Option(
            "--no-carry-triage",
            help="Do not carry the previous release's triage (status, justification) to "
            "unchanged components [default: carry, CRAFLOW_VEX_CARRY_TRIAGE].",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON result on stdout.")
    ] = False,
    unknown_as: Annotated[
        str | None,
        typer.Option(
            "--unknown-as",
            help="Count a vulnerability without CVSS as critical|high|medium|low, or ignore "
            "it [default: high, CRAFLOW_RELEASE_UNKNOWN_AS].",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's logs and task tracebacks.")
    ] = False,
) -> None:
    """Release a product version (see `craflow release --help`)."""
    from config.release import ReleaseSettings
    from craflow.boundary import exit_code_for, one_line
    from craflow.release.request import ReleaseRequest

    try:
        settings = ReleaseSettings()
    except ValidationError as exc:
        wrong = "; ".join(
            f"CRAFLOW_RELEASE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise _fail(f"bad setting: {wrong}", ExitCode.CONFIGURATION) from None
    try:
        request = ReleaseRequest.build(
            product=product,
            version=version,
            sbom=str(Path(sbom).resolve()) if sbom and "://" not in sbom else sbom,
            sbom_source=sbom_source,
            previous=previous,
            fail_on=fail_on,
            unknown_as=unknown_as,
            new_only=new_only,
            fail_on_kev=fail_on_kev,
            require_ready=require_ready,
            promote=promote,
            deprecate_previous=deprecate_previous,
            export=export,
            retain_years=retain_years,
            carry_triage=False if no_carry_triage else None,
        )
        _check_before_run(request, sbom, settings)
    except Exception as exc:  # a bad option: one line, nothing created
        prefix = "--export: " if "archive" in type(exc).__name__.lower() else ""
        raise _fail(prefix + one_line(exc), exit_code_for(exc)) from None

    from flows.release import run_request

    with _quiet_prefect(verbose):
        try:
            result = run_request(request, settings)
        except Exception as exc:  # the flow machinery itself failed (e.g. no Prefect API)
            result = exc
    _report(request, result, as_json=as_json)


def _check_before_run(
    request: "ReleaseRequest", sbom: str | None, settings: "ReleaseSettings"
) -> None:
    """Refuse what would fail later, before the flow starts (nothing is created)."""
    from config.evidence import EvidenceSettings
    from tasks.export import check_writable, resolve_target

    if sbom is not None and "://" not in sbom and not Path(sbom).is_file():
        raise FileNotFoundError(f"SBOM file not found: {sbom}")
    check_writable(resolve_target(request.export, EvidenceSettings(), settings.export))


class _NoTraceback(logging.Filter):
    """Keep a log record's one-line message, drop its traceback (the terminal's copy only)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


@contextmanager
def _quiet_prefect(verbose: bool) -> Iterator[None]:
    """Without -v, Prefect's task tracebacks stay off the terminal: one line per failure.

    The filter sits on the terminal handlers only; the Prefect API (the UI) still gets
    the full record, because a logger's own handlers run before propagation.
    """
    if verbose:
        yield
        return
    handlers = [
        h
        for name in ("prefect", "")
        for h in logging.getLogger(name).handlers
        if isinstance(h, logging.StreamHandler)
    ]
    quiet = _NoTraceback()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


def _report(
    request: "ReleaseRequest", result: "ReleaseOutcome | BaseException", *, as_json: bool
) -> None:
    from craflow.boundary import exit_code_for, one_line

    if isinstance(result, BaseException):
        code = int(exit_code_for(result))
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "product": request.product,
                        "version": request.version,
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


def register(app: typer.Typer) -> None:
    """Add `craflow release` to *app*."""
    app.command(name="release", help=_HELP)(release)
