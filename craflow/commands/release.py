"""`craflow release` commands (not yet implemented)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to *app* (nothing yet)."""
