import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from craflow.sweep import SweepSnapshot, VersionSnapshot, VulnerabilityHit, select_slugs


def test_snapshot_round_trips_through_json() -> None:
    snapshot = SweepSnapshot(
        run_id="r1",
        taken_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        versions=(
            VersionSnapshot(
                product="shop",
                version="1.0",
                version_id="v1",
                vulnerabilities=(VulnerabilityHit(vuln_id="A", kev=True, component="x"),),
            ),
        ),
    )
    text = json.dumps(snapshot.to_json_dict())
    again = SweepSnapshot.from_json_dict(json.loads(text))
    assert again == snapshot
    assert set(again.index()) == {"shop/1.0"}


def test_snapshot_of_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValidationError):
        SweepSnapshot.from_json_dict({"format": 2, "run_id": "r", "taken_at": "2026-01-01T00:00Z"})


@pytest.mark.parametrize(
    ("wanted", "chosen", "unmatched"),
    [
        (None, ["api", "shop", "web-a", "web-b"], []),
        ([], ["api", "shop", "web-a", "web-b"], []),
        (["shop", "api", "shop"], ["api", "shop"], []),
        (["web-*"], ["web-a", "web-b"], []),
        (["web-?", "nope", "x*"], ["web-a", "web-b"], ["nope", "x*"]),
    ],
)
def test_select_slugs(wanted: list[str] | None, chosen: list[str], unmatched: list[str]) -> None:
    assert select_slugs(["web-b", "shop", "api", "web-a"], wanted) == (chosen, unmatched)
