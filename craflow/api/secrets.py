"""Showing secrets safely: at most a fixed prefix and the last four characters."""

import re

from pydantic import SecretStr

_VISIBLE_TAIL = 4
_MIN_LENGTH_TO_SHOW_TAIL = 12
# A key: "cra_" then 16+ token characters, at least one a digit (so that words such as
# "cra_required" stay readable).
_API_KEY = re.compile(r"cra_(?=[A-Za-z_\-]*[0-9])[A-Za-z0-9_\-]{16,}")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]+")


def redact(key: str | SecretStr | None) -> str:
    """Return `cra_****abcd` for an API key: never more than its last four characters.

    Keys too short to hide safely show no tail at all (`cra_****`).
    """
    if key is None:
        return "<none>"
    raw = key.get_secret_value() if isinstance(key, SecretStr) else key
    if len(raw) < _MIN_LENGTH_TO_SHOW_TAIL:
        return "cra_****"
    return "cra_****" + raw[-_VISIBLE_TAIL:]


def scrub(text: str) -> str:
    """Hide anything that looks like an API key or a bearer token inside free text."""
    text = _BEARER.sub(lambda match: f"{match.group(1)} ****", text)
    return _API_KEY.sub(lambda match: redact(match.group(0)), text)
