import pytest

from craflow.release.gate import (
    Finding,
    GateConfigError,
    GatePolicy,
    ReadinessFacts,
    blocking_severities,
    evaluate_gate,
)

READY = ReadinessFacts(cra_floor_ready=True, release_policy_ready=True)
HIGH = Finding("PYSEC-2018-28", "high", aliases=("CVE-2018-18074",), component="requests")
CRIT = Finding("GHSA-crit", "critical")
MED = Finding("OSV-med", "medium")
LOW = Finding("OSV-low", "low")
KEV_LOW = Finding("CVE-kev", "low", kev=True)


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        ("critical", ("critical",)),
        ("high", ("critical", "high")),
        ("medium", ("critical", "high", "medium")),
        ("low", ("critical", "high", "medium", "low")),
        ("none", ()),
    ],
)
def test_blocking_severities(fail_on: str, expected: tuple[str, ...]) -> None:
    assert blocking_severities(fail_on) == expected


@pytest.mark.parametrize(
    ("fail_on", "findings", "passed", "code"),
    [
        ("high", [], True, 0),
        ("high", [HIGH], False, 11),
        ("high", [MED, LOW], True, 0),
        ("high", [HIGH, CRIT], False, 10),
        ("medium", [MED], False, 12),
        ("low", [LOW], False, 13),
        ("critical", [HIGH], True, 0),
        ("none", [CRIT, HIGH], True, 0),
    ],
)
def test_severity_threshold(fail_on: str, findings: list[Finding], passed: bool, code: int) -> None:
    verdict = evaluate_gate(GatePolicy.parse(fail_on), findings, readiness=READY)
    assert verdict.passed is passed
    assert verdict.exit_code == code


def test_only_open_and_in_progress_count() -> None:
    findings = [
        Finding("a", "critical", status="fixed"),
        Finding("b", "critical", status="not_affected"),
        Finding("c", "critical", status="accepted_risk"),
        Finding("d", "high", status="in_progress"),
    ]
    verdict = evaluate_gate(GatePolicy("high"), findings, readiness=READY)
    assert not verdict.passed
    assert verdict.exit_code == 11
    assert [f.vuln_id for f in verdict.deciding] == ["d"]
    assert verdict.counted == 1


def test_new_only_counts_only_new_ids_including_aliases() -> None:
    policy = GatePolicy("high", new_only=True)
    old = Finding("OLD-1", "critical")
    verdict = evaluate_gate(policy, [old, HIGH], readiness=READY, new_ids=["CVE-2018-18074"])
    assert verdict.exit_code == 11
    assert [f.vuln_id for f in verdict.deciding] == ["PYSEC-2018-28"]
    assert "new high" in verdict.reasons[0]
    assert evaluate_gate(policy, [old], readiness=READY, new_ids=[]).passed


def test_new_only_without_previous_counts_everything() -> None:
    verdict = evaluate_gate(GatePolicy("high", new_only=True), [CRIT], readiness=READY)
    assert verdict.exit_code == 10


def test_kev_blocks_only_when_asked() -> None:
    assert evaluate_gate(GatePolicy("high"), [KEV_LOW], readiness=READY).passed
    verdict = evaluate_gate(GatePolicy("high", fail_on_kev=True), [KEV_LOW], readiness=READY)
    assert (verdict.passed, verdict.exit_code) == (False, 20)
    assert "KEV" in verdict.reasons[0]


def test_severity_exit_code_wins_over_kev() -> None:
    kev_high = Finding("K", "high", kev=True)
    verdict = evaluate_gate(GatePolicy("high", fail_on_kev=True), [kev_high], readiness=READY)
    assert verdict.exit_code == 11
    assert len(verdict.reasons) == 2
    assert verdict.deciding == (kev_high,)


@pytest.mark.parametrize(
    ("floor", "policy_ready", "passed", "code"),
    [(True, True, True, 0), (False, False, False, 20), (True, False, False, 24)],
)
def test_require_ready(floor: bool, policy_ready: bool, passed: bool, code: int) -> None:
    facts = ReadinessFacts(floor, policy_ready, missing=("technical documentation",))
    verdict = evaluate_gate(GatePolicy("none", require_ready=True), [], readiness=facts)
    assert (verdict.passed, verdict.exit_code) == (passed, code)
    not_asked = evaluate_gate(GatePolicy("none"), [], readiness=facts)
    assert not_asked.passed


def test_reasons_list_at_most_five_ids() -> None:
    many = [Finding(f"V-{i}", "high") for i in range(7)]
    verdict = evaluate_gate(GatePolicy("high"), many, readiness=READY)
    assert verdict.reasons[0].endswith("and 2 more")
    assert verdict.to_dict()["counted_vulnerabilities"] == 7


@pytest.mark.parametrize("bad", ["severe", "", "HIGHEST"])
def test_unknown_fail_on_is_a_config_error(bad: str) -> None:
    with pytest.raises(GateConfigError, match="--fail-on"):
        GatePolicy.parse(bad)


def test_parse_normalises_case() -> None:
    assert GatePolicy.parse(" HIGH ").fail_on == "high"
