import pytest

from craflow.release.errors import TransitionError
from craflow.release.states import is_at_or_beyond, transition_path


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        ("draft", "released", ["pending_review", "approved", "released"]),
        ("approved", "released", ["released"]),
        ("released", "released", []),
        ("released", "deprecated", ["deprecated"]),
        (
            "draft",
            "end_of_life",
            ["pending_review", "approved", "released", "deprecated", "end_of_life"],
        ),
        ("pending_review", "approved", ["approved"]),
        ("mystery", "released", ["released"]),
    ],
)
def test_transition_path(current: str, target: str, path: list[str]) -> None:
    assert transition_path(current, target) == path


def test_moving_back_is_refused() -> None:
    with pytest.raises(TransitionError, match="back from deprecated to released"):
        transition_path("deprecated", "released")


def test_unknown_target_is_refused() -> None:
    with pytest.raises(TransitionError, match="unknown release state 'shipped'"):
        transition_path("draft", "shipped")


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("deprecated", "released", True),
        ("released", "released", True),
        ("approved", "released", False),
        ("odd", "odd", True),
        ("odd", "released", False),
    ],
)
def test_is_at_or_beyond(current: str, target: str, expected: bool) -> None:
    assert is_at_or_beyond(current, target) is expected
