"""The errors of the SBOM layer: one line each, meant for the user.

SbomError                    anything that stops an SBOM being built or read
├── SbomFileNotFoundError    the input path does not exist
├── SbomTooLargeError        the input is over the configured size limit
├── SbomFormatError          not parseable, not an SBOM, unsafe XML, too deep
├── SbomValidationError      the document breaks the official schema
└── SbomSourceError          a source (env, lockfile, command) could not be read

The layer knows no exit codes: `craflow.boundary.exit_code_for` maps these at the edge.
"""


class SbomError(Exception):
    """A one-line, user-facing reason why an SBOM could not be built, read or written."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)

    @property
    def exit_code(self) -> int:
        """Compatibility for `craflow/commands/sbom.py` until it asks `craflow.boundary`."""
        from craflow.boundary import exit_code_for

        return int(exit_code_for(self))


class SbomFileNotFoundError(SbomError):
    """See the module docstring."""


class SbomTooLargeError(SbomError):
    """See the module docstring."""


class SbomFormatError(SbomError):
    """See the module docstring."""


class SbomValidationError(SbomError):
    """See the module docstring."""


class SbomSourceError(SbomError):
    """See the module docstring."""
