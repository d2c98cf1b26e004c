"""Help texts with examples: one layout for every command's `--help`.

`help_with_examples(summary, examples, notes)` renders the summary, the notes (one
paragraph each) and an "Examples:" section; typer keeps blank-line paragraphs.
"""

from collections.abc import Sequence


def help_with_examples(summary: str, examples: Sequence[str], notes: Sequence[str] = ()) -> str:
    """The help text of a command: summary, notes, then `Examples:` with one per paragraph."""
    parts = [summary, *notes, "Examples:", *(f"  {e}" for e in examples)]
    return "\n\n".join(parts)
