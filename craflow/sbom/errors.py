"""The errors of the SBOM layer: one line each, meant for the user, with an exit code.

SbomError                    exit 1   anything that stops an SBOM being built or read
├── SbomFileNotFoundError    exit 5   the input path does not exist
├── SbomTooLargeError        exit 4   the input is over the configured size limit
├── SbomFormatError          exit 4   not parseable, not an SBOM, unsafe XML, too deep
├── SbomValidationError      exit 4   the document breaks the official schema
└── SbomSourceError          exit 1   a source (env, lockfile, command) could not be read
"""

from craflow.exitcodes import ExitCode


class SbomError(Exception):
    """A one-line, user-facing reason why an SBOM could not be built, read or written."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class SbomFileNotFoundError(SbomError):
    exit_code = ExitCode.FILE_NOT_FOUND


class SbomTooLargeError(SbomError):
    exit_code = ExitCode.VALIDATION


class SbomFormatError(SbomError):
    exit_code = ExitCode.VALIDATION


class SbomValidationError(SbomError):
    exit_code = ExitCode.VALIDATION


class SbomSourceError(SbomError):
    exit_code = ExitCode.ERROR
