"""examples/nightly-live.yml: it passes actionlint, and its verdict step is red only for a broken
documented rule (or a run that did not complete, or drift's regression)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

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


def _verdict(
    tmp_path: Path,
    cases: list[dict[str, str]] | None,
    run: str,
    drift: str,
    baseline: list[dict[str, str]] | None = None,
) -> int:
    """The verdict step's exit status, for a results file holding `cases` (None: no file), compared
    with a baseline holding `baseline` (by default: the same cases, all passing)."""
    (tmp_path / "results").mkdir(exist_ok=True)
    results = tmp_path / "results" / "nightly.json"
    results.unlink(missing_ok=True)
    if cases is not None:
        results.write_text(json.dumps({"cases": cases}), encoding="utf-8")
        accepted = baseline if baseline is not None else [{**c, "verdict": "passed"} for c in cases]
        (tmp_path / "results" / "baseline.json").write_text(json.dumps({"cases": accepted}), encoding="utf-8")
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


PASSED = {"test": "t1", "case": "a", "verdict": "passed", "level": "documented"}
DOCUMENTED_FAILURE = {"test": "t2", "case": "b", "verdict": "failed", "level": "documented"}
INFERRED_FAILURE = {"test": "t3", "case": "c", "verdict": "failed", "level": "inferred"}
SKIPPED = {"test": "t4", "case": "d", "verdict": "skipped"}
RECORDED = {"test": "t5", "case": "e", "verdict": "recorded", "level": "undocumented"}


class Night(NamedTuple):
    cases: list[dict[str, str]] | None  # tonight's results file (None: none was written)
    run: str  # the run step's exit status ("": it did not run)
    drift: str  # drift's exit status ("": no baseline accepted yet)
    red: bool  # what the verdict step must say
    baseline: list[dict[str, str]] | None = None  # the baseline's cases (None: tonight's, all passing)


SKIPPED_THERE = {**DOCUMENTED_FAILURE, "verdict": "skipped"}
NIGHTS = {
    "all passed, some skipped or recorded": Night([PASSED, SKIPPED, RECORDED], "0", "0", False),
    "an inferred failure only": Night([PASSED, INFERRED_FAILURE], "1", "0", False),
    "a documented failure, no baseline yet": Night([PASSED, DOCUMENTED_FAILURE], "1", "", True),
    "a documented failure the baseline had too": Night(
        [PASSED, DOCUMENTED_FAILURE], "1", "0", False, [PASSED, DOCUMENTED_FAILURE]
    ),
    "a documented failure the baseline had skipped": Night(
        [PASSED, DOCUMENTED_FAILURE], "1", "0", True, [PASSED, SKIPPED_THERE]
    ),
    "a new test failing": Night([PASSED, DOCUMENTED_FAILURE], "1", "0", True, [PASSED]),
    "drift found a documented regression": Night([PASSED], "0", "1", True),
    "no baseline yet": Night([PASSED], "0", "", False),
    "the run was interrupted": Night([PASSED], "2", "0", True),
    "the preflight failed: no results": Night(None, "", "", True),
}


@pytest.mark.parametrize("night", list(NIGHTS.values()), ids=list(NIGHTS))
def test_verdict_is_red_only_for_a_broken_documented_rule(tmp_path: Path, night: Night) -> None:
    """The job's colour: red for what is new against the accepted baseline (drift's regressions, and
    documented failures the baseline did not have failing; without a baseline: any documented
    failure), or a run that did not complete."""
    verdict = _verdict(tmp_path, night.cases, night.run, night.drift, night.baseline)
    assert (verdict != 0) is night.red
