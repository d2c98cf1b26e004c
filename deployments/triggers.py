"""The `craflow.release.requested` event and how its fields become release-flow parameters.

One place for the event's name, resource and payload, used by `craflow trigger-release`,
by `craflow serve` / `craflow deploy`, and mirrored in `prefect.yaml` (a unit test keeps
the two identical).

Each parameter is a single Jinja expression, so Prefect renders it with `| tojson` and the
value keeps its JSON type (a boolean stays a boolean). Optional payload fields fall back
to None, the configured default (`ReleaseSettings`), through `default(none)`.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from craflow.release.errors import ReleaseInputError
from craflow.release.names import check_product_slug, check_version_number
from craflow.release.request import ReleaseRequest

RELEASE_REQUESTED = "craflow.release.requested"
PRODUCT_LABEL = "craflow.product"
PRODUCT_RESOURCE_PREFIX = "craflow.product."

# Payload fields the event may carry, beyond `version`, with the type each must have.
OPTIONAL_PAYLOAD_FIELDS: Mapping[str, type] = {
    "sbom": str,
    "sbom_source": str,
    "fail_on": str,
    "unknown_as": str,
    "new_only": bool,
    "fail_on_kev": bool,
    "require_ready": bool,
    "promote": str,
    "deprecate_previous": bool,
    "export": str,
    "carry_triage": bool,
}

#: the fields of the flow's one parameter, `request` (a `ReleaseRequest`); fields the
#: event leaves out are None and take their configured default when the run starts
RELEASE_REQUEST_FIELDS: Mapping[str, str] = {
    "product": "{{ event.resource['craflow.product'] }}",
    "version": "{{ event.payload.version }}",
    "sbom": "{{ event.payload.sbom | default(none) }}",
    "sbom_source": "{{ event.payload.sbom_source | default(none) }}",
    "fail_on": "{{ event.payload.fail_on | default(none) }}",
    "unknown_as": "{{ event.payload.unknown_as | default(none) }}",
    "new_only": "{{ event.payload.new_only | default(false) }}",
    "fail_on_kev": "{{ event.payload.fail_on_kev | default(false) }}",
    "require_ready": "{{ event.payload.require_ready | default(false) }}",
    "promote": "{{ event.payload.promote | default(none) }}",
    "deprecate_previous": "{{ event.payload.deprecate_previous | default(false) }}",
    "export": "{{ event.payload.export | default(none) }}",
    "carry_triage": "{{ event.payload.carry_triage | default(none) }}",
}
RELEASE_EVENT_PARAMETERS: Mapping[str, Mapping[str, str]] = {"request": RELEASE_REQUEST_FIELDS}


class ReleaseRequestError(ValueError):
    """A release request cannot be turned into a valid event (the message says which field)."""


@dataclass(frozen=True)
class ReleaseEvent:
    """What a `craflow.release.requested` event carries (validated as a `ReleaseRequest`)."""

    product: str
    version: str
    payload: Mapping[str, object]

    @property
    def resource(self) -> dict[str, str]:
        return {
            "prefect.resource.id": f"{PRODUCT_RESOURCE_PREFIX}{self.product}",
            PRODUCT_LABEL: self.product,
        }


def release_request(
    product: str, version: str, options: Mapping[str, object | None]
) -> ReleaseEvent:
    """Validate the fields of a release request; options that are None are left out."""
    try:
        check_product_slug(product)
        check_version_number(version)
    except ReleaseInputError as exc:
        raise ReleaseRequestError(str(exc)) from None
    payload: dict[str, object] = {"version": version}
    for key, value in options.items():
        if value is None:
            continue
        expected = OPTIONAL_PAYLOAD_FIELDS.get(key)
        if expected is None:
            raise ReleaseRequestError(f"unknown release option {key!r}")
        if not isinstance(value, expected):
            raise ReleaseRequestError(f"{key} must be a {expected.__name__}, got {value!r}")
        payload[key] = value
    if "sbom" in payload and "sbom_source" in payload:
        raise ReleaseRequestError("give either an SBOM location or an SBOM source, not both")
    if "sbom" not in payload and "sbom_source" not in payload:
        raise ReleaseRequestError("give an SBOM location (sbom) or an SBOM source (sbom_source)")
    try:  # the same checks the flow's `ReleaseRequest` will make, before anything is sent
        ReleaseRequest.build(product=product, **payload)
    except (ValueError, TypeError) as exc:
        raise ReleaseRequestError(str(exc)) from None
    return ReleaseEvent(product=product, version=version, payload=payload)
