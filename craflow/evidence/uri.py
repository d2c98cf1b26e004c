"""Parse archive URIs and refuse names that could escape the archive root.

`s3://bucket/prefix` and `file:///absolute/path` (also `file://./relative` and a
plain path) name an archive root, a run folder or a single object. Product,
version, run id and object names become single path segments; anything that
could climb out of the root or confuse a file system (`..`, `/`, backslashes,
control characters) is refused with `InvalidArchiveUriError`.
"""

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from craflow.evidence.errors import InvalidArchiveUriError

# Protocol limits, not tunables: a file-system name segment and an S3 key.
MAX_SEGMENT_CHARS = 255
MAX_S3_KEY_BYTES = 1024

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key or key prefix (no leading or trailing slash)."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"


@dataclass(frozen=True)
class FileLocation:
    """A local path (a root folder, a run folder or a file)."""

    path: Path

    @property
    def uri(self) -> str:
        return self.path.absolute().as_uri()


Location = S3Location | FileLocation


def _has_control_chars(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def check_segment(value: str, what: str) -> str:
    """Return `value` if it is safe as one path segment, else raise with a one-line message."""
    if not value or not value.strip():
        raise InvalidArchiveUriError(f"{what} is empty")
    shown = ascii(value)
    if value != value.strip():
        raise InvalidArchiveUriError(f"{what} {shown} has leading or trailing whitespace")
    if value in {".", ".."}:
        raise InvalidArchiveUriError(f"{what} {shown} is a relative path component")
    if "/" in value or "\\" in value:
        raise InvalidArchiveUriError(f"{what} {shown} contains a path separator")
    if _has_control_chars(value):
        raise InvalidArchiveUriError(f"{what} {shown} contains control characters")
    if len(value) > MAX_SEGMENT_CHARS:
        raise InvalidArchiveUriError(f"{what} is longer than {MAX_SEGMENT_CHARS} characters")
    return value


def join_key(prefix: str, *segments: str) -> str:
    """Join a checked prefix and segments into an S3-style key (`/` separated)."""
    key = "/".join(part for part in (prefix, *segments) if part)
    if len(key.encode()) > MAX_S3_KEY_BYTES:
        raise InvalidArchiveUriError(f"key is longer than {MAX_S3_KEY_BYTES} bytes: {key[:60]}...")
    return key


def _parse_s3(rest: str, uri: str) -> S3Location:
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise InvalidArchiveUriError(f"S3 URI names no bucket: {uri!r}")
    if not _BUCKET_NAME.match(bucket) or ".." in bucket:
        raise InvalidArchiveUriError(f"not a valid S3 bucket name: {bucket!r}")
    parts = [p for p in key.split("/") if p]
    for part in parts:
        check_segment(part, "S3 key component")
    return S3Location(bucket=bucket, key=join_key("", *parts))


def _parse_file(rest: str, uri: str) -> FileLocation:
    if rest.startswith("localhost/"):
        rest = rest[len("localhost") :]
    elif rest and not rest.startswith(("/", "./", "../")) and "/" in rest:
        host = rest.split("/", 1)[0]
        raise InvalidArchiveUriError(f"file URI names a remote host {host!r}: {uri!r}")
    path = unquote(rest)
    if not path:
        raise InvalidArchiveUriError(f"file URI names no path: {uri!r}")
    if _has_control_chars(path):
        raise InvalidArchiveUriError(f"path contains control characters: {path!a}")
    return FileLocation(path=Path(path))


def parse_location(uri: str) -> Location:
    """Parse `s3://bucket/key`, `file:///path`, `file://./path` or a plain path."""
    text = uri.strip()
    if not text:
        raise InvalidArchiveUriError("archive URI is empty")
    scheme, sep, rest = text.partition("://")
    if not sep:
        if _has_control_chars(text):
            raise InvalidArchiveUriError(f"path contains control characters: {text!a}")
        return FileLocation(path=Path(text))
    scheme = scheme.lower()
    if scheme == "s3":
        return _parse_s3(rest, text)
    if scheme == "file":
        return _parse_file(rest, text)
    raise InvalidArchiveUriError(f"unsupported archive scheme {scheme!r} (use s3:// or file://)")
