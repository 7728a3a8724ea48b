"""Issue 15: no module imports another module's private (`_name`) functions; what two modules
share has a plain public name. Imports inside functions count too."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "core",
    "plans",
    "taxes",
    "webhooks",
    "customers",
    "usage",
    "invoices",
    "payments",
    "portal",
    "backoffice",
    "billing_site",
]


def _private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [
                f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    return found


def test_no_module_imports_a_private_name_of_another():
    sources = [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]
    assert [line for path in sources for line in _private_imports(path)] == []
