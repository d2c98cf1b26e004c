"""The result of one release run and how it maps to a process exit code.

Three verdicts: `passed` (exit 0), `failed` (the gate blocked, exit 10-13/20/24,
or an error stopped the run, exit 2-6), `pending` (the scan was not finished
by the deadline, exit 75; nothing was promoted).
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from craflow.exitcodes import ExitCode

Verdict = Literal["passed", "failed", "pending"]


class ReleaseOutcome(BaseModel):
    """What a release run decided and did; printed by `craflow release --json`."""

    model_config = ConfigDict(frozen=True)

    product: str
    version: str
    verdict: Verdict
    exit_code: int = Field(ge=0, le=255)
    reasons: list[str] = Field(default_factory=list)
    product_id: str | None = None
    version_id: str | None = None
    previous_version: str | None = None
    previous_version_id: str | None = None
    sbom_id: str | None = None
    sbom_sha256: str | None = None
    uploaded: bool = False
    scan_state: str | None = None
    promoted_to: str | None = None
    deprecated_previous: bool = False
    archive_uri: str | None = None
    exported: bool = False
    triage_carried: str | None = None
    ci: dict[str, str] = Field(default_factory=dict)
    error: str | None = None

    @property
    def message(self) -> str:
        """One line for a flow-state message or a terminal."""
        why = "; ".join(self.reasons) if self.reasons else "no reasons recorded"
        return f"{self.product} {self.version}: {self.verdict} (exit {self.exit_code}): {why}"


def pending_exit_code() -> int:
    """Exit code of a release whose scan did not finish by the deadline."""
    return int(ExitCode.PENDING)
