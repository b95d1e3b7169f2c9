"""The import rules of ARCHITECTURE.md, checked on the source: every module belongs to a layer, a
layer imports only the layers it may, and no module imports itself back through others."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"
# layer -> (its package, the layers it may import besides itself and the foundations). A layer is one
# package, so a module's layer is its package's name.
LAYERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "foundations": ("conformance.core", ()),
    "contract": ("conformance.contract", ()),
    "target values": ("conformance.profile", ("contract",)),
    "prediction": ("conformance.generate", ("contract", "target values")),
    "judging": ("conformance.judging", ("contract", "target values", "prediction")),
    "sandbox": ("conformance.sandbox", ("contract", "target values")),
    "reports": ("conformance.report", ("contract", "judging")),
    "recording": ("conformance.cassettes", ("target values",)),
    "targets": (
        "conformance.targets",
        ("contract", "target values", "prediction", "judging", "sandbox", "recording"),
    ),
    "plugin": (
        "conformance.plugin",
        ("contract", "target values", "prediction", "judging", "sandbox", "reports", "recording", "targets"),
    ),
    "suite": (
        "conformance.suite",
        (
            "contract",
            "target values",
            "prediction",
            "judging",
            "sandbox",
            "reports",
            "recording",
            "targets",
            "plugin",
        ),
    ),
    "client": ("conformance.client", ("contract",)),
    "certification": (
        "conformance.certify",
        ("contract", "target values", "sandbox", "reports", "judging", "prediction", "client"),
    ),
    # the package itself (its public names) and the command line may import everything
    "command line": ("conformance.cli", ()),
}
TOP = ("conformance",)


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = sorted(PACKAGE.rglob("*.py"))
MODULES = {_module(p): p for p in SOURCES}


def _layer(module: str) -> str | None:
    if module in TOP:
        return "command line"
    return next(
        (
            name
            for name, (package, _) in LAYERS.items()
            if module == package or module.startswith(package + ".")
        ),
        None,
    )


@cache
def _imports(path: Path) -> frozenset[str]:
    """The package's modules `path` imports, anywhere in it (type-only imports too: a cycle of
    types is a cycle of meaning)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports that module; `from module import name`, the module.
            named = {f"{node.module}.{alias.name}" for alias in node.names}
            found.update(named & MODULES.keys())
            if named - MODULES.keys():
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return frozenset(name for name in found if name in MODULES)


def _ancestors(module: str) -> list[str]:
    """`a.b.c` -> `a.b.c` and the packages above it whose `__init__` imports anything of ours (an
    empty one runs nothing that could break a layer)."""
    parts = module.split(".")
    above = [".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]
    return [module, *(p for p in above if p in MODULES and _imports(MODULES[p]))]


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(PACKAGE)) for p in SOURCES])
def test_module_belongs_to_a_layer_and_imports_only_the_layers_it_may(path: Path) -> None:
    module = _module(path)
    layer = _layer(module)
    assert layer is not None, f"{module} belongs to no layer: add it to LAYERS and to ARCHITECTURE.md"
    if layer == "command line":
        return  # the command line may import everything
    allowed = {layer, "foundations", *LAYERS[layer][1]}
    # Importing a module runs its packages' `__init__` first: they count as imported too.
    imported = {p for name in _imports(path) for p in _ancestors(name)} - {"conformance"}
    forbidden = sorted(name for name in imported if _layer(name) not in allowed)
    assert not forbidden, f"{module} ({layer} layer) imports {forbidden}; see ARCHITECTURE.md"


def test_no_module_imports_itself_back() -> None:
    """No import cycle between the package's modules (a package's `__init__` counts as a module)."""
    graph = {m: _imports(p) - {m} for m, p in MODULES.items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                cycles.append(" -> ".join([*path[path.index(imported) :], imported]))
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
