from craflow.exitcodes import ExitCode
from craflow.sweep import (
    ProductFailure,
    SeverityCounts,
    StatusChange,
    SweepOutcome,
    VersionDelta,
    VersionSnapshot,
    VulnerabilityHit,
    change_summary,
    failure_message,
    portfolio_rows,
    summary_markdown,
)

HIT = VulnerabilityHit(vuln_id="GHSA-1", kev=True, component="jinja2")


def test_change_summary_names_every_kind_of_change() -> None:
    delta = VersionDelta(
        product="p",
        version="1",
        new=(HIT,),
        new_kev=(HIT,),
        cra_status=StatusChange(before="ready", after="incomplete"),
    )
    assert change_summary(delta) == "+1 new, KEV +1, CRA ready → incomplete"
    assert change_summary(None) == "no change"
    assert change_summary(VersionDelta(product="p", version="1", scan_failure="boom")) == (
        "scan failed: boom"
    )


def test_rows_are_sorted_and_carry_counts_and_change() -> None:
    snaps = [
        VersionSnapshot(product="b", version="2", version_id="x", kev_count=1),
        VersionSnapshot(
            product="a",
            version="1",
            version_id="y",
            release_state="released",
            cra_status="ready",
            counts=SeverityCounts(critical=1, high=2, medium=3, low=4),
        ),
    ]
    deltas = {"a/1": VersionDelta(product="a", version="1", resolved=(HIT,))}
    rows = portfolio_rows(snaps, deltas)
    assert rows[0] == {
        "product": "a",
        "version": "1",
        "state": "released",
        "cra_status": "ready",
        "critical": 1,
        "high": 2,
        "medium": 3,
        "low": 4,
        "kev": 0,
        "change": "-1 resolved",
    }
    assert rows[1]["change"] == "no change"


def test_summary_puts_changes_before_the_table_and_caps_lines() -> None:
    deltas = [VersionDelta(product="p", version=str(i), new=(HIT,)) for i in range(5)]
    text = summary_markdown(
        run_id="r",
        rows=[{"product": "p", "version": "0", "change": "a|b"}],
        deltas=deltas,
        failures=[ProductFailure(product="q", reason="not found")],
        products_total=2,
        max_change_lines=3,
    )
    assert text.index("## Changes") < text.index("## Failed") < text.index("## Portfolio")
    assert "… and 2 more" in text
    assert "1 of 2 products failed: q (not found)" in text
    assert "a\\|b" in text


def test_outcome_exit_code_and_message() -> None:
    ok = SweepOutcome(run_id="r", products_total=2, versions_total=3, versions_changed=1)
    assert ok.exit_code == ExitCode.OK
    bad = ok.model_copy(
        update={"products_failed": [ProductFailure(product="shop", reason="scan failed on 1.0")]}
    )
    assert bad.exit_code == ExitCode.API_ERROR
    assert bad.message == "1 of 2 products failed: shop (scan failed on 1.0)"
    assert failure_message([], 0) == "0 of 0 products failed: "


def test_portfolio_verdict_counts_in_words() -> None:
    from craflow.sweep.outcome import plural

    assert (plural(1, "product"), plural(0, "version"), plural(2, "version")) == (
        "1 product",
        "0 versions",
        "2 versions",
    )
    one = SweepOutcome(run_id="r", products_total=1, versions_total=1, versions_changed=0)
    assert one.message == "1 product, 1 version swept; 0 changed"
    kev = one.model_copy(update={"kev_detected": 2, "versions_changed": 1})
    assert kev.message == "1 product, 1 version swept; 1 changed; 2 new KEV hits"


def test_sweep_run_name_by_date_and_scope() -> None:
    from datetime import date

    from craflow.sweep.portfolio import sweep_run_name

    day = date(2026, 12, 1)
    assert sweep_run_name(day, None, ["released"]) == "sweep-2026-12-01-released"
    assert sweep_run_name(day, ["shop", "web-*"], ["released", "approved"]) == (
        "sweep-2026-12-01-shop-web-released-approved"
    )
    many = sweep_run_name(day, ["a", "b", "c", "d", "e"], ["released"])
    assert many == "sweep-2026-12-01-a-b-c-and-2-more-released"


def test_summary_heading_is_the_run_name_not_an_id() -> None:
    text = summary_markdown(
        run_id="3f2a",
        rows=[],
        deltas=[],
        failures=[],
        products_total=1,
        max_change_lines=3,
        title="sweep-2026-12-01-released",
    )
    assert text.startswith("# Compliance sweep sweep-2026-12-01-released\n")
    assert "1 product, 0 versions" in text
