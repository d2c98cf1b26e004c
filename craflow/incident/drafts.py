"""Drafts of the three Art. 14(2) submissions: structured JSON and readable markdown.

Each draft is a list of fields, each naming the legal text it answers. What
craflow knows is filled in; what only the manufacturer can know is left empty
and marked `needs_person`. A person reads, completes and submits — craflow never
submits to the single reporting platform itself.
"""

from dataclasses import asdict, dataclass
from datetime import datetime

from craflow.incident.clock import deadlines
from craflow.incident.markets import member_states
from craflow.incident.model import Case, Stage

FieldValue = str | float | list[str] | None

LAW = "Regulation (EU) 2024/2847"


@dataclass(frozen=True)
class DraftField:
    key: str
    label: str
    article: str
    value: FieldValue
    needs_person: bool
    hint: str = ""


@dataclass(frozen=True)
class Draft:
    case_id: str
    stage: Stage
    article: str
    deadline: datetime | None
    fields: tuple[DraftField, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "case_id": self.case_id,
            "stage": self.stage.value,
            "legal_basis": f"{LAW}, Article {self.article}",
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "submitted_by_craflow": False,
            "fields": [asdict(f) for f in self.fields],
        }

    def to_markdown(self) -> str:
        title = _TITLES[self.stage]
        due = self.deadline.isoformat() if self.deadline else "not set yet (no fix released)"
        lines = [
            f"# {title} — {self.case_id}",
            "",
            f"Legal basis: {LAW}, Article {self.article}. Deadline: {due}.",
            "",
            "> Draft prepared by craflow. A person checks every value, completes the fields",
            "> marked **TO FILL**, and submits it through the single reporting platform.",
            "",
        ]
        for f in self.fields:
            lines += [f"## {f.label} ({f.article})", "", _md_value(f), ""]
        return "\n".join(lines)


_TITLES = {
    Stage.EARLY_WARNING: "Early warning",
    Stage.NOTIFICATION: "Vulnerability notification",
    Stage.FINAL: "Final report",
}
_ARTICLES = {
    Stage.EARLY_WARNING: "14(2)(a)",
    Stage.NOTIFICATION: "14(2)(b)",
    Stage.FINAL: "14(2)(c)",
}


def _md_value(f: DraftField) -> str:
    if f.needs_person and not f.value:
        return f"**TO FILL (person):** {f.hint}"
    text = ", ".join(f.value) if isinstance(f.value, list) else str(f.value)
    if f.needs_person:
        return f"{text}\n\n**TO CHECK (person):** {f.hint}"
    return text


def _known(key: str, label: str, article: str, value: FieldValue, hint: str = "") -> DraftField:
    empty = value is None or value in ("", [])
    return DraftField(key, label, article, value, needs_person=empty, hint=hint)


def _person(key: str, label: str, article: str, hint: str, value: FieldValue = None) -> DraftField:
    return DraftField(key, label, article, value, needs_person=True, hint=hint)


def _exploitation(case: Case) -> str | None:
    facts = case.opened.facts
    if facts.kev_date_added is None and case.opened.source != "kev":
        return None
    added = facts.kev_date_added or "unknown"
    text = f"Listed in the CISA Known Exploited Vulnerabilities catalogue (dateAdded {added})"
    if facts.kev_known_ransomware_use:
        text += f"; knownRansomwareCampaignUse: {facts.kev_known_ransomware_use}"
    return text + "."


def _nature(case: Case) -> str | None:
    facts = case.opened.facts
    parts = [facts.summary] if facts.summary else []
    if facts.cwe_ids:
        parts.append("Weakness: " + ", ".join(facts.cwe_ids))
    if facts.component and (facts.component.purl or facts.component.name):
        parts.append(f"Component: {facts.component.purl or facts.component.name}")
    return ". ".join(parts) or None


def _severity(case: Case) -> str | None:
    facts = case.opened.facts
    parts = [facts.severity] if facts.severity else []
    if facts.cvss_score is not None:
        parts.append(f"CVSS {facts.cvss_score}")
    if facts.cvss_vector:
        parts.append(facts.cvss_vector)
    return ", ".join(parts) or None


def _fix(case: Case) -> str | None:
    if case.fix is None:
        return None
    return (
        f"Version {case.fix.version} of {case.opened.product} fixes it "
        f"(released {case.fix.released_at.isoformat()})."
    )


def _product(case: Case) -> str:
    name = case.opened.product_name or case.opened.product
    versions = ", ".join(case.affected_versions) or "none recorded"
    return f"{name} (slug {case.opened.product}); affected released versions: {versions}"


def _common(case: Case, article: str) -> list[DraftField]:
    ids = [case.opened.vulnerability, *case.opened.facts.aliases]
    return [
        _known("product", "Product with digital elements", article, _product(case)),
        _known(
            "affected_versions",
            "Affected released versions",
            article,
            list(case.affected_versions),
            "Which released versions contain the component at an affected version.",
        ),
        _known("vulnerability", "Vulnerability identifiers", article, ids),
        DraftField(
            "became_aware_at",
            "Manufacturer became aware",
            "14(2)",
            case.became_aware_at.isoformat(),
            needs_person=True,
            hint="Confirm when the manufacturer became aware; the clock starts here.",
        ),
    ]


def _early_warning(case: Case) -> list[DraftField]:
    art = "14(2)(a)"
    eu, other = member_states(case.opened.target_markets)
    hint = "Member States where the product is made available."
    if other:
        hint += f" Non-EU markets left out: {', '.join(other)}."
    return [
        *_common(case, art),
        _known("member_states", "Member States where made available", art, eu, hint),
        _known(
            "exploitation",
            "Evidence of active exploitation",
            art,
            _exploitation(case),
            "What shows the vulnerability is actively exploited (telemetry, CSIRT, vendor).",
        ),
        _person(
            "assessment",
            "Manufacturer's assessment",
            art,
            "Is the product exploitable through this component? A KEV hit is a signal, not proof.",
        ),
    ]


def _notification(case: Case) -> list[DraftField]:
    art = "14(2)(b)"
    facts = case.opened.facts
    upgrades = [
        f"{(facts.component.name if facts.component else None) or 'component'} {v}"
        for v in facts.fixed_upstream
    ]
    return [
        *_common(case, art),
        _known("vulnerability_nature", "General nature of the vulnerability", art, _nature(case)),
        _known("severity", "Severity", art, _severity(case)),
        _person(
            "exploit_nature",
            "General nature of the exploit",
            art,
            "How it is exploited against this product.",
            _exploitation(case),
        ),
        _known(
            "corrective_measures_taken",
            "Corrective or mitigating measures taken",
            art,
            _fix(case),
            "What the manufacturer has done (a fixed release, a configuration change).",
        ),
        _person(
            "user_measures",
            "Corrective or mitigating measures users can take",
            art,
            "What users should do; upstream fixed versions are listed.",
            upgrades or None,
        ),
        _person(
            "sensitivity",
            "How sensitive the manufacturer deems the information",
            art,
            "E.g. a TLP label, and what must not be shared further.",
        ),
    ]


def _final(case: Case) -> list[DraftField]:
    art = "14(2)(c)"
    facts = case.opened.facts
    return [
        *_common(case, art),
        _known("description", "Description of the vulnerability", f"{art}(i)", _nature(case)),
        _known("severity", "Severity", f"{art}(i)", _severity(case)),
        _person(
            "impact",
            "Impact",
            f"{art}(i)",
            "What an attacker gains on this product; who is affected.",
        ),
        _person(
            "malicious_actor",
            "Malicious actor, where available",
            f"{art}(ii)",
            "Who exploited or exploits it, if known.",
            f"knownRansomwareCampaignUse: {facts.kev_known_ransomware_use}"
            if facts.kev_known_ransomware_use
            else None,
        ),
        _known(
            "security_update",
            "Security update or other corrective measures",
            f"{art}(iii)",
            _fix(case),
            "The release or measure that remedies it.",
        ),
        _known(
            "fixed_upstream",
            "Fixed upstream versions of the component",
            f"{art}(iii)",
            list(facts.fixed_upstream),
            "Upstream versions that fix the component, if any.",
        ),
    ]


_BUILDERS = {
    Stage.EARLY_WARNING: _early_warning,
    Stage.NOTIFICATION: _notification,
    Stage.FINAL: _final,
}


def build_draft(case: Case, stage: Stage) -> Draft:
    """The pre-filled draft of `stage` for `case`."""
    return Draft(
        case_id=case.case_id,
        stage=stage,
        article=_ARTICLES[stage],
        deadline=deadlines(case)[stage],
        fields=tuple(_BUILDERS[stage](case)),
    )
