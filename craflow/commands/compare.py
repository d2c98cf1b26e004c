"""`craflow compare`: what changed between two versions of a product."""

# Prefect and the flows are imported inside the commands so `craflow --help` stays fast.

from typing import Annotated

import typer

from craflow.commands.helptext import help_with_examples


def compare(
    base: Annotated[str, typer.Argument(help="The earlier version number (A).")],
    target: Annotated[str, typer.Argument(help="The later version number (B).")],
    product: Annotated[str, typer.Option("--product", "-p", help="Product slug.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Compare version A with version B: components added, removed, changed; vulns new, fixed."""
    from rich.console import Console
    from rich.table import Table

    from craflow.api.models import Comparison
    from craflow.commands.sweep import fail, flow_failure
    from craflow.release.comparison import comparison_rows
    from flows.compare import compare_flow

    state = compare_flow(product=product, base=base, target=target, return_state=True)
    if not state.is_completed():
        raise fail(flow_failure(state))
    comparison = state.result()
    if not isinstance(comparison, Comparison):
        raise fail(RuntimeError("the comparison returned nothing"))
    if as_json:
        typer.echo(comparison.model_dump_json(indent=2))
        return
    s, d = comparison.summary, comparison.vulnerability_diff
    console = Console()
    table = Table(title=f"{product}: {base} → {target}")
    for column in ("change", "name", "before", "after"):
        table.add_column(column)
    for row in comparison_rows(comparison):
        table.add_row(row["change"], row["name"], row["before"], row["after"])
    console.print(table)
    console.print(
        f"components: {s.added} added, {s.removed} removed, {s.modified} changed, "
        f"{s.unchanged} unchanged; vulnerabilities: {d.new} new, {d.fixed} fixed",
        markup=False,
        highlight=False,
    )


_HELP = help_with_examples(
    "Compare version A with version B of a product: components added, removed and "
    "changed; vulnerabilities new and fixed. Runs as a Prefect flow and publishes the "
    "comparison as a table artifact.",
    [
        "craflow compare 1.1.0 1.2.0 --product shop",
        "craflow compare 1.1.0 1.2.0 -p shop --json > diff.json",
    ],
    ["Exit codes: 0 compared, 2 authentication, 3 API error, 4 unknown product or version."],
)


def register(app: typer.Typer) -> None:
    """Add `craflow compare` to *app*."""
    app.command("compare", help=_HELP)(compare)
