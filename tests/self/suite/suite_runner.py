"""Run the conformance suite in a fresh interpreter and read what it wrote: the self-tests' harness.

A subprocess, not pytester: the suite is found through the installed `pytest11` entry point and
`--pyargs`, exactly as `conformance run` finds it, and a plugin file can swap the sandbox through the
`pytest_conformance_sandbox` hook.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.contract import load_contract
from conformance.plugin.command import suite_command

SUITE_TIMEOUT_SECONDS = 300
# The suite's tests whose verdicts depend on time (ends_at edges, edge probes, token sync, lifecycle,
# parallel /start, expiry), for runs under latency and clock offset. By names only: `-k` also matches
# marker names, and a bare "sync" picks every test marked `synced` (4x the tests, 417 s at 150 ms).
TIME_BOUND = "ends_at or edge or eligibility_and_sync or not_synced or lifecycle or parallel or expiry"


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    output: str
    results: dict[str, Any]

    def verdicts(self) -> dict[tuple[str, str], str]:
        """(test, case) -> verdict, for comparing runs."""
        return {(c["test"], c["case"]): c["verdict"] for c in self.results.get("cases", [])}


def run_suite(
    tmp_path: Path,
    *args: str,
    plugin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = SUITE_TIMEOUT_SECONDS,
) -> SuiteRun:
    """Run `pytest --pyargs conformance.suite` with `args`; `plugin` is Python source loaded with -p."""
    results = tmp_path / "results.json"
    command = suite_command("-q", "--results", str(results), *args)
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
        timeout=timeout,
        check=False,
    )
    data = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
    return SuiteRun(done.returncode, done.stdout + done.stderr, data)


TOKEN_VARIABLE = "LA_SANDBOX_CONTROL_TOKEN"
STOP_SECONDS = 30


@contextmanager
def served_sandbox(token: str, *options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`conformance sandbox serve` on an ephemeral loopback port with a control token: (URL, process).

    `options` go to `sandbox serve` (`--reading ID=OPTION`, `--latency-ms`, `--clock-offset`, ...).
    Stopped with SIGINT (Ctrl-C) at the end unless a test already stopped it.
    """
    server = subprocess.Popen(
        [
            sys.executable,
            *("-m", "conformance.cli", "sandbox", "serve", "--host", "127.0.0.1", "--port", "0"),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, TOKEN_VARIABLE: token},
    )
    assert server.stdout is not None
    first = server.stdout.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
    try:
        assert match, f"the sandbox did not announce its URL: {first!r}"
        yield match.group(1), server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=STOP_SECONDS)


def served_profile(url: str, directory: Path) -> Path:
    """The sandbox's own target profile, pointed at a served sandbox's URL, written into `directory`."""
    reference = (load_contract().directory / "targets" / "sandbox.toml").read_text(encoding="utf-8")
    path = directory / "served-sandbox.toml"
    path.write_text(re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{url}"', reference), encoding="utf-8")
    return path
