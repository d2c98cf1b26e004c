"""The automation that marks a dead worker's flow runs Crashed (Prefect's "zombie" recipe).

Prefect 3.9 does not notice by itself that the worker (or machine) running a flow run
died: the run stays Running. With `PREFECT_FLOWS_HEARTBEAT_FREQUENCY` set in the
workers' environment, each deployment run emits `prefect.flow-run.heartbeat`; this
proactive trigger fires when a run that sent one sends neither another nor a terminal
state within `within_seconds`, and sets it Crashed. The fanned-out sweep re-runs a
chunk whose run crashed (flows/sweep.py).

Prefect's default heartbeat is every 180 s, so the default window is 600 s; the
stack sets 30 s heartbeats and a 90 s window.

    python -m deployments.automations [WITHIN_SECONDS]   # create or replace it
"""

import asyncio
import sys
from datetime import timedelta

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

ZOMBIE_AUTOMATION_NAME = "craflow-crash-silent-runs"
HEARTBEAT = "prefect.flow-run.heartbeat"
TERMINAL_EVENTS = frozenset(
    f"prefect.flow-run.{state}" for state in ("Completed", "Failed", "Cancelled", "Crashed")
)


def zombie_automation(within_seconds: int = 600) -> Automation:
    """Mark a flow run Crashed when its heartbeats stop for *within_seconds*."""
    return Automation(
        name=ZOMBIE_AUTOMATION_NAME,
        description="A flow run that stopped sending heartbeats (its worker died) is Crashed.",
        trigger=EventTrigger(
            after={HEARTBEAT},
            expect={HEARTBEAT, *TERMINAL_EVENTS},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=within_seconds),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {within_seconds} s: the worker running it died",
            )
        ],
    )


async def ensure_zombie_automation(within_seconds: int = 600) -> str:
    """Create the automation, replacing one of the same name; returns its id."""
    while True:  # names are not unique on the server: remove every earlier copy
        try:
            existing = await Automation.aread(name=ZOMBIE_AUTOMATION_NAME)
        except ValueError:
            break
        await existing.adelete()
    created = await zombie_automation(within_seconds).acreate()
    return str(created.id)


if __name__ == "__main__":
    print(asyncio.run(ensure_zombie_automation(int(sys.argv[1]) if len(sys.argv) > 1 else 600)))
