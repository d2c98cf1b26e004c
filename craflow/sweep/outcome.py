"""What a sweep returns, and the one line that names its failures."""

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from craflow.exitcodes import ExitCode


class ProductFailure(BaseModel):
    """A product that failed as a unit (any of its versions failed, or it was not found)."""

    model_config = ConfigDict(frozen=True)

    product: str
    reason: str


def failure_message(failures: Sequence[ProductFailure], total: int) -> str:
    """`"2 of 5 products failed: shop (scan failed on 1.2.0); api (not found)"`."""
    parts = "; ".join(f"{f.product} ({f.reason})" for f in failures)
    return f"{len(failures)} of {total} products failed: {parts}"


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
        if self.ok:
            return (
                f"{self.products_total} products, {self.versions_total} versions swept; "
                f"{self.versions_changed} changed"
            )
        return failure_message(self.products_failed, self.products_total)


class SweepFailedError(Exception):
    """Raised by a sweep with failed products; carries the full outcome (picklable)."""

    def __init__(self, outcome: SweepOutcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome

    def __reduce__(self) -> tuple[type["SweepFailedError"], tuple[SweepOutcome]]:
        return (type(self), (self.outcome,))
