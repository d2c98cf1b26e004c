"""`craflow vex export|apply`: a version's triage as CycloneDX/OpenVEX/CSAF VEX, and back."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from craflow.commands.triage import AsJson, Product, Version, api_client, fail, version_findings

if TYPE_CHECKING:
    from craflow.vex.matching import ApplyPlan
    from craflow.vex.model import VexDocument

vex_app = typer.Typer(
    name="vex",
    help=(
        "Write a version's triage as VEX (CycloneDX 1.6, OpenVEX 0.2.0, CSAF 2.0 csaf_vex), "
        "or apply a VEX document to a version.\n\n"
        "Examples:\n\n"
        "  craflow vex export -p shop -v 1.5.0 --format cyclonedx -o shop-1.5.0.vex.cdx.json\n\n"
        "  craflow vex export -p shop -v 1.5.0 --format csaf -o shop-1.5.0.csaf.json\n\n"
        "  craflow vex apply vendor.openvex.json -p shop -v 1.6.0\n\n"
        "  craflow vex apply shop-1.5.0.vex.cdx.json -p shop -v 1.6.0 --dry-run --json"
    ),
    no_args_is_help=True,
)


@vex_app.command("export")
def export(
    product: Product,
    version: Version,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="cyclonedx, openvex or csaf.")
    ] = "cyclonedx",
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")] = Path(
        "vex.json"
    ),
    as_json: AsJson = False,
) -> None:
    """Write the version's triage as a VEX document, validated against the official schema.

    Nothing is written when the document would not validate.
    """
    from config.vex import VexSettings
    from craflow.vex.errors import VexInputError
    from craflow.vex.model import FORMATS, Subject
    from craflow.vex.writer import write_vex

    try:
        if fmt not in FORMATS:
            raise VexInputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        settings = VexSettings()
        with api_client() as client:
            findings = version_findings(client, product, version)
        size = write_vex(
            findings,
            Subject(product, version, author=settings.author),
            fmt,
            output,
        )
    except Exception as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(
            json.dumps(
                {"file": str(output), "format": fmt, "statements": len(findings), "bytes": size}
            )
        )
        return
    typer.echo(f"wrote {output}: {fmt} VEX, {len(findings)} findings, {size} bytes (schema-valid)")


def _refusal(doc: "VexDocument", plan: "ApplyPlan") -> str | None:
    """Why the whole document is refused (nothing applied), or None."""
    if doc.skipped:
        s = doc.skipped[0]
        return (
            f"{len(doc.skipped)} statement(s) cannot be applied, "
            f"e.g. {s.vuln_id} on {s.product}: {s.reason}"
        )
    if plan.conflicts:
        c = plan.conflicts[0]
        return f"conflicting statements for {c.vuln_id} on {c.component_name or c.purl}"
    if doc.statements and not plan.changes and not plan.already:
        return f"none of the {len(doc.statements)} statements matches a finding of this version"
    return None


def _report(plan: "ApplyPlan", dry_run: bool) -> dict[str, object]:
    return {
        "dry_run": dry_run,
        "changed": [c.describe() for c in plan.changes],
        "already": len(plan.already),
        "matched_nothing": [f"{s.vuln_id} on {s.purl or s.component_name}" for s in plan.unmatched],
    }


@vex_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="CycloneDX, OpenVEX or CSAF VEX (JSON).")],
    product: Product,
    version: Version,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    as_json: AsJson = False,
) -> None:
    """Apply a VEX document's statuses to the version's findings through the API.

    The format is detected from the content. Statements match findings by vulnerability
    id/alias and component purl (with version). A document with an unusable statement is
    refused whole (exit 4, nothing changed); applying the same file twice changes nothing.
    """
    from config.vex import VexSettings
    from craflow.vex.errors import VexInputError
    from craflow.vex.matching import plan_apply
    from craflow.vex.platform import apply_changes
    from craflow.vex.reader import read_vex

    try:
        settings = VexSettings()
        doc = read_vex(
            file,
            max_bytes=settings.max_input_bytes,
            max_depth=settings.max_json_depth,
            max_statements=settings.max_statements,
        )
        with api_client() as client:
            plan = plan_apply(version_findings(client, product, version), doc.statements)
            refusal = _refusal(doc, plan)
            if refusal is not None:
                raise VexInputError(f"{file}: {refusal}; nothing changed")
            if not dry_run:
                apply_changes(client, plan.changes)
    except Exception as exc:
        raise fail(exc) from None
    report = {"format": doc.format, **_report(plan, dry_run)}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    verb = "would change" if dry_run else "changed"
    for line in plan.changes:
        typer.echo(f"{verb}: {line.describe()}")
    for s in plan.unmatched:
        typer.echo(f"matched nothing: {s.vuln_id} on {s.purl or s.component_name}")
    typer.echo(
        f"{doc.format} VEX: {len(plan.changes)} {verb}, {len(plan.already)} already so, "
        f"{len(plan.unmatched)} matched nothing"
    )


def register(app: typer.Typer) -> None:
    """Add `craflow vex` to *app*."""
    app.add_typer(vex_app)
