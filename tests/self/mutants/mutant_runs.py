"""Running the suite against one mutant, and reading what the run says about it.

In process (the suite swaps its sandbox for the mutant through a plugin) or served (the mutant built
here and served over loopback HTTP, the suite run with `--target live` against it).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conformance.contract import load_contract
from conformance.core.clock import SystemClock
from conformance.profile.target_profile import load_profile, sandbox_profile_path
from conformance.sandbox import SandboxConfig, build_sandbox
from conformance.sandbox.serve import running
from tests.self.mutants.mutant_kinds import plugin_path, plugin_source
from tests.self.mutants.sandbox_mutants import BY_NAME
from tests.self.suite.suite_runner import TOKEN_VARIABLE, SuiteRun, run_suite, served_profile

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
    env |= _bytecode_cache(pycache)
    return run_suite(tmp_path, *args, plugin=None if name == REFERENCE else plugin_source(name), env=env)


def _bytecode_cache(pycache: Path | None) -> dict[str, str]:
    return {} if pycache is None else {"PYTHONPYCACHEPREFIX": str(pycache), "PYTHONDONTWRITEBYTECODE": ""}


@contextmanager
def served(name: str, config: SandboxConfig, workdir: Path) -> Iterator[str]:
    """The mutant or variation `name` (or the REFERENCE sandbox), built with `config` on the real
    clock and served over loopback HTTP from a thread of this process, for the block: its base URL.

    Built from the package's contract and the sandbox's own profile, as `conformance sandbox serve`
    builds it; an edited contract is copied under `workdir`.
    """
    contract = load_contract()
    profile = load_profile(sandbox_profile_path(contract), contract)
    if name == REFERENCE:
        sandbox = build_sandbox(contract, profile, clock=SystemClock(), config=config)
    else:
        sandbox = BY_NAME[name].sandbox(contract, profile, SystemClock(), workdir, config=config)
    with running(sandbox) as url:
        yield url


def run_served(
    tmp_path: Path, name: str, config: SandboxConfig, *args: str, pycache: Path | None = None
) -> SuiteRun:
    """Serve `name` (see `served`) and run the suite, with `args`, against it as a live target.

    The target profile is the sandbox's own pointed at the served URL; its control API is enabled
    with `config`'s control token (the profile reads it from TOKEN_VARIABLE), a random one if None.
    """
    token = config.control_token or os.urandom(12).hex()
    with served(name, dataclasses.replace(config, control_token=token), tmp_path) as url:
        profile = served_profile(url, tmp_path)
        live = ("--target", "live", "--base-url", url, "--target-profile", str(profile))
        return run_suite(tmp_path, *live, *args, env={TOKEN_VARIABLE: token, **_bytecode_cache(pycache)})


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


NAMED_EDGE_TEST = "test_ends_at_named_edge"
# The zone part of a named edge's id: `-UTC`, `-UTC+5:30:00`, `-UTC-8:00:00`.
ZONE_SUFFIX = re.compile(r"-UTC(?:[+-][\d:]+)?$")


def named_edge_of(test_id: str) -> str | None:
    """The edge label of a `test_ends_at_named_edge[<label>-<zone>]` id; None for any other test."""
    name, _, parameters = test_id.partition("[")
    if not name.endswith(f"::{NAMED_EDGE_TEST}") or not parameters.endswith("]"):
        return None
    return ZONE_SUFFIX.sub("", parameters[:-1])
