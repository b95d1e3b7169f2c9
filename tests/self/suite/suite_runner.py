"""Run the conformance suite in a fresh interpreter and read what it wrote: the self-tests' harness.

A subprocess, not pytester: the suite is found through the installed `pytest11` entry point and
`--pyargs`, exactly as `conformance run` finds it, and a plugin file can swap the sandbox through the
`pytest_conformance_sandbox` hook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUITE_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    output: str
    results: dict[str, Any]

    def verdicts(self) -> dict[tuple[str, str], str]:
        """(test, case) -> verdict, for comparing runs."""
        return {(c["test"], c["case"]): c["verdict"] for c in self.results.get("cases", [])}


def run_suite(
    tmp_path: Path, *args: str, plugin: str | None = None, env: dict[str, str] | None = None
) -> SuiteRun:
    """Run `pytest --pyargs conformance.suite` with `args`; `plugin` is Python source loaded with -p."""
    results = tmp_path / "results.json"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite",
        "-p",
        "no:cacheprovider",
        "-q",
        "--results",
        str(results),
        *args,
    ]
    environment = {**os.environ, **(env or {})}
    if plugin is not None:
        (tmp_path / "suite_plugin_under_test.py").write_text(plugin, encoding="utf-8")
        command += ["-p", "suite_plugin_under_test"]
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(tmp_path), environment.get("PYTHONPATH")])
        )
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT_SECONDS,
        check=False,
    )
    data = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
    return SuiteRun(done.returncode, done.stdout + done.stderr, data)
