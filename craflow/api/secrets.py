"""Showing secrets safely: at most a fixed prefix and the last four characters."""

from pydantic import SecretStr

_VISIBLE_TAIL = 4
_MIN_LENGTH_TO_SHOW_TAIL = 12


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
