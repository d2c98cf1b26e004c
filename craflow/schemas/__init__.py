"""The official JSON schemas craflow validates its documents against, bundled (no network).

One copy of each (sources and licences in `README.md` beside them): CSAF 2.0 with the
FIRST CVSS schemas it references, used by `craflow.vex` (CSAF VEX) and `craflow.incident`
(the CSAF security advisory), and OpenVEX 0.2.0. A leaf: imports nothing from craflow.
"""

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema_rs

CSAF_2_0 = "csaf_json_schema_2.0.json"
OPENVEX_0_2_0 = "openvex_json_schema_0.2.0.json"
#: the `$ref`s of the CSAF schema, each resolved to the bundled copy of that name
_CVSS = ("cvss-v2.0", "cvss-v3.0", "cvss-v3.1")


def load_schema(name: str) -> Any:
    """The bundled schema file *name*, parsed."""
    return json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))


def _no_network(uri: str) -> Any:
    raise ValueError(f"schema {uri} is not bundled; refusing to fetch it")


@lru_cache(maxsize=1)
def csaf_validator() -> "jsonschema_rs.Draft202012Validator":
    """The compiled validator of the official CSAF 2.0 schema (formats checked)."""
    registry = jsonschema_rs.Registry(
        [(f"https://www.first.org/cvss/{n}.json", load_schema(f"{n}.json")) for n in _CVSS]
    )
    return jsonschema_rs.Draft202012Validator(
        load_schema(CSAF_2_0), validate_formats=True, registry=registry, retriever=_no_network
    )


@lru_cache(maxsize=1)
def openvex_validator() -> "jsonschema_rs.Draft202012Validator":
    """The compiled validator of the official OpenVEX 0.2.0 schema."""
    return jsonschema_rs.Draft202012Validator(load_schema(OPENVEX_0_2_0), retriever=_no_network)


def first_errors(
    validator: "jsonschema_rs.Draft202012Validator", document: object, limit: int
) -> list[str]:
    """Up to *limit* errors of *document*, each `path: message` (empty when it is valid)."""
    messages: list[str] = []
    for error in validator.iter_errors(document):
        where = "/".join(str(p) for p in error.instance_path) or "(root)"
        messages.append(f"{where}: {error.message}"[:300])
        if len(messages) >= limit:
            break
    return messages
