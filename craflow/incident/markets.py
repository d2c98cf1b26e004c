"""ISO 3166-1 alpha-2 codes of the EU Member States (as used in the EU, not `EL`)."""

EU_MEMBER_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)


def member_states(markets: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(the EU Member States among `markets`, the other markets), each sorted."""
    codes = sorted({m.upper() for m in markets})
    return [m for m in codes if m in EU_MEMBER_STATES], [
        m for m in codes if m not in EU_MEMBER_STATES
    ]
