"""The suite's own pytest settings hold wherever the profile, results and JUnit files live: a run
with all three outside the checkout prints no warning per test, and its JUnit classnames are the
module names, the same on every machine."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conformance.plugin.command import SUITE_CONFIG, suite_command
from tests.self.reference import bundled_contract

RUN_TIMEOUT_SECONDS = 300  # hang guard, not a timing


def test_a_run_with_its_files_outside_the_checkout_keeps_the_suites_settings(tmp_path: Path) -> None:
    """Profile, results and JUnit in a temporary folder: the suite's folder is the rootdir and its
    pytest.ini the config, fewer than 5 warnings, JUnit keeps the properties (xunit1), classnames
    such as `test_lifecycle` (no folder of this machine in them)."""
    profile = tmp_path / "elsewhere" / "profile.toml"
    profile.parent.mkdir()
    profile.write_text(
        (bundled_contract().directory / "targets" / "sandbox.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    junit = tmp_path / "elsewhere" / "junit.xml"
    done = subprocess.run(
        suite_command(
            *("-v", "-k", "lifecycle", "--target-profile", str(profile)),
            *("--results", str(tmp_path / "results.json"), "--junitxml", str(junit)),
        ),
        cwd=profile.parent,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert output.count("Warning") < 5, output[-3000:]
    assert f"rootdir: {SUITE_CONFIG.parent}\nconfigfile: {SUITE_CONFIG.name}\n" in output
    text = junit.read_text(encoding="utf-8")
    assert '<property name="contract_rows"' in text  # junit_family xunit1: xunit2 drops properties
    classnames = set(re.findall(r'classname="([^"]*)"', text))
    assert classnames
    assert all(re.fullmatch(r"test_\w+", name) for name in classnames), classnames
