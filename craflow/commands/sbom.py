"""`craflow sbom` commands: generate, check, convert, read.

Heavy imports (cyclonedx-python-lib, jsonschema-rs) happen inside the commands so that
`craflow --help` stays fast.
"""

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from craflow.exitcodes import ExitCode

sbom_app = typer.Typer(
    name="sbom",
    help=(
        "Build, read, check and convert SBOMs.\n\n"
        "Examples:\n\n"
        "  craflow sbom generate --from env .venv -o sbom.cdx.json"
        " --product shop --version 1.2.0\n\n"
        "  craflow sbom generate --from uv-lock uv.lock -o sbom.cdx.json --reproducible\n\n"
        "  craflow sbom check sbom.cdx.json --profile bsi --fail-under 70\n\n"
        "  craflow sbom convert old-1.2.xml -o new.cdx.json --spec 1.6 --format json"
    ),
    no_args_is_help=True,
)

_FROM_HELP = (
    "Where packages come from: env [PYTHON|VENV], requirements FILE, uv-lock FILE, "
    'poetry-lock FILE, pylock FILE, command "GENERATOR ... {out}", file SBOM.'
)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@sbom_app.command("generate")
def generate(  # noqa: PLR0917 - typer options are positional parameters
    from_: Annotated[
        tuple[str, str],
        typer.Option("--from", help=_FROM_HELP + " Use `env -` for the current interpreter."),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    spec: Annotated[str | None, typer.Option(help="CycloneDX version: 1.5, 1.6 or 1.7.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or xml.")] = "json",
    product: Annotated[
        str | None, typer.Option(help="Product name (default: pyproject.toml).")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="Product version.")] = None,
    reproducible: Annotated[
        bool, typer.Option(help="Fix the timestamp (SOURCE_DATE_EPOCH) for byte-identical output.")
    ] = False,
) -> None:
    """Build a validated CycloneDX SBOM (1.6 by default) from an environment, lockfile or tool.

    Examples: `craflow sbom generate --from env - -o sbom.json --product shop --version 1.0`;
    `craflow sbom generate --from requirements requirements.txt -o sbom.xml --format xml`;
    `craflow sbom generate --from command "syft dir:. -o cyclonedx-json={out}" -o sbom.json`.
    """
    from config.sbom import SbomSettings
    from craflow.sbom import Creator, SbomError, generate_sbom, write_sbom
    from craflow.sbom.prepared import component_count

    settings = SbomSettings()
    source, target = from_
    chosen_spec = spec or settings.default_spec
    if fmt not in ("json", "xml"):
        raise _fail(f"--format must be json or xml, not {fmt!r}", ExitCode.AUTH_OR_USAGE)
    if chosen_spec not in ("1.5", "1.6", "1.7"):
        raise _fail(f"--spec must be 1.5, 1.6 or 1.7, not {chosen_spec!r}", ExitCode.AUTH_OR_USAGE)
    encoding: Literal["json", "xml"] = "json" if fmt == "json" else "xml"
    try:
        bom = generate_sbom(
            source,
            None if (source == "env" and target == "-") else target,
            product=product,
            version=version,
            spec=chosen_spec,
            reproducible=reproducible,
            creator=Creator(settings.creator_name, settings.creator_email, settings.creator_url),
            lifecycle=settings.lifecycle_phase,
            max_bytes=settings.max_input_bytes,
            max_depth=settings.max_json_depth,
            command_timeout=settings.command_timeout_seconds,
            inspect_timeout=settings.inspect_timeout_seconds,
            chunk_bytes=settings.hash_chunk_bytes,
            reproducible_epoch=settings.reproducible_epoch,
        )
        write_sbom(bom, output, spec=chosen_spec, fmt=encoding)
    except SbomError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    typer.echo(
        f"wrote {output}: CycloneDX {chosen_spec} {fmt.upper()}, {component_count(bom)} components"
    )


@sbom_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="CycloneDX (JSON/XML) or SPDX JSON file.")],
    profile: Annotated[str, typer.Option(help="ntia or bsi (TR-03183-2 v2.1).")] = "bsi",
    fail_under: Annotated[
        int | None, typer.Option(min=0, max=100, help="Exit 14 when the score is below this.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Report which minimum elements an SBOM has, and for what share of its components.

    Examples: `craflow sbom check sbom.json`; `craflow sbom check sbom.xml --profile ntia --json`;
    `craflow sbom check sbom.json --fail-under 80` (exit 14 below 80).
    """
    from config.sbom import SbomSettings
    from craflow.sbom import SbomError, check_quality

    if profile not in ("ntia", "bsi"):
        raise _fail(f"--profile must be ntia or bsi, not {profile!r}", ExitCode.AUTH_OR_USAGE)
    settings = SbomSettings()
    try:
        report = check_quality(
            file,
            "ntia" if profile == "ntia" else "bsi",
            max_bytes=settings.max_input_bytes,
            max_depth=settings.max_json_depth,
        )
    except SbomError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(report.to_markdown())
    if fail_under is not None and report.score < fail_under:
        typer.echo(f"quality {report.score} is below {fail_under}", err=True)
        raise typer.Exit(ExitCode.SBOM_QUALITY)


@sbom_app.command("convert")
def convert(
    file: Annotated[Path, typer.Argument(help="CycloneDX file (JSON or XML, 1.2 to 1.7).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    spec: Annotated[str, typer.Option(help="Target CycloneDX version (1.2 to 1.7).")] = "1.6",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="json or xml (default: from the output name, .json/.xml, else as the input).",
        ),
    ] = None,
) -> None:
    """Rewrite a CycloneDX SBOM at another spec version or format, keeping every component.

    Example: `craflow sbom convert bom-1.2.xml -o bom.cdx.json --spec 1.6 --format json`.
    """
    from config.sbom import SbomSettings
    from craflow.sbom import SbomError, convert_sbom, read_sbom

    if fmt not in (None, "json", "xml"):
        raise _fail(f"--format must be json or xml, not {fmt!r}", ExitCode.AUTH_OR_USAGE)
    settings = SbomSettings()
    encoding: Literal["json", "xml"] | None = (
        None if fmt is None else ("json" if fmt == "json" else "xml")
    )
    try:
        written = convert_sbom(
            file,
            output,
            spec=spec,
            fmt=encoding,
            max_bytes=settings.max_input_bytes,
            max_depth=settings.max_json_depth,
        )
        doc = read_sbom(written, max_bytes=settings.max_input_bytes)
    except SbomError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    typer.echo(f"wrote {written}: {doc.summary()}")


@sbom_app.command("read")
def read(
    file: Annotated[Path, typer.Argument(help="CycloneDX (JSON/XML) or SPDX JSON file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print an SBOM's format, spec version, component count and problems.

    Example: `craflow sbom read bom.xml`.
    """
    from config.sbom import SbomSettings
    from craflow.sbom import SbomError, read_sbom

    settings = SbomSettings()
    try:
        doc = read_sbom(file, max_bytes=settings.max_input_bytes, max_depth=settings.max_json_depth)
    except SbomError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "format": doc.format,
                    "encoding": doc.encoding,
                    "spec_version": doc.spec_version,
                    "component_count": doc.component_count,
                    "sha256": doc.sha256,
                    "size_bytes": doc.size_bytes,
                    "problems": list(doc.problems),
                },
                indent=2,
            )
        )
        return
    typer.echo(f"{file}: {doc.summary()}")
    for problem in doc.problems:
        typer.echo(f"  - {problem}")


def register(app: typer.Typer) -> None:
    """Add `craflow sbom ...` to *app*."""
    app.add_typer(sbom_app, name="sbom")
