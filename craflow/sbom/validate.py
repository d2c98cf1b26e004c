"""Validation against the official CycloneDX schemas bundled in cyclonedx-python-lib.

JSON is checked by jsonschema-rs (the same schema files, `$ref`s to the bundled spdx/jsf/
cryptography schemas resolved locally, formats checked, no network); XML by the library's
own XSD validator (lxml). The library's Python JSON validator costs seconds to import and
run, so it is kept for the agreement test only.
"""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema import _res as bundled
from cyclonedx.validation.xml import XmlValidator

_PREFIX = "http://cyclonedx.org/schema/"
SUPPORTED_JSON_SPECS = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
_MAX_MESSAGES = 5
_MAX_MESSAGE_CHARS = 300


def _load(path: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _no_network(uri: str) -> Any:
    raise ValueError(f"schema {uri} is not bundled; refusing to fetch it")


@lru_cache(maxsize=16)
def json_validator(spec: str, *, strict: bool = True) -> "jsonschema_rs.Draft7Validator":
    """A compiled validator for CycloneDX JSON `spec` (strict: no unknown properties)."""
    version = SchemaVersion.from_version(spec)
    table = bundled.BOM_JSON_STRICT if strict else bundled.BOM_JSON
    schema_file = table.get(version)
    if schema_file is None:
        raise ValueError(f"CycloneDX {spec} has no JSON schema")
    registry = jsonschema_rs.Registry(
        [
            (f"{_PREFIX}spdx.SNAPSHOT.schema.json", _load(bundled.SPDX_JSON)),
            (f"{_PREFIX}jsf-0.82.SNAPSHOT.schema.json", _load(bundled.JSF)),
            (
                f"{_PREFIX}cryptography-defs.SNAPSHOT.schema.json",
                _load(bundled.CRYPTOGRAPHY_DEFS),
            ),
        ]
    )
    return jsonschema_rs.Draft7Validator(
        _load(schema_file),
        validate_formats=True,
        registry=registry,
        retriever=_no_network,
    )


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_MESSAGE_CHARS else line[: _MAX_MESSAGE_CHARS - 1] + "…"


def json_errors(document: Any, spec: str, *, strict: bool = True) -> list[str]:
    """Up to a few schema errors of a parsed CycloneDX JSON document (empty when valid)."""
    messages: list[str] = []
    for error in json_validator(spec, strict=strict).iter_errors(document):
        where = "/".join(str(p) for p in error.instance_path) or "(root)"
        messages.append(_short(f"{where}: {error.message}"))
        if len(messages) >= _MAX_MESSAGES:
            break
    return messages


def xml_errors(text: str, spec: str) -> list[str]:
    """Schema errors of a CycloneDX XML document (empty when valid), via the library's XSD."""
    found = XmlValidator(SchemaVersion.from_version(spec)).validate_str(text, all_errors=True)
    if found is None:
        return []
    messages = []
    for error in found:
        messages.append(_short(str(error.data)))
        if len(messages) >= _MAX_MESSAGES:
            break
    return messages
