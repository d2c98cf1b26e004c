"""The typed errors of the release domain (no exit codes: see `craflow.boundary`)."""


class ReleaseInputError(ValueError):
    """An input of the release (e.g. `--previous V`, a product slug) is not acceptable."""


class GateConfigError(ValueError):
    """A gate option has a value the gate does not know."""


class TransitionError(ValueError):
    """The requested release state is unknown or lies behind the current one."""
