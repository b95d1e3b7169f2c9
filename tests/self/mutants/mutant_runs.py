"""Running the suite against one mutant, and reading what the run says about it.

Needs tests/self/suite on sys.path (for `suite_runner`): the mutant tests' conftest and the
mutation-score benchmark put it there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from mutant_kinds import plugin_path, plugin_source
from suite_runner import SuiteRun, run_suite

# Every auto-loaded plugin stays on (the suite uses schemathesis and pytest-recording); only
# pytest-randomly, where installed, is blocked: it would shuffle the order `-x` stops in.
IN_FILE_ORDER = ("-p", "no:randomly")
# Stop at the first failure, in file order.
STOP_AT_FIRST = ("-x", *IN_FILE_ORDER)
# `FAILED <node id> - <message>`; an id's parameters may hold " - " (`[7 d - 1 s (max - 1 s)]`).
FAILED_LINE = re.compile(r"FAILED (\S+?::[^\s\[]+(?:\[.*?\])?)(?: - |$)")
# Asserted levels: a failure at one of these is the suite saying "the API broke its contract".
ASSERTED = frozenset({"documented", "inferred"})
# The name that stands for the reference sandbox itself, in the place of a mutant's.
REFERENCE = "reference"


def run_mutant(tmp_path: Path, name: str, *args: str, pycache: Path | None = None) -> SuiteRun:
    """Run the suite, with `args`, against the mutant or variation `name` (or the REFERENCE sandbox).

    `pycache` is a bytecode cache that runs share (outside the work tree): without one, and with
    PYTHONDONTWRITEBYTECODE set, every run compiles the package again (about 0.6 s each).
    """
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [plugin_path(), os.environ.get("PYTHONPATH")]))}
    if pycache is not None:
        env |= {"PYTHONPYCACHEPREFIX": str(pycache), "PYTHONDONTWRITEBYTECODE": ""}
    return run_suite(tmp_path, *args, plugin=None if name == REFERENCE else plugin_source(name), env=env)


def failed_cases(run: SuiteRun) -> list[dict[str, Any]]:
    return [c for c in run.results.get("cases", []) if c["verdict"] == "failed"]


def names_a_documented_row(case: dict[str, Any]) -> bool:
    """A failed case names the contract rows it exercised, at an asserted level."""
    return bool(case["rows"]) and case["level"] in ASSERTED


def killed(run: SuiteRun) -> bool:
    """The suite failed, and on a contract row, not on a crash or a usage error."""
    return run.returncode == 1 and any(names_a_documented_row(c) for c in failed_cases(run))


def failed_tests(run: SuiteRun) -> list[str]:
    """The ids of the failed suite tests, in the order they ran (from pytest's `-rf` summary lines)."""
    return [m.group(1) for line in run.output.splitlines() if (m := FAILED_LINE.match(line))]
