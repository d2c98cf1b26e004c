"""Errors of the evidence archive: one class per failure a caller acts on.

    EvidenceError                      every archive failure; one-line message
     ├── InvalidArchiveUriError        bad URI, or a name that would escape the root
     ├── ArchiveNotFoundError          missing bucket, folder, manifest or object
     ├── ArchiveAccessDeniedError      credentials lack a permission
     ├── ArchiveEndpointError          endpoint unreachable or too slow (timeouts)
     ├── ObjectExistsError             the key is already written (objects are immutable)
     ├── ObjectLockNotEnabledError     retention asked for on a bucket without Object Lock
     ├── ChecksumMismatchError         the store holds other bytes than were sent
     └── ArchiveWriteError             any other failed write or read

Foreign errors (botocore, OSError) are translated at one boundary:
`craflow.evidence.s3errors.translate_s3_error`.
"""


class EvidenceError(Exception):
    """Base of every evidence-archive error; `str(error)` is a one-line message."""


class InvalidArchiveUriError(EvidenceError, ValueError):
    """A URI, product, version, run id or object name is malformed or unsafe."""


class ArchiveNotFoundError(EvidenceError):
    """The bucket, folder, manifest or object does not exist."""


class ArchiveAccessDeniedError(EvidenceError):
    """The store refused the request for lack of permission."""


class ArchiveEndpointError(EvidenceError):
    """The store could not be reached or did not answer in time."""


class ObjectExistsError(EvidenceError):
    """An object is already written at this key; archives never overwrite."""


class ObjectLockNotEnabledError(EvidenceError):
    """Retention was asked for, but the bucket has no Object Lock."""


class ChecksumMismatchError(EvidenceError):
    """The size or SHA-256 read back differs from what was written."""


class ArchiveWriteError(EvidenceError):
    """A write or read failed for another reason."""
