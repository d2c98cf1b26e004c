"""Errors of the Art. 14 reporting cases: one class per mistake a person can make.

    IncidentError                 every case failure; `str(error)` is one line
     ├── CaseNotFoundError        no case with that id
     ├── CaseClosedError          the case is closed; nothing more can be recorded
     ├── StageOrderError          a stage submitted out of order, or twice
     ├── FutureTimeError          a submission time later than now
     ├── JustificationMissingError  closing as not affected without a reason
     └── InvalidCaseInputError    anything else malformed (ids, times, references)

All of them are bad input: a command answers them with one line and exit 4.
Store failures stay `craflow.evidence.EvidenceError`.
"""


class IncidentError(ValueError):
    """Base of every reporting-case error."""


class CaseNotFoundError(IncidentError):
    """No case is stored under the given id."""


class CaseClosedError(IncidentError):
    """The case is closed; submissions and fixes can no longer be recorded."""


class StageOrderError(IncidentError):
    """A stage was submitted before the one it follows, or a second time."""


class FutureTimeError(IncidentError):
    """A submission time lies in the future."""


class JustificationMissingError(IncidentError):
    """A not-affected decision needs its reasoning."""


class InvalidCaseInputError(IncidentError):
    """An id, time, reference or other value is malformed."""
