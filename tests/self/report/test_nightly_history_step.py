"""examples/nightly-live.yml's history steps, run as the job runs them: each night a fresh checkout,
the store restored from the cache (here: kept between nights), tonight's results added to it, and the
history over every night so far in the job summary; nothing committed, no earlier JSON needed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.self.report.nightly_history import write_history

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / "examples" / "nightly-live.yml"
BIN = Path(sys.executable).parent
STORE = Path("history") / "drift-history.sqlite"
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the workflow's steps are bash")


def _step(name: str) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    step: dict[str, Any] = next(s for s in workflow["jobs"]["nightly"]["steps"] if s.get("name") == name)
    return step


def _night(job: Path, results: Path, run_id: int) -> tuple[str, str]:
    """One night's job: a fresh workspace but for the cached store; the step's output and summary."""
    shutil.rmtree(job / "results", ignore_errors=True)
    shutil.rmtree(job / "history" / "tonight", ignore_errors=True)
    (job / "results").mkdir(parents=True)
    shutil.copy(results, job / "results" / "nightly.json")
    output, summary = job / "output.txt", job / "summary.md"
    output.write_text("", encoding="utf-8")
    summary.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_RUN_ID": str(run_id),
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    script = _step("Drift over the nightly history")["run"]
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=job,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return output.read_text(encoding="utf-8"), summary.read_text(encoding="utf-8")


def test_the_cache_steps_carry_the_store_the_history_step_writes() -> None:
    """Restored and saved under the same path, a new key each night, the newest restored."""
    restore, save = _step("Restore the drift history"), _step("Keep the drift history for the next night")
    assert restore["with"]["path"] == save["with"]["path"] == str(STORE)
    assert restore["with"]["key"] == save["with"]["key"]
    assert "github.run_id" in save["with"]["key"]
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert str(STORE) in _step("Drift over the nightly history")["run"]


def test_each_night_adds_to_the_history_the_next_night_reads(tmp_path: Path) -> None:
    nights = write_history(tmp_path / "generated", 3)
    job = tmp_path / "job"
    job.mkdir()
    output, summary = _night(job, nights[0], 101)
    assert output == "status=2\n"  # one night is no history yet: said in the summary, kept in the store
    assert "a history needs at least two runs" in summary
    assert (job / STORE).is_file()
    output, summary = _night(job, nights[1], 102)
    assert output == "status=0\n"
    assert summary.startswith("## Conformance drift over 2 runs: no documented regression\n")
    output, summary = _night(job, nights[2], 103)
    assert output == "status=1\n"  # the generated last night breaks a documented case
    assert summary.startswith("## Conformance drift over 3 runs: 1 documented regression(s)")
    assert (job / "results" / "history.html").is_file()
    assert (job / "results" / "drift-history.sqlite").read_bytes() == (job / STORE).read_bytes()
    (tonight,) = (job / "history" / "tonight").iterdir()  # named by its day, run id and attempt
    assert re.fullmatch(r"nightly-\d{4}-\d{2}-\d{2}-103-1\.json", tonight.name)
