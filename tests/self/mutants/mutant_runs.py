"""Running the suite against one mutant, and reading what the run says about it.

Needs tests/self/suite on sys.path (for `suite_runner`): the mutant tests' conftest and the
mutation-score benchmark put it there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mutant_kinds import plugin_path, plugin_source
from suite_runner import SuiteRun, run_suite

# Stop at the first failure, in file order (pytest-randomly, where installed, would shuffle it).
STOP_AT_FIRST = ("-x", "-p", "no:randomly")
# Asserted levels: a failure at one of these is the suite saying "the API broke its contract".
ASSERTED = frozenset({"documented", "inferred"})


def run_mutant(tmp_path: Path, name: str, *args: str) -> SuiteRun:
    """Run the suite, with `args`, against the sandbox mutant (or variation) called `name`."""
    python_path = os.pathsep.join(filter(None, [plugin_path(), os.environ.get("PYTHONPATH")]))
    return run_suite(tmp_path, *args, plugin=plugin_source(name), env={"PYTHONPATH": python_path})


def failed_cases(run: SuiteRun) -> list[dict[str, Any]]:
    return [c for c in run.results.get("cases", []) if c["verdict"] == "failed"]


def names_a_documented_row(case: dict[str, Any]) -> bool:
    """A failed case names the contract rows it exercised, at an asserted level."""
    return bool(case["rows"]) and case["level"] in ASSERTED


def killed(run: SuiteRun) -> bool:
    """The suite failed, and on a contract row, not on a crash or a usage error."""
    return run.returncode == 1 and any(names_a_documented_row(c) for c in failed_cases(run))


def failed_tests(run: SuiteRun) -> list[str]:
    """The ids of the failed suite tests, in the order they ran (from pytest's `-rf` summary)."""
    prefix = "FAILED "
    return [line[len(prefix):].split(" - ")[0] for line in run.output.splitlines() if line.startswith(prefix)]
