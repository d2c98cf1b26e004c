"""Events the release flow emits: completed, blocked, version changed, KEV detected."""

from collections.abc import Mapping

from prefect.events import emit_event

RELEASE_COMPLETED = "craflow.release.completed"
RELEASE_BLOCKED = "craflow.release.blocked"
VERSION_CHANGED = "craflow.version.changed"
KEV_DETECTED = "craflow.kev.detected"


def product_resource(product: str) -> dict[str, str]:
    """The event resource of a product: `craflow.product.<slug>`."""
    return {"prefect.resource.id": f"craflow.product.{product}", "craflow.product": product}


def emit(event: str, product: str, payload: Mapping[str, object]) -> None:
    """Emit *event* about *product* with *payload* (product is added to the payload)."""
    emit_event(
        event=event, resource=product_resource(product), payload={"product": product, **payload}
    )
