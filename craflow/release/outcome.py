"""The result of one release run, and the one vocabulary that names it everywhere.

Four verdicts, one word each on the terminal, in the Prefect state, in the summary
artifact and in the event payload (`VERDICTS` below is the only table):

- `passed`  (exit 0): gate passed, promoted (or not asked to) and archived; state Completed.
- `blocked` (exit 10-13/20/24): the gate or the server's release policy refused the
  release; state Failed named "Blocked"; event `craflow.release.blocked`.
- `pending` (exit 75): the scan did not finish by the deadline; nothing promoted;
  state Completed named "Pending".
- `failed`  (exit 2-6): an error stopped the run (API, SBOM, archive, configuration);
  state Failed; event `craflow.release.failed`.
"""

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from craflow.exitcodes import ExitCode

Verdict = Literal["passed", "blocked", "pending", "failed"]


@dataclass(frozen=True)
class VerdictWords:
    """How one verdict reads in each place it shows."""

    label: str  #: the terminal's word, e.g. BLOCKED
    state_name: str  #: the Prefect state's name, e.g. Blocked
    state_type: Literal["COMPLETED", "FAILED"]  #: the Prefect state's type
    event: str  #: the event emitted when a run ends with it


#: the one vocabulary: verdict → terminal label, state name and type, event name
VERDICTS: dict[Verdict, VerdictWords] = {
    "passed": VerdictWords("PASSED", "Completed", "COMPLETED", "craflow.release.completed"),
    "blocked": VerdictWords("BLOCKED", "Blocked", "FAILED", "craflow.release.blocked"),
    "pending": VerdictWords("PENDING", "Pending", "COMPLETED", "craflow.release.completed"),
    "failed": VerdictWords("FAILED", "Failed", "FAILED", "craflow.release.failed"),
}


def words(verdict: Verdict) -> VerdictWords:
    """The words of *verdict* (see `VERDICTS`)."""
    return VERDICTS[verdict]


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
    def label(self) -> str:
        """The verdict as the terminal shows it: PASSED, BLOCKED, PENDING or FAILED."""
        return words(self.verdict).label

    @property
    def message(self) -> str:
        """One line for a flow-state message or a terminal."""
        why = "; ".join(self.reasons) if self.reasons else "no reasons recorded"
        return f"{self.product} {self.version}: {self.verdict} (exit {self.exit_code}): {why}"


def pending_exit_code() -> int:
    """Exit code of a release whose scan did not finish by the deadline."""
    return int(ExitCode.PENDING)
