"""The command line is a table of the areas' commands, and building its parser stays cheap: it
imports each area's `command.py`, not the work a command runs."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

# What the commands run, each imported only when its command runs.
WORK = (
    "conformance.sandbox.assemble",
    "conformance.certify.harness",
    "conformance.certify.bundle",
    "conformance.targets.preflight",
    "conformance.contract.lint",
    "conformance.cassettes.lint",
    "conformance.judging.earned",
    "conformance.plugin.hooks",
)
LAZY_PACKAGES = ("conformance.sandbox", "conformance.certify")


def test_the_parser_imports_no_command_s_work() -> None:
    """`conformance --help` (any command's parse) imports none of the modules the commands run."""
    listing = "import sys; from conformance.cli import _parser; _parser(); print(*sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", listing], capture_output=True, text=True, check=True)
    imported = set(done.stdout.split())
    assert "conformance.cli" in imported
    assert sorted(imported.intersection(WORK)) == []


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_a_package_s_public_names_resolve_on_first_use(package: str) -> None:
    """Every name of a lazily imported package's `__all__` resolves; any other is an AttributeError."""
    module = import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError, match=package):
        _ = module.no_such_name
