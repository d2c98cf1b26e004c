"""The values of the VEX layer: findings as the platform keeps them, statements as VEX says them.

The platform's vocabulary is the one home of statuses and justifications
(API-CONTRACT.md sections 2 and 7); every format maps to and from it in `mapping`.
"""

from dataclasses import dataclass, field
from typing import Literal

from craflow.release.vocabulary import OPEN_STATUSES

Status = Literal[
    "open",
    "in_progress",
    "fixed",
    "not_affected",
    "false_positive",
    "accepted_risk",
    "wont_fix",
]
Justification = Literal[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
]
VexFormat = Literal["cyclonedx", "openvex", "csaf"]

STATUSES: tuple[Status, ...] = (
    "open",
    "in_progress",
    "fixed",
    "not_affected",
    "false_positive",
    "accepted_risk",
    "wont_fix",
)
JUSTIFICATIONS: tuple[Justification, ...] = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
FORMATS: tuple[VexFormat, ...] = ("cyclonedx", "openvex", "csaf")
#: Statuses that still count against a release gate (the gate's own definition)
COUNTING: frozenset[str] = OPEN_STATUSES
#: A triaged finding: someone decided something other than "still open"
TRIAGED: frozenset[str] = frozenset(STATUSES) - COUNTING
MAX_NOTES_CHARS = 10_000


def id_set(vuln_id: str, aliases: tuple[str, ...]) -> frozenset[str]:
    """A vulnerability's id and aliases, upper-cased: what two records match on."""
    return frozenset(i.upper() for i in (vuln_id, *aliases) if i)


@dataclass(frozen=True)
class Finding:
    """One vulnerability on one component of one version, as the platform reports it."""

    id: str
    vuln_id: str
    component_name: str
    component_version: str = ""
    purl: str | None = None
    aliases: tuple[str, ...] = ()
    status: str = "open"
    justification: str | None = None
    notes: str | None = None
    severity: str = "unknown"
    kev: bool = False

    @property
    def ids(self) -> frozenset[str]:
        """The vulnerability id and its aliases, upper-cased for matching."""
        return id_set(self.vuln_id, self.aliases)


@dataclass(frozen=True)
class Statement:
    """One VEX statement in the platform's vocabulary: this vulnerability, this component."""

    vuln_id: str
    status: Status
    purl: str | None = None
    component_name: str | None = None
    aliases: tuple[str, ...] = ()
    justification: Justification | None = None
    note: str | None = None

    @property
    def ids(self) -> frozenset[str]:
        """The vulnerability id and its aliases, upper-cased for matching."""
        return id_set(self.vuln_id, self.aliases)


@dataclass(frozen=True)
class Skipped:
    """A statement of a document that cannot be used, and why."""

    vuln_id: str
    product: str
    reason: str


@dataclass(frozen=True)
class VexDocument:
    """What a reader found: the format, the usable statements and the unusable ones."""

    format: VexFormat
    statements: tuple[Statement, ...]
    skipped: tuple[Skipped, ...] = field(default=())


@dataclass(frozen=True)
class Subject:
    """What a written VEX document is about: the product and version, and who wrote it."""

    product: str
    version: str
    author: str = "craflow"
    timestamp: str = ""  # ISO 8601 UTC; the writer's clock when empty


def collect(
    found: tuple[list[Statement], list[Skipped]],
    mapped_status: tuple[Status | None, Justification | None, str],
    *,
    vuln_id: str,
    purl: str | None,
    label: str,
    aliases: tuple[str, ...],
    note: str | None,
) -> None:
    """Add one statement to the readers' (statements, skipped) pair: usable or not, and why."""
    status, justification, reason = mapped_status
    statements, skipped = found
    if status is None:
        skipped.append(Skipped(vuln_id, label, reason))
        return
    statements.append(
        Statement(
            vuln_id=vuln_id,
            status=status,
            purl=purl,
            component_name=label,
            aliases=aliases,
            justification=justification,
            note=note,
        )
    )
