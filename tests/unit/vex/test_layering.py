"""craflow/vex is a plain library: no Prefect, no tasks or flows, no commands."""

import ast
from pathlib import Path

import craflow.vex

FORBIDDEN = ("prefect", "tasks", "flows", "craflow.commands", "craflow.sandbox")


def test_vex_library_imports_nothing_from_above() -> None:
    root = Path(craflow.vex.__file__).parent
    offenders = []
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in FORBIDDEN
                or any(n == f or n.startswith(f + ".") for f in FORBIDDEN)
            ]
    assert offenders == []
