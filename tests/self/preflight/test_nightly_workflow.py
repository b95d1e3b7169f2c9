"""examples/nightly-live.yml: it passes actionlint, and its verdict step is red only for a broken
documented rule (or a run that did not complete, or drift's regression)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / "examples" / "nightly-live.yml"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str | None:
    """The tool installed beside this interpreter (the lint extras), else on PATH."""
    beside = BIN / name
    return str(beside) if beside.exists() else shutil.which(name)


def test_workflow_passes_actionlint() -> None:
    """actionlint (and shellcheck on its run: scripts, where installed) finds nothing to report."""
    actionlint = _tool("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed: `pip install -e '.[lint]'` installs it")
    shellcheck = _tool("shellcheck")
    done = subprocess.run(
        [actionlint, f"-shellcheck={shellcheck or ''}", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _verdict_script() -> str:
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = workflow["jobs"]["nightly"]["steps"]
    return str(next(s["run"] for s in steps if s.get("name", "").startswith("Verdict")))


def _verdict(tmp_path: Path, cases: list[dict[str, str]] | None, run: str, drift: str) -> int:
    """The verdict step's exit status, for a results file holding `cases` (None: no file)."""
    (tmp_path / "results").mkdir(exist_ok=True)
    results = tmp_path / "results" / "nightly.json"
    results.unlink(missing_ok=True)
    if cases is not None:
        results.write_text(json.dumps({"cases": cases}), encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUN_STATUS": run,
        "DRIFT_STATUS": drift,
    }
    done = subprocess.run(
        ["bash", "-e", "-c", _verdict_script()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode


PASSED = {"verdict": "passed", "level": "documented"}
DOCUMENTED_FAILURE = {"verdict": "failed", "level": "documented"}
INFERRED_FAILURE = {"verdict": "failed", "level": "inferred"}
SKIPPED = {"verdict": "skipped"}
RECORDED = {"verdict": "recorded", "level": "undocumented"}


@pytest.mark.parametrize(
    ("cases", "run", "drift", "red"),
    [
        pytest.param([PASSED, SKIPPED, RECORDED], "0", "0", False, id="all passed, some skipped or recorded"),
        pytest.param([PASSED, INFERRED_FAILURE], "1", "0", False, id="an inferred failure only"),
        pytest.param([PASSED, DOCUMENTED_FAILURE], "1", "", True, id="a documented failure, no baseline yet"),
        pytest.param(
            [PASSED, DOCUMENTED_FAILURE], "1", "0", False, id="a documented failure the baseline had too"
        ),
        pytest.param([PASSED], "0", "1", True, id="drift found a documented regression"),
        pytest.param([PASSED], "0", "", False, id="no baseline yet"),
        pytest.param([PASSED], "2", "0", True, id="the run was interrupted"),
        pytest.param(None, "", "", True, id="the preflight failed: no results"),
    ],
)
def test_verdict_is_red_only_for_a_broken_documented_rule(
    tmp_path: Path, cases: list[dict[str, str]] | None, run: str, drift: str, red: bool
) -> None:
    """The job's colour: red for a documented regression against the accepted baseline (without one:
    for any documented failure), or a run that did not complete."""
    assert (_verdict(tmp_path, cases, run, drift) != 0) is red
