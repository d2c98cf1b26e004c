"""Process exit codes, shared by every command.

They follow the platform's own CLI (`craevidence` 4.x) so a CI system can act on
them the same way, plus 75 (EX_TEMPFAIL) for "pending: try again later".
"""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    AUTH_OR_USAGE = 2
    API_ERROR = 3
    VALIDATION = 4
    FILE_NOT_FOUND = 5
    CONFIGURATION = 6
    GATE_CRITICAL = 10
    GATE_HIGH = 11
    GATE_MEDIUM = 12
    GATE_LOW = 13
    SBOM_QUALITY = 14
    CRA_FLOOR_NOT_READY = 20
    RELEASE_POLICY_NOT_MET = 24
    PENDING = 75
