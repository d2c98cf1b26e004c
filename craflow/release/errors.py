"""Map the errors that stop a release run to the platform CLI's exit codes."""

from craflow.api import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    CraEvidenceError,
    PayloadTooLargeError,
    PermissionDeniedError,
)
from craflow.evidence.errors import InvalidArchiveUriError
from craflow.exitcodes import ExitCode
from craflow.release.gate import GateConfigError
from craflow.release.states import TransitionError
from craflow.sbom.errors import SbomError


class ReleaseInputError(ValueError):
    """An input of the release (e.g. `--previous V`) names something that does not exist."""


def exit_code_for_error(exc: BaseException) -> int:
    """Exit code for an error that ended a run: 2 auth/usage, 3 API, 4 validation, 5 file,
    6 configuration, 1 anything else (archive, unexpected)."""
    code: ExitCode
    if isinstance(exc, SbomError):
        code = exc.exit_code
    elif isinstance(
        exc, AuthenticationError | PermissionDeniedError | GateConfigError | TransitionError
    ):
        code = ExitCode.AUTH_OR_USAGE
    elif isinstance(exc, ConfigurationError):
        code = ExitCode.CONFIGURATION
    elif isinstance(
        exc, BadRequestError | PayloadTooLargeError | ReleaseInputError | InvalidArchiveUriError
    ):
        code = ExitCode.VALIDATION
    elif isinstance(exc, CraEvidenceError):
        code = ExitCode.API_ERROR
    elif isinstance(exc, FileNotFoundError):
        code = ExitCode.FILE_NOT_FOUND
    else:  # EvidenceError and anything unexpected
        code = ExitCode.ERROR
    return int(code)


def one_line(exc: BaseException) -> str:
    """A one-line description of *exc* for a user."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
