"""The one error boundary: which exit code an error that ends a command or a run gets.

Libraries (`craflow/api`, `sbom`, `evidence`, `release`, `sweep`) raise typed errors
and know no exit codes; the edge (`craflow/commands/` and a flow's final state) asks
`exit_code_for(exc)`. The table is read top to bottom, the first matching row wins:

    error                                        exit
    SweepFailedError                             its outcome's code (3)
    SbomFileNotFoundError, FileNotFoundError     5 file not found
    AuthenticationError, PermissionDeniedError   2 authentication or usage
    GateConfigError, TransitionError             2 usage (a bad option)
    ConfigurationError                           6 configuration
    InvalidArchiveUriError, ReleaseInputError,   4 validation (a bad argument or input)
      BadRequestError, PayloadTooLargeError,
      SbomTooLarge/Format/ValidationError
    CraEvidenceError (any other API error)       3 API error
    anything else (archive I/O, unexpected)      1 error
"""

from craflow.api.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    CraEvidenceError,
    PayloadTooLargeError,
    PermissionDeniedError,
)
from craflow.evidence.errors import InvalidArchiveUriError
from craflow.exitcodes import ExitCode
from craflow.release.errors import GateConfigError, ReleaseInputError, TransitionError
from craflow.sbom.errors import (
    SbomFileNotFoundError,
    SbomFormatError,
    SbomTooLargeError,
    SbomValidationError,
)
from craflow.sweep.outcome import SweepFailedError

#: (error types, exit code), first match wins
EXIT_CODE_TABLE: tuple[tuple[tuple[type[BaseException], ...], ExitCode], ...] = (
    ((SbomFileNotFoundError, FileNotFoundError), ExitCode.FILE_NOT_FOUND),
    ((AuthenticationError, PermissionDeniedError), ExitCode.AUTH_OR_USAGE),
    ((GateConfigError, TransitionError), ExitCode.AUTH_OR_USAGE),
    ((ConfigurationError,), ExitCode.CONFIGURATION),
    (
        (
            InvalidArchiveUriError,
            ReleaseInputError,
            BadRequestError,
            PayloadTooLargeError,
            SbomTooLargeError,
            SbomFormatError,
            SbomValidationError,
        ),
        ExitCode.VALIDATION,
    ),
    ((CraEvidenceError,), ExitCode.API_ERROR),
)


def exit_code_for(exc: BaseException) -> ExitCode:
    """The process exit code for *exc*, an error that ended a command or a flow run."""
    if isinstance(exc, SweepFailedError):
        return exc.outcome.exit_code
    for types, code in EXIT_CODE_TABLE:
        if isinstance(exc, types):
            return code
    return ExitCode.ERROR


def one_line(exc: BaseException) -> str:
    """A one-line description of *exc* for a user (never a traceback)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
