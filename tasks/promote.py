"""Tasks that move a version along the release states, each step read back from the server."""

from pydantic import BaseModel, ConfigDict

from craflow.api import CraEvidenceClient
from craflow.release.errors import ReleaseInputError
from craflow.release.states import is_at_or_beyond, transition_path
from tasks.client import current_client
from tasks.retry import api_task


class Promotion(BaseModel):
    """Where a version was, where it is now, and the states that were set (none on a rerun)."""

    model_config = ConfigDict(frozen=True)

    version_id: str
    from_state: str
    to_state: str
    steps: list[str]


def _current_state(client: CraEvidenceClient, product_id: str, version_number: str) -> str:
    found = client.find_version(product_id, version_number)
    if found is None:
        raise ReleaseInputError(f"version {version_number!r} disappeared from the product")
    return found.release_state or "draft"


def _walk(
    product_id: str, version_id: str, version_number: str, target: str, superseded_by: str | None
) -> Promotion:
    client = current_client()
    current = _current_state(client, product_id, version_number)
    if is_at_or_beyond(current, target):
        return Promotion(version_id=version_id, from_state=current, to_state=current, steps=[])
    steps = transition_path(current, target)
    for step in steps:
        extra = superseded_by if step in {"deprecated", "end_of_life"} else None
        client.set_release_state(version_id, step, superseded_by=extra)
    return Promotion(version_id=version_id, from_state=current, to_state=target, steps=steps)


@api_task(name="promote-version")
def promote_version(
    product_id: str, version_id: str, version_number: str, target: str
) -> Promotion:
    """Walk the version to *target* (e.g. released); nothing is written if it is there already.

    The current state is re-read first, so a rerun or a duplicate event writes no
    second promotion. A version already past *target* is left alone.
    """
    return _walk(product_id, version_id, version_number, target, None)


@api_task(name="deprecate-version")
def deprecate_version(
    product_id: str, version_id: str, version_number: str, superseded_by: str
) -> Promotion:
    """Deprecate a predecessor, recording *superseded_by*; nothing is written if already done."""
    return _walk(product_id, version_id, version_number, "deprecated", superseded_by)
