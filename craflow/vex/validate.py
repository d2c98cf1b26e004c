"""Validation of written VEX documents against their official schemas (no network).

CycloneDX 1.6 uses the schema bundled in cyclonedx-python-lib (through `craflow.sbom`);
OpenVEX 0.2.0 and CSAF 2.0 use the schema files in `schemas/` (see its README for their
origin and licence). The CSAF schema's `$ref`s to FIRST's CVSS schemas resolve locally.
"""

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema_rs

from craflow.vex.errors import VexSchemaError
from craflow.vex.model import VexFormat

_CVSS = {
    "https://www.first.org/cvss/cvss-v2.0.json": "cvss-v2.0.json",
    "https://www.first.org/cvss/cvss-v3.0.json": "cvss-v3.0.json",
    "https://www.first.org/cvss/cvss-v3.1.json": "cvss-v3.1.json",
}
_MAX_MESSAGES = 3
CYCLONEDX_SPEC = "1.6"


def _schema(name: str) -> Any:
    return json.loads(resources.files("craflow.vex").joinpath("schemas", name).read_text("utf-8"))


def _no_network(uri: str) -> Any:
    raise ValueError(f"schema {uri} is not bundled; refusing to fetch it")


@lru_cache(maxsize=2)
def _validator(fmt: str) -> "jsonschema_rs.Draft202012Validator":
    if fmt == "openvex":
        return jsonschema_rs.Draft202012Validator(
            _schema("openvex_json_schema_0.2.0.json"), retriever=_no_network
        )
    registry = jsonschema_rs.Registry([(uri, _schema(name)) for uri, name in _CVSS.items()])
    return jsonschema_rs.Draft202012Validator(
        _schema("csaf_json_schema_2.0.json"),
        validate_formats=True,
        registry=registry,
        retriever=_no_network,
    )


def schema_errors(document: Any, fmt: VexFormat) -> list[str]:
    """A few schema errors of *document* in *fmt* (empty when it is valid)."""
    if fmt == "cyclonedx":
        from craflow.sbom.validate import json_errors

        return json_errors(document, CYCLONEDX_SPEC)[:_MAX_MESSAGES]
    messages = []
    for error in _validator(fmt).iter_errors(document):
        where = "/".join(str(p) for p in error.instance_path) or "(root)"
        messages.append(f"{where}: {error.message}"[:300])
        if len(messages) >= _MAX_MESSAGES:
            break
    return messages


def check_schema(document: Any, fmt: VexFormat) -> None:
    """Raise `VexSchemaError` naming the first problems when *document* is not valid."""
    errors = schema_errors(document, fmt)
    if errors:
        raise VexSchemaError(f"the {fmt} VEX document breaks its schema: {'; '.join(errors)}")
