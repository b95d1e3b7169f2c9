"""`conformance run` against a target it cannot run against ends before any test, in a few lines.

The same preflight as `conformance check` runs in the plugin's `pytest_configure`: a malformed
profile, an unreachable target and an undeclared base URL each give pytest's usage error (exit 4)
with one message, not one test error per test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.contract import load_contract
from conformance.targets.profile import sandbox_profile_path

MOST_LINES = 4
USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR


def _profile(tmp_path: Path, *, drop: str | None = None, base_url: str | None = None) -> Path:
    text = sandbox_profile_path(load_contract()).read_text(encoding="utf-8")
    if drop is not None:
        text = re.sub(rf"(?m)^{drop} = .*\n", "", text)
    if base_url is not None:
        text = re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{base_url}"', text)
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance.cli", "run", "-q", "-p", "no:randomly", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


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
    assert done.returncode == USAGE_ERROR, output
    assert expected in output
    assert "Traceback" not in output
    assert "ERROR at setup" not in output  # no test ran, so none errored
    assert len(output.splitlines()) <= MOST_LINES, output
    assert not results.exists()  # no test ran, so there are no results to write
