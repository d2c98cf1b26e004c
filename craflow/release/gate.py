"""The release gate: decide from open vulnerabilities and CRA status whether a version ships.

Only vulnerabilities whose status is `open` or `in_progress` count. The verdict
names every reason and the findings that decided it, and carries the exit code
the platform's CLI would use for the first (most important) reason.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

from craflow.exitcodes import ExitCode
from craflow.release.errors import GateConfigError
from craflow.release.vocabulary import is_open

Severity = Literal["critical", "high", "medium", "low", "unknown"]
FailOn = Literal["critical", "high", "medium", "low", "none"]
#: how a vulnerability without a known severity (no CVSS) is counted
UnknownAs = Literal["critical", "high", "medium", "low", "ignore"]

SEVERITY_ORDER: tuple[str, ...] = ("critical", "high", "medium", "low")
_SEVERITY_EXIT = {
    "critical": ExitCode.GATE_CRITICAL,
    "high": ExitCode.GATE_HIGH,
    "medium": ExitCode.GATE_MEDIUM,
    "low": ExitCode.GATE_LOW,
}


@dataclass(frozen=True)
class GatePolicy:
    """What blocks a release."""

    fail_on: FailOn = "high"
    new_only: bool = False
    fail_on_kev: bool = False
    require_ready: bool = False
    unknown_as: UnknownAs = "high"

    @staticmethod
    def check_option(value: str) -> str:
        """Return *value* if it is a severity option (`none`/`ignore` included), else raise."""
        if value not in (*SEVERITY_ORDER, "none", "ignore"):
            raise GateConfigError(
                f"severity must be one of critical, high, medium, low "
                f"(none for --fail-on, ignore for --unknown-as), got {value!r}"
            )
        return value

    def describe(self) -> str:
        """A stable one-line form, recorded with the evidence this policy decided."""
        return (
            f"fail_on={self.fail_on} unknown_as={self.unknown_as} new_only={self.new_only} "
            f"fail_on_kev={self.fail_on_kev} require_ready={self.require_ready}"
        )

    @classmethod
    def parse(
        cls,
        fail_on: str,
        *,
        new_only: bool = False,
        fail_on_kev: bool = False,
        require_ready: bool = False,
        unknown_as: UnknownAs = "high",
    ) -> "GatePolicy":
        """Build a policy from user text; an unknown severity is a `GateConfigError`."""
        value = fail_on.strip().lower()
        if value not in (*SEVERITY_ORDER, "none") or unknown_as not in (*SEVERITY_ORDER, "ignore"):
            raise GateConfigError(
                f"--fail-on must be one of critical, high, medium, low, none (got {fail_on!r}); "
                f"--unknown-as one of critical, high, medium, low, ignore (got {unknown_as!r})"
            )
        return cls(cast(FailOn, value), new_only, fail_on_kev, require_ready, unknown_as)


@dataclass(frozen=True)
class Finding:
    """One vulnerability as the gate sees it."""

    vuln_id: str
    severity: str
    status: str = "open"
    kev: bool = False
    component: str = ""
    purl: str = ""
    aliases: tuple[str, ...] = ()

    def ids(self) -> frozenset[str]:
        """The vulnerability's id and its aliases."""
        return frozenset((self.vuln_id, *self.aliases))


@dataclass(frozen=True)
class ReadinessFacts:
    """What the server says about the version's CRA readiness."""

    cra_floor_ready: bool
    release_policy_ready: bool
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateVerdict:
    """The gate's decision: passed or not, why, and the findings that decided it."""

    passed: bool
    exit_code: int
    reasons: tuple[str, ...]
    deciding: tuple[Finding, ...] = field(default=())
    counted: int = 0
    policy: str = ""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, written as `gate.json`."""
        return {
            "passed": self.passed,
            "exit_code": self.exit_code,
            "reasons": list(self.reasons),
            "policy": self.policy,
            "counted_vulnerabilities": self.counted,
            "deciding": [
                {
                    "vuln_id": f.vuln_id,
                    "severity": f.severity,
                    "status": f.status,
                    "kev": f.kev,
                    "component": f.component,
                    "purl": f.purl,
                }
                for f in self.deciding
            ],
        }


def blocking_severities(fail_on: str) -> tuple[str, ...]:
    """The severities that block at threshold *fail_on*, most severe first."""
    if fail_on == "none":
        return ()
    return SEVERITY_ORDER[: SEVERITY_ORDER.index(fail_on) + 1]


def counted_severity(finding: Finding, unknown_as: UnknownAs) -> str | None:
    """The severity the gate counts *finding* at: its own, or *unknown_as* without one."""
    own = finding.severity.lower()
    if own in SEVERITY_ORDER:
        return own
    return None if unknown_as == "ignore" else unknown_as


def _counted(findings: Iterable[Finding], new_ids: frozenset[str] | None) -> list[Finding]:
    kept = [f for f in findings if is_open(f.status)]
    if new_ids is not None:
        kept = [f for f in kept if f.ids() & new_ids]
    return kept


def evaluate_gate(
    policy: GatePolicy,
    findings: Sequence[Finding],
    *,
    readiness: ReadinessFacts,
    new_ids: Iterable[str] | None = None,
) -> GateVerdict:
    """Decide. *new_ids* (ids new since the previous release) is used with `new_only`.

    With `new_only` and no previous release (`new_ids` None) every finding is new.
    Exit-code precedence: the most severe blocking severity (10-13), then KEV or
    CRA floor not ready (20), then release policy not met (24).
    """
    wanted = frozenset(new_ids) if (policy.new_only and new_ids is not None) else None
    counted = _counted(findings, wanted)
    reasons: list[str] = []
    codes: list[int] = []
    deciding: list[Finding] = []
    scope = "new " if wanted is not None else ""

    for severity in blocking_severities(policy.fail_on):
        hits = [f for f in counted if counted_severity(f, policy.unknown_as) == severity]
        if hits:
            names = ", ".join(sorted(f.vuln_id for f in hits)[:5])
            more = f" and {len(hits) - 5} more" if len(hits) > 5 else ""
            unknown = sum(1 for f in hits if f.severity.lower() not in SEVERITY_ORDER)
            why = f" ({unknown} counted as {severity}: no CVSS)" if unknown else ""
            reasons.append(
                f"{len(hits)} open {scope}{severity} vulnerabilit"
                f"{'y' if len(hits) == 1 else 'ies'}: {names}{more}{why}"
            )
            codes.append(_SEVERITY_EXIT[severity])
            deciding.extend(hits)

    if policy.fail_on_kev:
        kev = [f for f in counted if f.kev]
        if kev:
            names = ", ".join(sorted(f.vuln_id for f in kev)[:5])
            reasons.append(
                f"{len(kev)} open {scope}KEV-listed vulnerabilit"
                f"{'y' if len(kev) == 1 else 'ies'}: {names}"
            )
            codes.append(ExitCode.CRA_FLOOR_NOT_READY)
            deciding.extend(f for f in kev if f not in deciding)

    if policy.require_ready:
        missing = f" (missing: {', '.join(readiness.missing)})" if readiness.missing else ""
        if not readiness.cra_floor_ready:
            reasons.append(f"CRA floor not ready{missing}")
            codes.append(ExitCode.CRA_FLOOR_NOT_READY)
        elif not readiness.release_policy_ready:
            reasons.append("release policy not met")
            codes.append(ExitCode.RELEASE_POLICY_NOT_MET)

    if not reasons:
        summary = f"{len(counted)} open {scope}vulnerabilities counted, none blocks"
        return GateVerdict(True, int(ExitCode.OK), (summary,), (), len(counted), policy.describe())
    return GateVerdict(
        False, int(codes[0]), tuple(reasons), tuple(deciding), len(counted), policy.describe()
    )
