"""The app's layering: pages talk to the backend through its data contract (backend.schemas), the client
(backend.clients) and the errors it raises (backend.errors) only; everything else comes from components/."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
ALLOWED = ("backend.schemas", "backend.clients", "backend.errors")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, relative imports resolved within app/."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append((node.lineno, f"app.{node.module or ''}" if node.level else node.module or ""))
    return modules


def allowed(module: str) -> bool:
    """Whether app/ may import module: anything outside the backend and torch, and the backend's public layers."""
    top = module.split(".")[0]
    if top == "torch":
        return False
    return top != "backend" or any(module == name or module.startswith(f"{name}.") for name in ALLOWED)


def test_the_rule_itself():
    assert allowed("backend.schemas") and allowed("backend.schemas.image") and allowed("backend.clients.http")
    assert allowed("backend.errors") and allowed("components.errors") and allowed("streamlit")
    assert not allowed("backend.models.registry") and not allowed("backend.errorsx") and not allowed("backend")
    assert not allowed("torch") and not allowed("torch.nn")


@pytest.mark.parametrize("path", sorted(APP.glob("*.py")), ids=lambda p: p.name)
def test_app_imports_only_schemas_clients_errors_and_components(path: Path):
    wrong = [f"{path.name}:{line}: {module}" for line, module in imported_modules(path) if not allowed(module)]
    assert not wrong, "app/ reaches past the backend's schemas, clients and errors:\n" + "\n".join(wrong)
