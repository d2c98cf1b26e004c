"""`craflow export`: archive the evidence of a version released earlier."""

# Prefect and the flows are imported inside the commands so `craflow --help` stays fast.

from typing import Annotated

import typer

from craflow.commands.helptext import help_with_examples


def export(
    product: Annotated[str, typer.Option("--product", "-p", help="Product slug.")],
    version: Annotated[str, typer.Option("--version", "-v", help="Version number.")],
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Archive root: s3://bucket/prefix or file:///dir "
            "(default: CRAFLOW_EVIDENCE_DESTINATION).",
        ),
    ] = None,
    retain_years: Annotated[
        int | None,
        typer.Option("--retain-years", min=1, max=100, help="S3 Object Lock retention in years."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the archived run as JSON.")
    ] = False,
) -> None:
    """Fetch the technical file (and compliance report) of a version and archive it."""
    from craflow.commands.sweep import fail, flow_failure
    from flows.export import export_flow
    from tasks.export import ArchivedRun

    state = export_flow(
        product=product, version=version, to=to, retain_years=retain_years, return_state=True
    )
    if not state.is_completed():
        raise fail(flow_failure(state))
    archived = state.result()
    if not isinstance(archived, ArchivedRun):
        raise fail(RuntimeError("the export returned nothing"))
    if as_json:
        typer.echo(archived.model_dump_json(indent=2))
        return
    verb = "archived" if archived.written else "already archived"
    typer.echo(f"{product} {version} {verb}: {archived.run_uri}")
    for obj in archived.objects:
        typer.echo(f"  {obj.name}  {obj.size} bytes  sha256 {obj.sha256}")


_HELP = help_with_examples(
    "Archive a version's technical file, compliance report and SBOM record in the "
    "evidence store (a new run folder with a manifest; objects are never overwritten).",
    [
        "craflow export --product shop --version 1.2.0 --to s3://evidence/cra",
        "craflow export -p shop -v 1.2.0 --to file:///srv/evidence --retain-years 10 --json",
    ],
    [
        "A rerun for the same evidence reuses the archived run folder (already archived); "
        "its manifest.json lists every object's size and SHA-256.",
        "Exit codes: 0 archived, 2 authentication, 3 API error, 4 unknown product or "
        "version or a bad --to, 6 configuration.",
    ],
)


def register(app: typer.Typer) -> None:
    """Add `craflow export` to *app*."""
    app.command("export", help=_HELP)(export)
