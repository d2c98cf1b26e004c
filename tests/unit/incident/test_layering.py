"""craflow/incident is a plain library: no Prefect, no tasks or flows, no API client."""

import ast
from pathlib import Path

import pytest

INCIDENT = Path(__file__).resolve().parents[3] / "craflow" / "incident"
FORBIDDEN = ("prefect", "tasks", "flows", "craflow.api", "craflow.commands")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", sorted(INCIDENT.glob("*.py")), ids=lambda p: p.name)
def test_incident_module_imports_nothing_forbidden(module: Path) -> None:
    bad = {n for n in _imports(module) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}
    assert bad == set()
