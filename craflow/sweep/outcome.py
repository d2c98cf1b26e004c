"""What a sweep returns, and the one line that names its failures."""

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from craflow.exitcodes import ExitCode


class ProductFailure(BaseModel):
    """A product that failed as a unit (any of its versions failed, or it was not found)."""

    model_config = ConfigDict(frozen=True)

    product: str
    reason: str


def plural(count: int, noun: str) -> str:
    """`1 product`, `2 products`, `0 versions` (nouns that take an -s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def failure_message(failures: Sequence[ProductFailure], total: int) -> str:
    """`"2 of 5 products failed: shop (scan failed on 1.2.0); api (not found)"`."""
    parts = "; ".join(f"{f.product} ({f.reason})" for f in failures)
    noun = "product" if total == 1 else "products"
    return f"{len(failures)} of {total} {noun} failed: {parts}"


class SweepOutcome(BaseModel):
    """The result of one sweep, returned by `sweep_flow` and printed by `craflow sweep --json`."""

    run_id: str
    products_total: int
    products_failed: list[ProductFailure] = Field(default_factory=list)
    versions_total: int = 0
    versions_changed: int = 0
    kev_detected: int = 0
    rows: list[dict[str, str | int]] = Field(default_factory=list)
    changes: list[str] = Field(default_factory=list)
    snapshot_uri: str | None = None
    exports: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.products_failed

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.API_ERROR

    @property
    def message(self) -> str:
        """The one-line portfolio verdict (the sweep run's state message)."""
        if not self.ok:
            return failure_message(self.products_failed, self.products_total)
        line = (
            f"{plural(self.products_total, 'product')}, "
            f"{plural(self.versions_total, 'version')} swept; {self.versions_changed} changed"
        )
        if self.kev_detected:
            line += f"; {plural(self.kev_detected, 'new KEV hit')}"
        return line


class SweepFailedError(Exception):
    """Raised by a sweep with failed products; carries the full outcome (picklable)."""

    def __init__(self, outcome: SweepOutcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome

    def __reduce__(self) -> tuple[type["SweepFailedError"], tuple[SweepOutcome]]:
        return (type(self), (self.outcome,))
