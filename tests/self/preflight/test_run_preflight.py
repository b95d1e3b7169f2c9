"""`conformance run` against a target it cannot run against ends before any test, in a few lines.

The same preflight as `conformance check` runs in the plugin's `pytest_configure`: a malformed
profile, an unreachable target, an undeclared base URL and a good key that is unset, empty or refused
each give pytest's usage error, which `conformance run` exits with as status 2 (as every command
given bad input), with one message, not one test error per test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.contract import load_contract
from conformance.profile.target_profile import load_profile, sandbox_profile_path
from conformance.sandbox import build_sandbox
from conformance.sandbox.serve import running

MOST_LINES = 4
BAD_INPUT = 2  # `conformance run` exits so for pytest's usage error


def _profile(
    tmp_path: Path, *, drop: str | None = None, base_url: str | None = None, good_env: str | None = None
) -> Path:
    text = sandbox_profile_path(load_contract()).read_text(encoding="utf-8")
    if good_env is not None:
        text = re.sub(r'(?m)^good = { key = ".*" }$', f'good = {{ env = "{good_env}" }}', text)
    if drop is not None:
        text = re.sub(rf"(?m)^{drop} = .*\n", "", text)
    if base_url is not None:
        text = re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{base_url}"', text)
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance.cli", "run", "-q", "-p", "no:randomly", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("malformed profile", "`activity_type` is missing"),
        ("unreachable target", "cannot be reached"),
        ("undeclared base URL", "destructive_allowed"),
    ],
)
def test_a_live_run_that_cannot_start_ends_in_one_message(tmp_path: Path, case: str, expected: str) -> None:
    results = tmp_path / "results.json"
    if case == "malformed profile":
        args = ["--target-profile", str(_profile(tmp_path, drop="activity_type"))]
    elif case == "unreachable target":
        args = ["--target-profile", str(_profile(tmp_path, base_url="http://127.0.0.1:1"))]
    else:
        args = ["--target-profile", str(_profile(tmp_path)), "--base-url", "http://127.0.0.1:2"]
    done = _run("--target", "live", "--results", str(results), *args)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == BAD_INPUT, output
    assert expected in output
    assert "Traceback" not in output
    assert "ERROR at setup" not in output  # no test ran, so none errored
    assert len(output.splitlines()) <= MOST_LINES, output
    assert not results.exists()  # no test ran, so there are no results to write


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """The sandbox served over loopback, seeded with the bundled profile's keys."""
    contract = load_contract()
    sandbox = build_sandbox(contract, load_profile(sandbox_profile_path(contract), contract))
    with running(sandbox) as url:
        yield url


@pytest.mark.parametrize(
    ("value", "problem"),
    [(None, "is unset"), ("", "is empty"), ("made-up-key", "is not a key of state 'good'")],
    ids=["unset", "empty", "wrong"],
)
def test_a_live_run_without_a_good_key_ends_before_any_test(
    tmp_path: Path, served: str, value: str | None, problem: str
) -> None:
    """The good key's variable unset, empty or wrong: `conformance run` exits 2 before any test, in one
    message naming the variable, and writes no results."""
    results = tmp_path / "results.json"
    profile = _profile(tmp_path, base_url=served, good_env="RUN_KEY_GOOD")
    env = {k: v for k, v in os.environ.items() if k != "RUN_KEY_GOOD"}
    if value is not None:
        env["RUN_KEY_GOOD"] = value
    done = _run("--target", "live", "--target-profile", str(profile), "--results", str(results), env=env)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == BAD_INPUT, output
    assert f"$RUN_KEY_GOOD {problem}" in output
    assert "fix: export RUN_KEY_GOOD" in output
    assert len(output.splitlines()) <= MOST_LINES, output
    assert not re.search(r"\d+ (passed|failed|skipped|error)", output)  # no test ran
    assert not results.exists()
