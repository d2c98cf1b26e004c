"""The CI examples: valid YAML, run on tags, take secrets from the CI store, call real options."""

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import typer
import yaml

from craflow.cli import app

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
GITHUB = EXAMPLES / "github-actions" / "release.yml"
GITLAB = EXAMPLES / "gitlab-ci" / "release.yml"


def _load(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text())
    return loaded


def _shell_text(path: Path) -> list[str]:
    data = _load(path)
    if path == GITHUB:
        steps = data["jobs"]["release"]["steps"]
        return [str(step["run"]) for step in steps if "run" in step]
    return [str(line) for line in data["release"]["script"]]


def _craflow_calls(path: Path) -> list[list[str]]:
    calls = []
    for text in _shell_text(path):
        for line in text.replace("\\\n", " ").splitlines():
            stripped = line.strip()
            if stripped.startswith("craflow "):
                calls.append(shlex.split(stripped)[1:])
    return calls


def test_github_example_runs_on_tags_with_secrets_from_the_store() -> None:
    data = _load(GITHUB)
    # YAML reads the bare key `on` as True.
    assert data[True]["push"]["tags"] == ["v*"]
    env = data["jobs"]["release"]["env"]
    assert env["CRA_EVIDENCE_API_KEY"] == "${{ secrets.CRA_EVIDENCE_API_KEY }}"
    assert set(env) >= {"CRA_EVIDENCE_URL", "CRA_EVIDENCE_PRODUCT"}


def test_gitlab_example_runs_on_tags() -> None:
    job = _load(GITLAB)["release"]
    assert job["rules"] == [{"if": "$CI_COMMIT_TAG =~ /^v/"}]


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_examples_hold_no_credentials(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"cra_[A-Za-z0-9]{8,}", text)
    assert not re.search(r"AKIA[0-9A-Z]{12,}", text)


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_every_craflow_call_in_the_examples_parses(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRA_EVIDENCE_PRODUCT", "webshop")
    monkeypatch.setenv("CRA_EVIDENCE_VERSION", "1.2.3")
    root = typer.main.get_command(app)
    calls = _craflow_calls(path)
    assert {call[0] for call in calls} >= {"sbom", "release", "trigger-release"}
    for call in calls:
        command: click.Command = root
        args = list(call)
        while isinstance(command, click.Group):
            name = args.pop(0)
            found = command.get_command(click.Context(command), name)
            assert found is not None, f"no command {name!r} in {call}"
            command = found
        command.make_context(command.name or "craflow", args)
