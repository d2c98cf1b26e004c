"""Reading source files (requirements, lockfiles) safely: size-limited, clear errors."""

import tomllib
from pathlib import Path
from typing import Any

from craflow.sbom.errors import SbomFileNotFoundError, SbomFormatError, SbomTooLargeError


def read_text_limited(path: Path, *, max_bytes: int) -> str:
    """The file's text, refusing a missing file, a directory or one over `max_bytes`."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise SbomFileNotFoundError(f"{path}: no such file") from exc
    except OSError as exc:
        raise SbomFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    if path.is_dir():
        raise SbomFormatError(f"{path}: is a directory, not a file")
    if size > max_bytes:
        raise SbomTooLargeError(f"{path}: {size} bytes is over the limit of {max_bytes} bytes")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SbomFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    if len(data) > max_bytes:
        raise SbomTooLargeError(f"{path}: over the limit of {max_bytes} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SbomFormatError(f"{path}: not UTF-8 text (byte {exc.start})") from exc


def read_toml_limited(path: Path, *, max_bytes: int) -> dict[str, Any]:
    """The parsed TOML document at `path`, with a one-line error when it is not TOML."""
    text = read_text_limited(path, max_bytes=max_bytes)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SbomFormatError(f"{path}: not valid TOML ({exc})") from exc
