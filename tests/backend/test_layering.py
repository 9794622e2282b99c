"""The backend never imports the front end (app/ pages or components/ figures): it runs alone on a GPU machine."""
from __future__ import annotations

import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"
FRONT_END = ("app", "components", "streamlit")


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_backend_module_imports_the_front_end():
    offenders = {str(path.relative_to(BACKEND.parent)): sorted(imported_modules(path) & set(FRONT_END))
                 for path in BACKEND.rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}
