"""What one release run has learned so far, and how that becomes its `ReleaseOutcome`."""

import re
from dataclasses import dataclass, field
from typing import Any

from config.release import ReleaseSettings
from craflow.api import Comparison
from craflow.release.gate import GateVerdict
from craflow.release.outcome import ReleaseOutcome

_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")


def artifact_key(*parts: str) -> str:
    """A valid Prefect artifact key from *parts*: lowercase, digits, dashes (`1.2.0` → `1-2-0`)."""
    key = _NOT_ALLOWED.sub("-", "-".join(parts).lower()).strip("-")
    return key or "craflow"


@dataclass
class ReleaseRun:
    """Filled step by step by the release flow; `outcome()` turns it into the result."""

    product: str
    version: str
    settings: ReleaseSettings
    ci: dict[str, str]
    facts: dict[str, Any] = field(default_factory=dict)
    gate: GateVerdict | None = None
    comparison: Comparison | None = None
    quality_score: float | None = None

    def outcome(
        self, verdict: str, exit_code: int, reasons: list[str], **more: Any
    ) -> ReleaseOutcome:
        """The outcome with everything learned so far (*more* overrides facts)."""
        return ReleaseOutcome.model_validate(
            {
                "product": self.product,
                "version": self.version,
                "verdict": verdict,
                "exit_code": exit_code,
                "reasons": reasons,
                "ci": self.ci,
                **self.facts,
                **more,
            }
        )

    def key(self, *parts: str) -> str:
        """An artifact key of this run: `release-<product>-<version>-<parts>`."""
        return artifact_key("release", self.product, self.version, *parts)
