import pickle
from typing import Any

import pytest
from typer.testing import CliRunner

import tasks.sweep as sweep_tasks
from craflow.api.errors import AuthenticationError, ConfigurationError, NotFoundError
from craflow.api.models import Comparison
from craflow.boundary import exit_code_for
from craflow.cli import app
from craflow.commands.sweep import split_values
from craflow.evidence.errors import InvalidArchiveUriError
from craflow.exitcodes import ExitCode
from craflow.release.comparison import comparison_markdown, comparison_rows
from craflow.sweep import (
    ProductFailure,
    StatusChange,
    SweepFailedError,
    SweepOutcome,
    VersionDelta,
    VulnerabilityHit,
)

KEV = VulnerabilityHit(vuln_id="GHSA-k", kev=True, component="jinja2", severity="high")


def test_events_one_change_per_version_and_one_kev_per_new_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def record(event: str, resource: dict[str, Any], **kw: Any) -> None:
        sent.append((event, resource, kw["payload"]))

    monkeypatch.setattr(sweep_tasks, "emit_event", record)
    deltas = [
        VersionDelta(product="a", version="1", new=(KEV,), new_kev=(KEV,)),
        VersionDelta(product="b", version="2"),
        VersionDelta(
            product="c", version="3", cra_status=StatusChange(before="ready", after="incomplete")
        ),
    ]
    assert sweep_tasks.emit_sweep_events(deltas, run_id="r1") == (2, 1)
    assert [(e, r["prefect.resource.id"]) for e, r, _ in sent] == [
        ("craflow.version.changed", "craflow.product.a"),
        ("craflow.kev.detected", "craflow.product.a"),
        ("craflow.version.changed", "craflow.product.c"),
    ]
    kev = sent[1][2]
    assert (kev["product"], kev["version"], kev["vulnerability_id"], kev["component"]) == (
        "a",
        "1",
        "GHSA-k",
        "jinja2",
    )
    assert sent[2][2]["cra_status"] == {"before": "ready", "after": "incomplete"}


def test_split_values_accepts_repeats_and_commas() -> None:
    assert split_values(None) is None
    assert split_values(["a,b", " c ", ","]) == ["a", "b", "c"]
    assert split_values([","]) is None


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigurationError("no key"), ExitCode.CONFIGURATION),
        (InvalidArchiveUriError("bad"), ExitCode.VALIDATION),
        (AuthenticationError(401), ExitCode.AUTH_OR_USAGE),
        (NotFoundError(404), ExitCode.API_ERROR),
        (RuntimeError("x"), ExitCode.ERROR),
        (
            SweepFailedError(
                SweepOutcome(
                    run_id="r",
                    products_total=1,
                    products_failed=[ProductFailure(product="p", reason="x")],
                )
            ),
            ExitCode.API_ERROR,
        ),
    ],
)
def test_exit_codes(exc: BaseException, code: ExitCode) -> None:
    assert exit_code_for(exc) == code


def test_sweep_failed_error_survives_pickling() -> None:
    outcome = SweepOutcome(run_id="r", products_total=2)
    again = pickle.loads(pickle.dumps(SweepFailedError(outcome)))
    assert again.outcome == outcome
    assert str(again) == outcome.message


def test_comparison_rows_and_markdown() -> None:
    comparison = Comparison.model_validate(
        {
            "summary": {"added": 1, "removed": 1, "modified": 1, "unchanged": 4},
            "changes": {
                "added": [{"name": "new", "version": "1", "purl": "pkg:pypi/new@1"}],
                "removed": [{"name": "old", "version": "2"}],
                "modified": [{"name": "mid", "old_version": "1", "new_version": "2"}],
            },
            "vulnerability_diff": {"new": 1, "fixed": 1, "new_ids": ["N"], "fixed_ids": ["F"]},
        }
    )
    rows = comparison_rows(comparison)
    assert [(r["change"], r["name"], r["before"], r["after"]) for r in rows] == [
        ("component added", "new", "", "1"),
        ("component removed", "old", "2", ""),
        ("component changed", "mid", "1", "2"),
        ("vulnerability new", "N", "", "open"),
        ("vulnerability fixed", "F", "open", "fixed"),
    ]
    text = comparison_markdown(comparison, product="p", base="1", target="2")
    assert "1 added, 1 removed, 1 changed, 4 unchanged" in text
    assert "_No differences._" in comparison_markdown(
        Comparison(), product="p", base="1", target="2"
    )


@pytest.mark.parametrize("command", ["sweep", "compare", "export"])
def test_commands_have_help(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--json" in result.output
