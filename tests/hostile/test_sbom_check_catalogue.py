"""Hostile SBOM files met where a user meets them: `craflow sbom check FILE`.

Each case asserts a clear one-line error on stderr, the documented exit code
(4 validation, 5 file not found), nothing on stdout, no traceback, the input
left untouched, and that it finishes without inflating or expanding anything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from craflow.cli import app
from craflow.exitcodes import ExitCode
from tests.hostile import inputs

# maker name -> (exit code, a phrase the one-line error must contain)
REFUSED: dict[str, tuple[int, str]] = {
    "malformed_json": (ExitCode.VALIDATION, "not valid JSON"),
    "truncated_json": (ExitCode.VALIDATION, "not valid JSON"),
    "empty_file": (ExitCode.VALIDATION, "empty"),
    "json_not_an_object": (ExitCode.VALIDATION, "not an SBOM"),
    "json_not_an_sbom": (ExitCode.VALIDATION, "not an SBOM"),
    "json_deeply_nested": (ExitCode.VALIDATION, "too deeply"),
    "json_non_utf8": (ExitCode.VALIDATION, "UTF-8"),
    "binary_garbage": (ExitCode.VALIDATION, "UTF-8"),
    "unsupported_spec_version": (ExitCode.VALIDATION, "not supported"),
    "unsupported_format_spdx_tag_value": (ExitCode.VALIDATION, "not supported"),
    "wrong_bom_format": (ExitCode.VALIDATION, "not an SBOM"),
    "malformed_xml": (ExitCode.VALIDATION, "XML"),
    "truncated_xml": (ExitCode.VALIDATION, "XML"),
    "xml_external_entity": (ExitCode.VALIDATION, "refused"),
    "xml_billion_laughs": (ExitCode.VALIDATION, "refused"),
    "xml_external_dtd": (ExitCode.VALIDATION, "refused"),
    "sparse_one_gigabyte": (ExitCode.VALIDATION, "over the limit"),
    "gzip_bomb": (ExitCode.VALIDATION, "not an SBOM"),
    "gzip_bomb_as_json": (ExitCode.VALIDATION, "not an SBOM"),
    "a_directory": (ExitCode.VALIDATION, "directory"),
    "missing_file": (ExitCode.FILE_NOT_FOUND, "no such file"),
}

# Valid SBOMs with hostile component names: accepted, but nothing raw reaches the terminal.
ACCEPTED_WITH_HOSTILE_NAMES = (
    "component_name_with_path_separators",
    "component_name_with_control_characters",
)

# Readable SBOMs with a defect the quality report must name (exit 0 unless --fail-under).
REPORTED_AS_PROBLEMS: dict[str, str] = {"invalid_purl": "invalid purl"}

_RAW_CONTROL = [chr(c) for c in range(32) if chr(c) not in "\n\t"] + ["\x7f"]


def _digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    if path.stat().st_size > 2**24:  # the sparse gigabyte: size and mtime say enough
        return f"{path.stat().st_size}:{path.stat().st_mtime_ns}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_catalogue_covers_every_maker() -> None:
    covered = set(REFUSED) | set(ACCEPTED_WITH_HOSTILE_NAMES) | set(REPORTED_AS_PROBLEMS)
    assert covered == set(inputs.SBOM_FILE_MAKERS)


@pytest.mark.parametrize("case", sorted(REPORTED_AS_PROBLEMS))
def test_sbom_check_names_the_defect_of_a_readable_sbom(tmp_path: Path, case: str) -> None:
    path = inputs.SBOM_FILE_MAKERS[case](tmp_path)
    result = CliRunner().invoke(app, ["sbom", "check", str(path), "--json"])
    assert result.exit_code == ExitCode.OK, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert any(REPORTED_AS_PROBLEMS[case] in p for p in problems), problems


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_sbom_check_refuses_hostile_input_with_one_clear_line(tmp_path: Path, case: str) -> None:
    path = inputs.SBOM_FILE_MAKERS[case](tmp_path)
    before = _digest(path)
    listing = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(app, ["sbom", "check", str(path)])
    expected_code, phrase = REFUSED[case]
    assert result.exit_code == expected_code, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    error = result.stderr
    assert error.endswith("\n")
    assert error.count("\n") == 1, error
    assert error.startswith("error: ")
    assert phrase in error, error
    assert path.name in error
    assert "Traceback" not in error
    assert not any(ch in error.rstrip("\n") for ch in _RAW_CONTROL)
    assert "root:" not in error  # never echoes /etc/passwd through an entity
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


@pytest.mark.parametrize("case", ACCEPTED_WITH_HOSTILE_NAMES)
@pytest.mark.parametrize("as_json", [False, True])
def test_hostile_component_names_never_reach_the_terminal_raw(
    tmp_path: Path, case: str, as_json: bool
) -> None:
    path = inputs.SBOM_FILE_MAKERS[case](tmp_path)
    args = ["sbom", "check", str(path), *(["--json"] if as_json else [])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert not any(ch in result.stdout for ch in _RAW_CONTROL)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
