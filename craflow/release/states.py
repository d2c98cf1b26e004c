"""Release states and the walk from one to another along the allowed transitions.

The platform's order is draft → pending_review → approved → released →
deprecated → end_of_life. A promotion walks every step in between (each one a
move the server allows), never backwards; the current state again is no step.
"""

from craflow.release.errors import TransitionError

RELEASE_ORDER: tuple[str, ...] = (
    "draft",
    "pending_review",
    "approved",
    "released",
    "deprecated",
    "end_of_life",
)


def check_state(state: str) -> str:
    """Return *state* if it is a release state, else raise `TransitionError`."""
    if state not in RELEASE_ORDER:
        raise TransitionError(
            f"unknown release state {state!r} (one of {', '.join(RELEASE_ORDER)})"
        )
    return state


def transition_path(current: str, target: str) -> list[str]:
    """The states to set, in order, to move from *current* to *target* (`[]` if already there)."""
    check_state(target)
    if current not in RELEASE_ORDER:
        # an unknown current state (a newer server?): set the target directly
        return [target]
    here, there = RELEASE_ORDER.index(current), RELEASE_ORDER.index(target)
    if there < here:
        raise TransitionError(f"cannot move a version back from {current} to {target}")
    return list(RELEASE_ORDER[here + 1 : there + 1])


def is_at_or_beyond(current: str, target: str) -> bool:
    """True when *current* already is *target* or lies after it."""
    if current not in RELEASE_ORDER or target not in RELEASE_ORDER:
        return current == target
    return RELEASE_ORDER.index(current) >= RELEASE_ORDER.index(target)


def promotion_blocker(
    current: str, target: str, *, release_policy_ready: bool, blockers: list[str]
) -> str | None:
    """Why the server would refuse the walk from *current* to *target*, or None.

    The server refuses `released` while the release policy is not met; checking this
    before the first step keeps a refused release from being left half way (approved).
    """
    if "released" not in transition_path(current, target) or release_policy_ready:
        return None
    return "; ".join(blockers) or "release policy not met"
