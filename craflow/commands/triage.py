"""`craflow triage list|set`: a version's findings, and their triage through the API's PATCH.

Also home of the VEX commands' error -> exit-code mapping (`exit_code_for`), kept in one
small place so it can be folded into the project's one table.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from craflow.exitcodes import ExitCode

if TYPE_CHECKING:
    from craflow.api import CraEvidenceClient
    from craflow.vex.model import Finding

triage_app = typer.Typer(
    name="triage",
    help=(
        "List a version's vulnerabilities and set their triage (status, justification, note).\n\n"
        "Examples:\n\n"
        "  craflow triage list --product shop --version 1.5.0\n\n"
        "  craflow triage list -p shop -v 1.5.0 --status open --json\n\n"
        "  craflow triage set CVE-2024-3651 -p shop -v 1.5.0 --status not_affected"
        " --justification vulnerable_code_not_in_execute_path --note 'IDNA decoding unused'\n\n"
        "  craflow triage set 6f1c…-uuid --status accepted_risk --note 'internal tool only'"
    ),
    no_args_is_help=True,
)


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code of a triage/VEX command that raised *exc* (the one mapping of this area)."""
    from pydantic import ValidationError

    from craflow.api import (
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        CraEvidenceError,
        NotFoundError,
        PermissionDeniedError,
    )
    from craflow.vex.errors import VexError, VexFileNotFoundError

    table: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], ExitCode], ...] = (
        (VexFileNotFoundError, ExitCode.FILE_NOT_FOUND),
        (VexError, ExitCode.VALIDATION),
        ((NotFoundError, BadRequestError), ExitCode.VALIDATION),
        ((ConfigurationError, ValidationError), ExitCode.CONFIGURATION),
        ((AuthenticationError, PermissionDeniedError), ExitCode.AUTH_OR_USAGE),
        (CraEvidenceError, ExitCode.API_ERROR),
        (OSError, ExitCode.FILE_NOT_FOUND),
    )
    for kinds, code in table:
        if isinstance(exc, kinds):
            return code
    return ExitCode.ERROR


def fail(exc: BaseException) -> typer.Exit:
    """Print *exc* as one line on stderr and return the matching exit."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    typer.echo(f"error: {text}", err=True)
    return typer.Exit(int(exit_code_for(exc)))


@contextmanager
def api_client() -> "Iterator[CraEvidenceClient]":
    """A client configured from the environment now (settings are read when a command runs)."""
    from craflow.api import ApiSettings, CraEvidenceClient

    with CraEvidenceClient(ApiSettings()) as client:
        yield client


def version_findings(client: "CraEvidenceClient", product: str, version: str) -> list["Finding"]:
    """Every finding of *product* *version*; `VexInputError` when either does not exist."""
    from craflow.vex.errors import VexInputError
    from craflow.vex.platform import load_findings

    found = client.find_product(product)
    if found is None:
        raise VexInputError(f"product {product!r} not found")
    ver = client.find_version(found.id, version)
    if ver is None:
        raise VexInputError(f"version {version!r} of {product} not found")
    return load_findings(client, ver.id)


def finding_dict(f: "Finding") -> dict[str, object]:
    return {
        "id": f.id,
        "vuln_id": f.vuln_id,
        "aliases": list(f.aliases),
        "severity": f.severity,
        "kev": f.kev,
        "component": {"name": f.component_name, "version": f.component_version, "purl": f.purl},
        "status": f.status,
        "justification": f.justification,
        "notes": f.notes,
    }


Product = Annotated[str, typer.Option("--product", "-p", help="Product slug.")]
Version = Annotated[str, typer.Option("--version", "-v", help="Version number.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@triage_app.command("list")
def list_(
    product: Product,
    version: Version,
    status: Annotated[
        str | None, typer.Option("--status", help="Only findings in this status.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List a version's vulnerabilities: id, severity, KEV, component, status, justification.

    Examples: `craflow triage list -p shop -v 1.5.0`; `craflow triage list -p shop -v 1.5.0
    --status not_affected --json`.
    """
    try:
        with api_client() as client:
            findings = version_findings(client, product, version)
    except Exception as exc:
        raise fail(exc) from None
    if status is not None:
        findings = [f for f in findings if f.status == status]
    if as_json:
        typer.echo(json.dumps([finding_dict(f) for f in findings], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{product} {version}: {len(findings)} vulnerabilities")
    for column in ("id", "vulnerability", "severity", "KEV", "component", "status"):
        table.add_column(column)
    for f in findings:
        why = f" ({f.justification})" if f.justification else ""
        table.add_row(
            f.id,
            f.vuln_id,
            f.severity,
            "yes" if f.kev else "",
            f"{f.component_name} {f.component_version}",
            f.status + why,
        )
    Console().print(table)


def _resolve(
    client: "CraEvidenceClient", ref: str, product: str | None, version: str | None
) -> "Finding":
    """The finding *ref* names: its platform id, or a vulnerability id/alias in P V."""
    from craflow.api import NotFoundError
    from craflow.vex.errors import VexInputError
    from craflow.vex.platform import finding_from_api

    if product and version:
        wanted = ref.upper()
        matches = [
            f for f in version_findings(client, product, version) if wanted in f.ids or f.id == ref
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise VexInputError(
                f"{ref} names {len(matches)} findings of {product} {version}: use the id from "
                "`craflow triage list`"
            )
        raise VexInputError(f"no finding {ref} in {product} {version}")
    try:
        return finding_from_api(client.get_vulnerability(ref))
    except NotFoundError:
        raise VexInputError(f"no finding with id {ref}") from None


def check_triage(status: str, justification: str | None, note: str | None) -> None:
    """`VexInputError` for triage the platform would refuse; nothing is sent then."""
    from craflow.vex.errors import VexInputError
    from craflow.vex.model import JUSTIFICATIONS, MAX_NOTES_CHARS, STATUSES

    if status not in STATUSES:
        raise VexInputError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    if justification is not None and justification not in JUSTIFICATIONS:
        raise VexInputError(
            f"unknown justification {justification!r}: use one of {', '.join(JUSTIFICATIONS)}"
        )
    if status == "not_affected" and justification is None:
        raise VexInputError("not_affected needs --justification")
    if note is not None and len(note) > MAX_NOTES_CHARS:
        raise VexInputError(f"--note is longer than {MAX_NOTES_CHARS} characters")


@triage_app.command("set")
def set_(  # noqa: PLR0917 - typer maps options to parameters
    ref: Annotated[
        str,
        typer.Argument(help="Finding id (from `triage list`), or a CVE/GHSA id with -p and -v."),
    ],
    status: Annotated[str, typer.Option("--status", "-s", help="New status.")],
    justification: Annotated[
        str | None,
        typer.Option("--justification", "-j", help="Required for not_affected (OpenVEX set)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", "-n", help="Why (≤ 10,000 chars).")] = None,
    product: Annotated[str | None, typer.Option("--product", "-p", help="Product slug.")] = None,
    version: Annotated[str | None, typer.Option("--version", "-v", help="Version number.")] = None,
    as_json: AsJson = False,
) -> None:
    """Set a finding's status, with a justification (required for not_affected) and a note.

    Statuses: open, in_progress, fixed, not_affected, false_positive, accepted_risk, wont_fix.
    Justifications: component_not_present, vulnerable_code_not_present,
    vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary,
    inline_mitigations_already_exist. Bad input exits 4 and changes nothing.
    """
    from craflow.vex.platform import finding_from_api

    try:
        check_triage(status, justification, note)
        with api_client() as client:
            finding = _resolve(client, ref, product, version)
            updated = finding_from_api(
                client.triage_vulnerability(
                    finding.id, status=status, justification=justification, notes=note
                )
            )
    except Exception as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(finding_dict(updated), indent=2))
        return
    why = f" ({updated.justification})" if updated.justification else ""
    typer.echo(
        f"{updated.vuln_id} on {updated.component_name} {updated.component_version}: "
        f"{finding.status} -> {updated.status}{why}"
    )


def register(app: typer.Typer) -> None:
    """Add `craflow triage` to *app*."""
    app.add_typer(triage_app)
