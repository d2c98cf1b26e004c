"""Validation of written VEX documents against their official schemas (no network).

CycloneDX 1.6 uses the schema bundled in cyclonedx-python-lib (through `craflow.sbom`);
OpenVEX 0.2.0 and CSAF 2.0 use the one bundled copy of each in `craflow.schemas` (see
its README for their origin and licence), shared with `craflow.incident`.
"""

from typing import Any

from craflow.schemas import csaf_validator, first_errors, openvex_validator
from craflow.vex.errors import VexSchemaError
from craflow.vex.model import VexFormat

_MAX_MESSAGES = 3
CYCLONEDX_SPEC = "1.6"


def schema_errors(document: Any, fmt: VexFormat) -> list[str]:
    """A few schema errors of *document* in *fmt* (empty when it is valid)."""
    if fmt == "cyclonedx":
        from craflow.sbom.validate import json_errors

        return json_errors(document, CYCLONEDX_SPEC)[:_MAX_MESSAGES]
    validator = openvex_validator() if fmt == "openvex" else csaf_validator()
    return first_errors(validator, document, _MAX_MESSAGES)


def check_schema(document: Any, fmt: VexFormat) -> None:
    """Raise `VexSchemaError` naming the first problems when *document* is not valid."""
    errors = schema_errors(document, fmt)
    if errors:
        raise VexSchemaError(f"the {fmt} VEX document breaks its schema: {'; '.join(errors)}")
