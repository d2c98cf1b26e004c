"""Statuses and justifications between the platform and CycloneDX 1.6, OpenVEX 0.2.0, CSAF 2.0.

The tables, both ways, are documented in docs/vex.md. Where a format cannot tell two
platform statuses apart (CycloneDX `code_not_present`, OpenVEX `affected`, CSAF
`known_affected`...), craflow adds a hint when it writes (`craflow:status` /
`craflow:justification` properties in CycloneDX; a `craflow status: X.` prefix in
OpenVEX `status_notes` and CSAF remediation or threat details). A hint is only used when
it is consistent with what the format says, so a foreign or edited hint cannot turn
"affected" into "not affected".
"""

import re
from dataclasses import dataclass

from craflow.vex.model import JUSTIFICATIONS, STATUSES, Justification, Status

HINT_PREFIX = "craflow status: "
_HINT = re.compile(r"^craflow status: ([a-z_]{2,20})\.")

# -- CycloneDX 1.6 (vulnerabilities[].analysis) -------------------------------------------------

CDX_STATE: dict[str, str] = {
    "open": "in_triage",
    "in_progress": "in_triage",
    "fixed": "resolved",
    "not_affected": "not_affected",
    "false_positive": "false_positive",
    "accepted_risk": "exploitable",
    "wont_fix": "exploitable",
}
CDX_JUSTIFICATION: dict[str, str] = {
    "component_not_present": "code_not_present",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "requires_environment",
    "inline_mitigations_already_exist": "protected_by_mitigating_control",
}
_FROM_CDX_JUSTIFICATION: dict[str, Justification] = {
    "code_not_present": "vulnerable_code_not_present",
    "code_not_reachable": "vulnerable_code_not_in_execute_path",
    "requires_configuration": "vulnerable_code_cannot_be_controlled_by_adversary",
    "requires_dependency": "vulnerable_code_cannot_be_controlled_by_adversary",
    "requires_environment": "vulnerable_code_cannot_be_controlled_by_adversary",
    "protected_by_compiler": "inline_mitigations_already_exist",
    "protected_at_runtime": "inline_mitigations_already_exist",
    "protected_at_perimeter": "inline_mitigations_already_exist",
    "protected_by_mitigating_control": "inline_mitigations_already_exist",
}
_FROM_CDX_STATE: dict[str, Status] = {
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
    "not_affected": "not_affected",
    "false_positive": "false_positive",
    "in_triage": "in_progress",
    "exploitable": "open",
}
_NO_FIX_RESPONSES = frozenset({"will_not_fix", "can_not_fix"})

# -- OpenVEX 0.2.0 (statements[].status) --------------------------------------------------------

OPENVEX_STATUS: dict[str, str] = {
    "open": "under_investigation",
    "in_progress": "under_investigation",
    "fixed": "fixed",
    "not_affected": "not_affected",
    "false_positive": "not_affected",
    "accepted_risk": "affected",
    "wont_fix": "affected",
}
_FROM_OPENVEX: dict[str, Status] = {
    "under_investigation": "in_progress",
    "fixed": "fixed",
    "not_affected": "not_affected",
    "affected": "open",
}

# -- CSAF 2.0 csaf_vex (vulnerabilities[].product_status) ---------------------------------------

CSAF_STATUS: dict[str, str] = {
    "open": "under_investigation",
    "in_progress": "under_investigation",
    "fixed": "fixed",
    "not_affected": "known_not_affected",
    "false_positive": "known_not_affected",
    "accepted_risk": "known_affected",
    "wont_fix": "known_affected",
}
_FROM_CSAF: dict[str, Status] = {
    "under_investigation": "in_progress",
    "fixed": "fixed",
    "first_fixed": "fixed",
    "known_not_affected": "not_affected",
    "known_affected": "open",
    "first_affected": "open",
    "last_affected": "open",
}


@dataclass(frozen=True)
class Mapped:
    """A statement's status in the platform's words (None with a reason when unusable)."""

    status: Status | None
    justification: Justification | None = None
    reason: str = ""


def hint_text(status: str, text: str | None) -> str:
    """Free text that starts with the exact platform status (see the module docstring)."""
    return f"{HINT_PREFIX}{status}." + (f" {text}" if text else "")


def hint_of(text: object) -> str | None:
    match = _HINT.match(text) if isinstance(text, str) else None
    return match.group(1) if match else None


def strip_hint(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    return _HINT.sub("", text, count=1).strip() or None


def as_justification(value: object) -> Justification | None:
    for j in JUSTIFICATIONS:
        if value == j:
            return j
    return None


def _as_status(value: object) -> Status | None:
    for s in STATUSES:
        if value == s:
            return s
    return None


def _refine(base: Status, hint: object, said: object, table: dict[str, str]) -> Status:
    """The hinted status when the format *said* what craflow writes for it, else the base."""
    hinted = _as_status(hint)
    if hinted is not None and table[hinted] == said:
        return hinted
    return base


def _checked(status: Status, justification: Justification | None) -> Mapped:
    if status == "not_affected" and justification is None:
        return Mapped(None, None, "not_affected without a justification the platform accepts")
    if status not in ("not_affected", "false_positive"):
        justification = None
    return Mapped(status, justification)


def from_cyclonedx(
    state: object,
    justification: object,
    responses: tuple[str, ...],
    hints: tuple[object, object] = (None, None),
) -> Mapped:
    """A CycloneDX analysis (state, justification, responses) in the platform's words."""
    base = _FROM_CDX_STATE.get(state) if isinstance(state, str) else None
    if base is None:
        return Mapped(None, None, f"analysis state {state!r} is not a CycloneDX 1.6 state")
    if base == "open" and _NO_FIX_RESPONSES & set(responses):
        base = "wont_fix"
    status = _refine(base, hints[0], state, CDX_STATE)
    mapped_j = (
        _FROM_CDX_JUSTIFICATION.get(justification) if isinstance(justification, str) else None
    )
    hinted_j = as_justification(hints[1])
    if hinted_j is not None and CDX_JUSTIFICATION[hinted_j] == justification:
        mapped_j = hinted_j
    return _checked(status, mapped_j)


def from_openvex(status: object, justification: object, status_notes: object) -> Mapped:
    base = _FROM_OPENVEX.get(status) if isinstance(status, str) else None
    if base is None:
        return Mapped(None, None, f"status {status!r} is not an OpenVEX 0.2.0 status")
    hinted = _refine(base, hint_of(status_notes), status, OPENVEX_STATUS)
    return _checked(hinted, as_justification(justification))


def from_csaf(product_status: str, flag_label: object, details: object) -> Mapped:
    base = _FROM_CSAF.get(product_status)
    if base is None:
        return Mapped(None, None, f"product status {product_status!r} is not used by csaf_vex")
    if base == "open" and hint_of(details) is None and details is not None:
        base = "wont_fix"  # a no_fix_planned remediation without craflow's hint
    hinted = _refine(base, hint_of(details), product_status, CSAF_STATUS)
    return _checked(hinted, as_justification(flag_label))
