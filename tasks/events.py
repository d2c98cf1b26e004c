"""The craflow events a release, an archive and a sweep emit (payloads in docs/deployments.md).

Every event's resource is the product (`craflow.product.<slug>`); an event about one
version also names the version as a related resource (`craflow.version.<slug>.<version>`,
role `version`), so the event feed and automations can match either.
"""

from collections.abc import Mapping

from prefect.events import emit_event

RELEASE_COMPLETED = "craflow.release.completed"
RELEASE_BLOCKED = "craflow.release.blocked"
RELEASE_FAILED = "craflow.release.failed"
VERSION_CHANGED = "craflow.version.changed"
VERSION_DEPRECATED = "craflow.version.deprecated"
KEV_DETECTED = "craflow.kev.detected"
ARCHIVE_WRITTEN = "craflow.archive.written"
ARCHIVE_VERIFIED = "craflow.archive.verified"
SWEEP_COMPLETED = "craflow.sweep.completed"
SWEEP_RESOURCE = "craflow.sweep"


def product_resource(product: str) -> dict[str, str]:
    """The event resource of a product: `craflow.product.<slug>`."""
    return {"prefect.resource.id": f"craflow.product.{product}", "craflow.product": product}


def version_resource(product: str, version: str) -> dict[str, str]:
    """The related resource of a product version: `craflow.version.<slug>.<version>`."""
    return {
        "prefect.resource.id": f"craflow.version.{product}.{version}",
        "prefect.resource.role": "version",
        "prefect.resource.name": f"{product} {version}",
        "craflow.product": product,
        "craflow.version": version,
    }


def emit(
    event: str, product: str, payload: Mapping[str, object], *, version: str | None = None
) -> None:
    """Emit *event* about *product* (and *version*, as a related resource) with *payload*.

    The product, and the version when given, are added to the payload.
    """
    body: dict[str, object] = {"product": product, **payload}
    related = []
    if version is not None:
        body["version"] = version
        related.append(version_resource(product, version))
    emit_event(event=event, resource=product_resource(product), related=related, payload=body)


def emit_sweep_completed(run_name: str, payload: Mapping[str, object]) -> None:
    """`craflow.sweep.completed` about the sweep run (resource `craflow.sweep.<run name>`)."""
    emit_event(
        event=SWEEP_COMPLETED,
        resource={"prefect.resource.id": f"{SWEEP_RESOURCE}.{run_name}"},
        payload=dict(payload),
    )
