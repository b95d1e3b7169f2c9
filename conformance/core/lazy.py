"""A package's public names, each imported from its module on first use (PEP 562).

A package whose `__init__` imports its public surface makes every one of its modules cost the whole
package: the CLI's parser, which imports each area's `command.py`, would import the sandbox and the
certification harness to print `--help`. Such a package imports its public names under
`TYPE_CHECKING` (for the type checker), lists them in `__all__`, and maps each to its module here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def public_names(package: str, modules: Mapping[str, str]) -> Callable[[str], object]:
    """The package's `__getattr__`: `modules` maps each public name to the module that defines it."""

    def __getattr__(name: str) -> object:  # noqa: N807 - PEP 562 looks it up by this name
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(modules[name]), name)

    return __getattr__
