"""Emit `craflow.release.requested` to the Prefect server named by `PREFECT_API_URL`."""

import asyncio

from prefect.events import Event
from prefect.events.clients import get_events_client
from prefect.settings import get_current_settings

from deployments.triggers import RELEASE_REQUESTED, ReleaseEvent


class NoPrefectServerError(RuntimeError):
    """No Prefect server is configured, so an emitted event would reach nobody."""


def configured_api_url() -> str:
    """The Prefect API URL in effect, or raise `NoPrefectServerError`."""
    url = get_current_settings().api.url
    if not url:
        raise NoPrefectServerError(
            "no Prefect server configured: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)"
        )
    return url


def release_requested_event(request: ReleaseEvent) -> Event:
    """The Prefect event for *request*."""
    return Event(event=RELEASE_REQUESTED, resource=request.resource, payload=dict(request.payload))


async def _emit(event: Event) -> None:
    async with get_events_client(reconnection_attempts=3, checkpoint_every=1) as client:
        await client.emit(event)


def emit_release_requested(request: ReleaseEvent, *, timeout: float) -> str:
    """Send the event and return its id; `TimeoutError` when the server does not accept it."""
    configured_api_url()
    event = release_requested_event(request)
    asyncio.run(asyncio.wait_for(_emit(event), timeout=timeout))
    return str(event.id)
