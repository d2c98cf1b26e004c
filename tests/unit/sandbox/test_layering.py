"""The sandbox is an independent implementation: it imports no client, SBOM, evidence,
task or flow code, and no Prefect."""

import ast
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[3] / "craflow" / "sandbox"
FORBIDDEN = ("craflow.api", "craflow.sbom", "craflow.evidence", "tasks", "flows", "prefect")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "module", sorted(p for p in SANDBOX.glob("*.py") if p.name != "s3.py"), ids=lambda p: p.name
)
def test_sandbox_module_imports_nothing_forbidden(module: Path) -> None:
    bad = {
        name
        for name in imported_modules(module)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert bad == set()
