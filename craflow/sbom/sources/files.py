"""Reading source files (requirements, lockfiles) safely: size-limited, clear errors."""

import tomllib
from pathlib import Path
from typing import Any

from craflow.sbom.errors import SbomFormatError
from craflow.sbom.loading import read_bytes_limited


def read_text_limited(path: Path, *, max_bytes: int) -> str:
    """The file's text, refusing a missing file, a directory or one over `max_bytes`."""
    data = read_bytes_limited(path, max_bytes=max_bytes)
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
