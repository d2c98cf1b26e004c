"""The status words craflow acts on, in one place (the API's vocabulary, not tunables).

Release states and their order live in `craflow.release.states`; scan states in
`craflow.api.polling` (the poll primitive).
"""

#: vulnerability statuses that count as open (the gate, KEV events, the sweep)
OPEN_STATUSES: frozenset[str] = frozenset({"open", "in_progress"})


def is_open(status: str | None) -> bool:
    """True when a vulnerability with *status* is still open (no status counts as open)."""
    return (status or "open").lower() in OPEN_STATUSES
