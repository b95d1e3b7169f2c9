"""The import rules of ARCHITECTURE.md, checked on the source: a layer imports only the layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"

# module prefix -> the package prefixes it may import (besides itself)
ALLOWED: dict[str, tuple[str, ...]] = {
    "conformance.errors": (),
    "conformance.clock": (),
    "conformance.exchange": (),
    "conformance.files": (),
    "conformance.contract": ("conformance.errors", "conformance.files"),
    "conformance.targets.profile": ("conformance.errors", "conformance.contract"),
    "conformance.generate": (
        "conformance.errors",
        "conformance.clock",
        "conformance.exchange",
        "conformance.contract",
        "conformance.targets.profile",
    ),
    "conformance.report": (
        "conformance.errors",
        "conformance.files",
        "conformance.contract",
        "conformance.results",
    ),
    "conformance.sandbox": (
        "conformance.errors",
        "conformance.clock",
        "conformance.contract",
        "conformance.targets.profile",
    ),
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "conformance" and node.level == 0:
            found.update(
                f"conformance.{alias.name}" for alias in node.names
            )  # `from conformance import files`
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "conformance" or name.startswith("conformance.")}


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(PACKAGE)) for p in SOURCES])
def test_module_imports_only_layers_above_it(path: Path) -> None:
    """No module imports from a layer below its own."""
    module = _module(path)
    layer = next((prefix for prefix in ALLOWED if module == prefix or module.startswith(prefix + ".")), None)
    if layer is None:
        return  # the top layers (targets, suite, plugin, CLI) may import everything
    allowed = (layer, *ALLOWED[layer])
    forbidden = sorted(
        name for name in _imports(path) if not any(name == a or name.startswith(a + ".") for a in allowed)
    )
    assert not forbidden, f"{module} ({layer} layer) imports {forbidden}; see ARCHITECTURE.md"
