"""examples/nightly-live.yml: it passes actionlint, and its verdict step (`conformance verdict`, called
on results files the suite writes) is red for what a person must act on, and only for that."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from conformance.judging.results import UNVERIFIED, CaseResult, RunResults, Verdict, unverified

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


def _case(test: str, verdict: Verdict, level: str = "documented") -> CaseResult:
    """A case of `test` with `verdict` (skipped and error cases carry no level, as the suite writes)."""
    if verdict in UNVERIFIED:
        return unverified(test, verdict, f"why {test} reached no verdict", case=test)
    return CaseResult(test, test, "register", ("ROW",), level, ("400 ROW",), None, verdict)


def _write(path: Path, cases: list[CaseResult]) -> None:
    RunResults("live", "https://api.invalid", "digest", "1", "2026-12-07T02:17:00+00:00", cases=cases).write(
        path
    )


def _verdict(tmp_path: Path, night: Night) -> subprocess.CompletedProcess[str]:
    """The verdict step run by bash as the job runs it, on tonight's results file (none: not written)
    and the baseline's (by default tonight's cases, none failing)."""
    results = tmp_path / "results"
    results.mkdir(exist_ok=True)
    if night.cases is not None:
        _write(results / "nightly.json", night.cases)
        passing = [
            replace(c, verdict=Verdict.PASSED) if c.verdict == Verdict.FAILED else c for c in night.cases
        ]
        _write(results / "baseline.json", night.baseline if night.baseline is not None else passing)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUN_STATUS": night.run,
        "DRIFT_STATUS": night.drift,
    }
    return subprocess.run(
        ["bash", "-e", "-c", _verdict_script()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PASSED = _case("t1", Verdict.PASSED)
DOCUMENTED_FAILURE = _case("t2", Verdict.FAILED)
INFERRED_FAILURE = _case("t3", Verdict.FAILED, "inferred")
SKIPPED = _case("t4", Verdict.SKIPPED)
RECORDED = _case("t5", Verdict.RECORDED, "undocumented")
ERRORED = _case("t6", Verdict.ERROR)
SKIPPED_THERE = _case("t2", Verdict.SKIPPED)
PASSED_TOO = _case("t7", Verdict.PASSED)


class Night(NamedTuple):
    cases: list[CaseResult] | None  # tonight's results file (None: none was written)
    run: str  # the run step's exit status ("": it did not run)
    drift: str  # drift's exit status ("": no baseline accepted yet)
    red: str  # what the verdict step must say: "" green, else a part of its reason
    baseline: list[CaseResult] | None = None  # the baseline's cases (None: tonight's, none failing)


NIGHTS = {
    "all passed, some skipped or recorded": Night([PASSED, SKIPPED, RECORDED], "0", "0", ""),
    "an inferred failure only": Night([PASSED, INFERRED_FAILURE], "1", "0", ""),
    "a documented failure, no baseline yet": Night(
        [PASSED, DOCUMENTED_FAILURE], "1", "", "no baseline is accepted yet: t2 (t2)"
    ),
    "a documented failure the baseline had too": Night(
        [PASSED, DOCUMENTED_FAILURE], "1", "0", "", [PASSED, DOCUMENTED_FAILURE]
    ),
    "a documented failure the baseline had skipped": Night(
        [PASSED, DOCUMENTED_FAILURE], "1", "0", "the baseline did not have failing", [PASSED, SKIPPED_THERE]
    ),
    "a new test failing": Night([PASSED, DOCUMENTED_FAILURE], "1", "0", "did not have failing", [PASSED]),
    "drift found a documented regression": Night([PASSED], "0", "1", "drift against the baseline"),
    "no baseline yet": Night([PASSED], "0", "", ""),
    "the run was interrupted": Night([PASSED], "2", "0", "did not complete"),
    "the preflight failed: no results": Night(None, "", "", "the preflight failed"),
    "an error case": Night([PASSED, PASSED_TOO, ERRORED], "1", "0", "1 case(s) ended in error"),
    "errors outnumber verdicts": Night(
        [PASSED, ERRORED, _case("t8", Verdict.ERROR)], "1", "0", "errors outnumber"
    ),
    "a first night that verified nothing": Night([SKIPPED, RECORDED], "1", "", "verified nothing"),
    "a first night of inferred verdicts only": Night([INFERRED_FAILURE], "1", "", "verified nothing"),
    "verified less than the baseline": Night(
        [PASSED, SKIPPED_THERE],
        "0",
        "0",
        "verified less than the baseline",
        [PASSED, _case("t2", Verdict.PASSED)],
    ),
    "verified as much as the baseline, other cases": Night(
        [PASSED, PASSED_TOO], "0", "0", "", [PASSED, SKIPPED]
    ),
}


@pytest.mark.parametrize("night", list(NIGHTS.values()), ids=list(NIGHTS))
def test_verdict_is_red_for_what_a_person_must_act_on(tmp_path: Path, night: Night) -> None:
    """The job's colour: red for a run that verified nothing or errored, for what is new against the
    accepted baseline (drift's regressions, documented failures the baseline did not have failing,
    fewer documented cases judged; without a baseline: any documented failure), or a run that did
    not complete; the reason is one GitHub error annotation."""
    done = _verdict(tmp_path, night)
    assert (done.returncode != 0) is bool(night.red), done.stdout + done.stderr
    if night.red:
        assert "::error::" in done.stdout, done.stdout + done.stderr
        assert night.red in done.stdout, done.stdout
    else:
        assert done.stdout.startswith("green: "), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
