"""The portfolio sweep's pure logic (no Prefect, no I/O).

- `snapshot`: what one sweep saw of each version (stored as JSON in the archive).
- `delta`: what changed for a version since the previous sweep.
- `selection`: which products a sweep covers (all, exact slugs, or glob patterns).
- `portfolio`: the table rows and the markdown summary a sweep publishes.
- `targets`: the versions a sweep re-checks.
- `outcome`: the result a sweep returns, and the one-line failure message.
"""

from craflow.sweep.delta import StatusChange, VersionDelta, compute_delta
from craflow.sweep.outcome import ProductFailure, SweepFailedError, SweepOutcome, failure_message
from craflow.sweep.portfolio import change_summary, portfolio_rows, summary_markdown
from craflow.sweep.selection import select_slugs
from craflow.sweep.snapshot import (
    SeverityCounts,
    SweepSnapshot,
    VersionSnapshot,
    VulnerabilityHit,
    carry_forward,
)
from craflow.sweep.targets import TargetSelection, VersionTarget

__all__ = [
    "ProductFailure",
    "SeverityCounts",
    "StatusChange",
    "SweepFailedError",
    "SweepOutcome",
    "SweepSnapshot",
    "TargetSelection",
    "VersionDelta",
    "VersionSnapshot",
    "VersionTarget",
    "VulnerabilityHit",
    "carry_forward",
    "change_summary",
    "compute_delta",
    "failure_message",
    "portfolio_rows",
    "select_slugs",
    "summary_markdown",
]
