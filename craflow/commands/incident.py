"""`craflow incident`: CRA Art. 14 reporting cases — open, list, show, record, close, drafts.

craflow never submits anything to ENISA or a CSIRT: a person submits through the
single reporting platform and records here what was submitted and when.
"""

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from craflow.exitcodes import ExitCode

if TYPE_CHECKING:
    from craflow.incident import Case, CaseBook
    from craflow.incident.vexhook import NotAffectedDecision

incident_app = typer.Typer(
    name="incident",
    help=(
        "CRA Article 14 reporting cases for actively exploited vulnerabilities.\n\n"
        "A KEV hit on a released version opens a case (the sweep and the release do it; "
        "`open` does it by hand). The clock runs from `became_aware_at`: early warning "
        "24 h, notification 72 h, final report 14 days after a fixing version is "
        "released. craflow drafts; a person decides, submits and records it here.\n\n"
        "Examples:\n\n"
        "  craflow incident open --product widget --vulnerability CVE-2024-3094 "
        "--version 1.4.0 --markets DE,FR\n\n"
        "  craflow incident list\n\n"
        "  craflow incident drafts widget--cve-2024-3094 --output drafts/\n\n"
        "  craflow incident submitted widget--cve-2024-3094 --stage early-warning "
        "--reference ENISA-2026-0042 --at 2026-11-30T14:05Z\n\n"
        "  craflow incident close widget--cve-2024-3094 --not-affected "
        "--justification vulnerable_code_not_in_execute_path --note 'build-time only'"
    ),
    no_args_is_help=True,
)

ArchiveOpt = Annotated[
    str | None,
    typer.Option(
        "--archive",
        help="Evidence archive holding the cases (s3://bucket/prefix or file:///dir). "
        "Default: CRAFLOW_EVIDENCE_DESTINATION.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CaseArg = Annotated[str, typer.Argument(help="Case id, e.g. widget--cve-2024-3094.")]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="ISO 8601 time with a zone (e.g. 2026-11-30T14:05Z). Default: now."),
]


def now() -> datetime:
    """The command's clock (tests replace it)."""
    from craflow.incident import utc_now

    return utc_now()


def _bad(message: str) -> NoReturn:
    typer.echo(f"error: {message.splitlines()[0] if message else 'invalid input'}", err=True)
    raise typer.Exit(int(ExitCode.VALIDATION))


def _fail(exc: Exception) -> NoReturn:
    from craflow.evidence import EvidenceError, InvalidArchiveUriError
    from craflow.incident import IncidentError

    if isinstance(exc, IncidentError):
        _bad(str(exc))
    code = ExitCode.ERROR
    if isinstance(exc, InvalidArchiveUriError):
        code = ExitCode.CONFIGURATION
    elif isinstance(exc, EvidenceError):
        code = ExitCode.API_ERROR
    typer.echo(f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", err=True)
    raise typer.Exit(int(code))


def _errors() -> tuple[type[Exception], ...]:
    """What a case command turns into one line and an exit code."""
    from craflow.evidence import EvidenceError
    from craflow.incident import IncidentError

    return (IncidentError, EvidenceError)


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        _bad(f"not an ISO 8601 time: {text[:60]!r}")
    if moment.tzinfo is None:
        _bad(f"time {text[:60]!r} needs a zone (Z or +01:00)")
    return moment


def _book(archive: str | None) -> "CaseBook":
    from pydantic import ValidationError

    from config.evidence import EvidenceSettings
    from craflow.evidence.open import store_for
    from craflow.incident import CaseBook, CaseStore

    try:
        settings = EvidenceSettings()
    except ValidationError as exc:
        typer.echo(f"error: bad evidence setting: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(int(ExitCode.CONFIGURATION)) from None
    try:
        store, prefix = store_for(archive or settings.destination, settings)
    except _errors() as exc:
        _fail(exc)
    return CaseBook(CaseStore(store, prefix), clock=now)


def _due_window() -> timedelta:
    from config.incident import IncidentSettings

    return timedelta(hours=IncidentSettings().due_window_hours)


def _print_case(case: "Case", as_json: bool) -> None:
    import json

    from craflow.incident.view import case_row, case_summary

    if as_json:
        typer.echo(json.dumps(case_summary(case, now(), due_window=_due_window()), indent=2))
        return
    for key, value in case_row(case, now(), due_window=_due_window()).items():
        typer.echo(f"{key:>15}: {value}")


def _markets(values: list[str] | None) -> list[str]:
    import re

    codes = [v.strip().upper() for value in values or [] for v in value.split(",") if v.strip()]
    bad = [c for c in codes if not re.fullmatch(r"[A-Z]{2}", c)]
    if bad:
        _bad(f"not an ISO 3166-1 alpha-2 code: {bad[0][:20]!r}")
    return codes


@incident_app.command("open")
def open_case(  # noqa: PLR0917 - typer maps options to parameters
    product: Annotated[str, typer.Option("--product", "-p", help="Product slug.")],
    vulnerability: Annotated[
        str, typer.Option("--vulnerability", "-v", help="CVE, GHSA or OSV id.")
    ],
    version: Annotated[
        list[str] | None, typer.Option("--version", help="An affected released version; repeat.")
    ] = None,
    markets: Annotated[
        list[str] | None,
        typer.Option("--markets", help="Member States where made available (DE,FR,...)."),
    ] = None,
    component: Annotated[
        str | None, typer.Option("--component", help="Affected component purl.")
    ] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="What it is.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="How you learned of it.")] = None,
    at: AtOpt = None,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a case by hand (e.g. exploitation seen in your own telemetry); --at = became aware."""
    from craflow.incident import CaseOpening, ComponentRef, VulnerabilityFacts

    facts = VulnerabilityFacts(
        summary=summary, component=ComponentRef(purl=component) if component else None
    )
    opening = CaseOpening(
        product=product,
        vulnerability=vulnerability,
        source="manual",
        affected_versions=tuple(version or ()),
        target_markets=tuple(_markets(markets)),
        facts=facts,
        became_aware_at=_time(at),
        note=note,
    )
    book = _book(archive)
    try:
        result = book.open(opening)
    except _errors() as exc:
        _fail(exc)
    if not as_json:
        verb = "opened" if result.created else "already open"
        typer.echo(f"case {result.case.case_id} {verb}")
    _print_case(result.case, as_json)


@incident_app.command("list")
def list_cases(
    show_all: Annotated[bool, typer.Option("--all", help="Include closed cases.")] = False,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List open cases with the time left per stage."""
    import json

    from rich.console import Console
    from rich.table import Table

    from craflow.incident.view import case_row, case_summary

    try:
        cases = _book(archive).cases(open_only=not show_all)
    except _errors() as exc:
        _fail(exc)
    window = _due_window()
    if as_json:
        typer.echo(json.dumps([case_summary(c, now(), due_window=window) for c in cases], indent=2))
        return
    if not cases:
        typer.echo("no open cases" if not show_all else "no cases")
        return
    rows = [case_row(c, now(), due_window=window) for c in cases]
    table = Table(title="Art. 14 reporting cases")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*row.values())
    Console().print(table)


@incident_app.command("show")
def show_case(case_id: CaseArg, archive: ArchiveOpt = None, as_json: JsonOpt = False) -> None:
    """Show one case: status, deadlines, what was submitted."""
    try:
        case = _book(archive).get(case_id)
    except _errors() as exc:
        _fail(exc)
    _print_case(case, as_json)


@incident_app.command("drafts")
def write_case_drafts(
    case_id: CaseArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the drafts.")],
    archive: ArchiveOpt = None,
) -> None:
    """Write the early warning, notification and final report drafts and the CSAF advisory."""
    from config.incident import IncidentSettings
    from craflow.incident import Publisher, write_drafts

    settings = IncidentSettings()
    publisher = Publisher(settings.publisher_name, settings.publisher_namespace)
    try:
        case = _book(archive).get(case_id)
        written = write_drafts(case, output, publisher, now())
    except OSError as exc:
        typer.echo(f"error: cannot write to {output}: {exc.strerror or exc}", err=True)
        raise typer.Exit(int(ExitCode.FILE_NOT_FOUND)) from None
    except _errors() as exc:
        _fail(exc)
    for path in written:
        typer.echo(str(path))


@incident_app.command("submitted")
def record_submission(  # noqa: PLR0917 - typer maps options to parameters
    case_id: CaseArg,
    stage: Annotated[str, typer.Option("--stage", help="early-warning, notification or final.")],
    reference: Annotated[
        str, typer.Option("--reference", help="The reporting platform's reference.")
    ],
    at: AtOpt = None,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that a stage was submitted (by a person, on the single reporting platform)."""
    from craflow.incident import Stage

    try:
        chosen = Stage(stage)
    except ValueError:
        _bad(f"unknown stage {stage[:40]!r}; one of: early-warning, notification, final")
    when = _time(at)
    try:
        case = _book(archive).submitted(case_id, chosen, reference, when)
    except _errors() as exc:
        _fail(exc)
    _print_case(case, as_json)


@incident_app.command("fixed")
def record_fix(
    case_id: CaseArg,
    version: Annotated[str, typer.Option("--version", help="The released version fixing it.")],
    at: AtOpt = None,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that a released version fixes it: the final report is due 14 days later."""
    when = _time(at)
    try:
        case = _book(archive).fix_released(case_id, version, when)
    except _errors() as exc:
        _fail(exc)
    _print_case(case, as_json)


@incident_app.command("close")
def close_case(  # noqa: PLR0917 - typer maps options to parameters
    case_id: CaseArg,
    not_affected: Annotated[
        bool, typer.Option("--not-affected", help="The product is not affected.")
    ] = False,
    justification: Annotated[
        str | None,
        typer.Option("--justification", help="Why (component_not_present, ...)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="The reasoning, kept.")] = None,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close a case as not affected: the clock stops, the reasoning stays in its history.

    The affected versions' matching findings are set to not_affected with the justification
    (when CRA_EVIDENCE_URL is set) and a CycloneDX VEX is written beside the case.
    """
    from craflow.incident.vexhook import decision_of

    if not not_affected:
        _bad("close needs --not-affected (a reported case closes with its final report)")
    book = _book(archive)
    try:
        case = book.close_not_affected(case_id, justification, note)
    except _errors() as exc:
        _fail(exc)
    decision = decision_of(case)
    where = _write_vex(book, decision) if decision else "not written (case not closed so)"
    if not as_json:
        typer.echo(f"case {case.case_id} closed as not affected ({justification})")
        typer.echo(f"VEX statement: {where}")
    _print_case(case, as_json)


def _write_vex(book: "CaseBook", decision: "NotAffectedDecision") -> str:
    """Set the findings on the platform (if configured) and write the VEX; one line."""
    import os

    from craflow.api import ApiSettings, CraEvidenceClient, CraEvidenceError
    from craflow.evidence import EvidenceError
    from craflow.incident import IncidentError
    from craflow.incident.vexhook import write_not_affected_vex
    from craflow.vex.errors import VexError
    from craflow.vex.platform import PlatformTriage

    try:
        if not os.environ.get("CRA_EVIDENCE_URL"):
            written = write_not_affected_vex(decision, book.store)
            return f"{written.uri} (platform not updated: CRA_EVIDENCE_URL unset)"
        with CraEvidenceClient(ApiSettings()) as client:
            written = write_not_affected_vex(decision, book.store, PlatformTriage(client))
    except (IncidentError, EvidenceError, CraEvidenceError, VexError) as exc:
        return f"not written ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return f"{written.uri} ({written.findings_set} finding(s) set not_affected on the platform)"


def register(app: typer.Typer) -> None:
    """Add `craflow incident ...` to *app*."""
    app.add_typer(incident_app, name="incident")
