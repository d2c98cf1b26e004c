import pytest

from craflow.release.previous import VersionFacts, pick_previous_release


def v(number: str, state: str = "released", created: str = "") -> VersionFacts:
    return VersionFacts(id=f"id-{number}", number=number, release_state=state, created_at=created)


@pytest.mark.parametrize(
    ("versions", "current", "expected"),
    [
        ([], "1.0", None),
        ([v("1.0")], "1.0", None),
        ([v("1.0"), v("1.1", "draft")], "1.2", "1.0"),
        ([v("1.9"), v("1.10"), v("1.2")], "1.11", "1.10"),
        ([v("2.0"), v("1.0")], "1.5", "1.0"),
        ([v("1.0", "deprecated"), v("0.9")], "1.1", "0.9"),
        ([v("alpha", created="2024"), v("beta", created="2025")], "gamma", "beta"),
    ],
)
def test_pick_previous_release(
    versions: list[VersionFacts], current: str, expected: str | None
) -> None:
    picked = pick_previous_release(versions, current)
    assert (picked.number if picked else None) == expected


def test_other_states_can_count() -> None:
    picked = pick_previous_release([v("1.0", "approved")], "1.1", states=("approved",))
    assert picked is not None and picked.id == "id-1.0"
