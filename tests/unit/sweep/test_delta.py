from craflow.sweep import (
    StatusChange,
    VersionSnapshot,
    VulnerabilityHit,
    carry_forward,
    compute_delta,
)


def hit(vid: str, component: str = "requests", *, kev: bool = False) -> VulnerabilityHit:
    return VulnerabilityHit(vuln_id=vid, severity="high", kev=kev, component=component)


def snap(*hits: VulnerabilityHit, cra: str = "ready", error: str | None = None) -> VersionSnapshot:
    return VersionSnapshot(
        product="shop",
        version="1.0.0",
        version_id="v1",
        cra_status=cra,
        vulnerabilities=hits,
        error=error,
    )


def test_unchanged_version_has_no_delta() -> None:
    delta = compute_delta(snap(hit("A")), snap(hit("A")))
    assert not delta.changed
    assert not delta.baseline


def test_new_and_resolved_vulnerabilities_are_keyed_by_advisory_and_component() -> None:
    before = snap(hit("A"), hit("B", "flask"))
    after = snap(hit("A"), hit("B", "jinja2"), hit("C"))
    delta = compute_delta(before, after)
    assert [(h.vuln_id, h.component) for h in delta.new] == [("B", "jinja2"), ("C", "requests")]
    assert [(h.vuln_id, h.component) for h in delta.resolved] == [("B", "flask")]
    assert delta.changed


def test_a_vulnerability_that_becomes_kev_listed_is_a_new_kev_entry_but_not_new() -> None:
    delta = compute_delta(snap(hit("A")), snap(hit("A", kev=True)))
    assert delta.new == ()
    assert [h.vuln_id for h in delta.new_kev] == ["A"]


def test_an_already_known_kev_hit_is_not_reported_again() -> None:
    delta = compute_delta(snap(hit("A", kev=True)), snap(hit("A", kev=True)))
    assert delta.new_kev == ()


def test_cra_status_change_is_reported_with_both_ends() -> None:
    delta = compute_delta(snap(cra="ready"), snap(cra="incomplete"))
    assert delta.cra_status == StatusChange(before="ready", after="incomplete")


def test_first_sweep_is_a_baseline_that_reports_only_kev_hits() -> None:
    delta = compute_delta(None, snap(hit("A"), hit("K", kev=True)))
    assert delta.baseline
    assert delta.new == ()
    assert [h.vuln_id for h in delta.new_kev] == ["K"]


def test_a_failed_scan_reports_the_failure_and_no_vulnerability_changes() -> None:
    previous = snap(hit("A"))
    current = carry_forward(
        previous,
        product="shop",
        version="1.0.0",
        version_id="v1",
        release_state="released",
        error="scan failed",
    )
    assert current.vulnerabilities == previous.vulnerabilities
    delta = compute_delta(previous, current)
    assert delta.scan_failure == "scan failed"
    assert (delta.new, delta.resolved, delta.new_kev) == ((), (), ())
    assert delta.changed


def test_after_a_failure_without_data_the_next_good_sweep_is_a_baseline() -> None:
    failed = carry_forward(
        None, product="shop", version="1.0.0", version_id="v1", release_state=None, error="x"
    )
    assert not failed.has_data
    delta = compute_delta(failed, snap(hit("A")))
    assert delta.baseline
    assert delta.new == ()
