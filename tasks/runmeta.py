"""What a flow run says about itself in the UI: its tags, added once the run has started."""

from collections.abc import Iterable

from prefect.client.orchestration import get_client
from prefect.runtime import flow_run


def tag_this_run(wanted: Iterable[str]) -> None:
    """Add *wanted* to the current flow run's tags (nothing outside a flow run)."""
    run_id = flow_run.id
    if not run_id:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(run_id)
        client.update_flow_run(run_id, tags=sorted({*current.tags, *wanted}))
