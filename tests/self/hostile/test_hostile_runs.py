"""The suite, and the reports of what it found, against a hostile target: each run ends in seconds
with one clear reason, and nothing the target sends (a key it echoes, escapes, workflow commands,
Markdown) nor any insider id reaches the output, the results, JUnit or the reports as it is.

Each test serves the sandbox behind a `Hostile` front (tests/self/hostile/hostile_server.py) with
short limits in its profile, and runs a few suite tests against it as a live target.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.cassettes.pseudonyms import PSEUDONYM_KEY_VARIABLE
from conformance.plugin.command import suite_command
from tests.self.hostile.hostile_server import served_hostile
from tests.self.reference import sandbox_profile

# Short limits, so that a target that stops answering costs a run seconds: a request gets 2 s in all,
# and two in a row with no answer stop the run. The other modes keep the defaults, so that a loaded
# machine never makes a well-behaved request look unanswered.
SHORT_LIMITS: dict[str, float] = {"request_deadline_seconds": 2, "stop_after_unanswered": 2}
# Hang guard for one suite run, not a timing: a run that needs this long is broken.
RUN_TIMEOUT_SECONDS = 300
ONE_TEST = "test_ineligible_insider_is_counted_beside_an_eligible_one and gdpr"
REPORT_FORMATS = ("markdown", "html", "junit")


@dataclass(frozen=True)
class HostileRun:
    returncode: int
    output: str
    results: dict[str, Any]
    artefacts: dict[str, str]  # name -> text: results, JUnit, reports

    def everything(self) -> str:
        return self.output + "".join(self.artefacts.values())


def hostile_run(
    tmp_path: Path,
    mode: str,
    selection: str,
    *args: str,
    limits: dict[str, float] | None = None,
    **settings: Any,
) -> HostileRun:
    """Run the `selection` of suite tests against the sandbox behind `mode` (the preflight and the
    clock's calibration spared); read what it wrote, and render every report of its results."""
    with served_hostile(tmp_path, mode, limits=limits, spare_empty=True, **settings) as served:
        results, junit = tmp_path / "results.json", tmp_path / "junit.xml"
        command = suite_command(
            *("-q", "--target", "live", "--target-profile", str(served.profile), "-k", selection),
            *("--results", str(results), "--junitxml", str(junit), *args),
        )
        done = subprocess.run(
            command,
            cwd=tmp_path,
            env={**os.environ, PSEUDONYM_KEY_VARIABLE: "hostile-test-pseudonyms"},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
    artefacts = {"results": results.read_text(encoding="utf-8"), "junit": junit.read_text(encoding="utf-8")}
    artefacts |= {str(p): p.read_text(encoding="utf-8") for p in sorted(tmp_path.glob("cassettes/**/*.yaml"))}
    for form in REPORT_FORMATS:
        report = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "report", str(results), "--format", form],
            capture_output=True,
            text=True,
            check=True,
        )
        artefacts[form] = report.stdout
    return HostileRun(done.returncode, done.stdout + done.stderr, json.loads(artefacts["results"]), artefacts)


@pytest.mark.parametrize(
    ("mode", "settings"),
    [("hang", {}), ("drip", {"interval": 0.1}), ("close", {})],
    ids=["hangs", "drips", "closes-connections"],
)
def test_a_target_that_stops_answering_stops_the_run_with_the_reason(
    tmp_path: Path, mode: str, settings: dict[str, Any]
) -> None:
    """After the profile's number of unanswered requests the run stops: exit 2 (interrupted), one
    `Interrupted:` line, and the reason in the summary and in the results."""
    run = hostile_run(tmp_path, mode, "lifecycle", limits=SHORT_LIMITS, **settings)
    assert run.returncode == 2, run.output[-3000:]
    reason = run.results["interrupted_reason"]
    assert run.results["interrupted"] is True
    assert reason.startswith("the target stopped answering: 2 consecutive requests got no answer")
    assert run.output.count(f"Interrupted: {reason}") == 1
    assert f"interrupted: {reason}" in run.output  # the conformance summary
    assert "Traceback" not in run.output


def test_an_oversized_body_is_recorded_as_such_unread(tmp_path: Path) -> None:
    """A 3 MB body against a 1 MB cap: the case records "oversized", and the run goes on."""
    run = hostile_run(tmp_path, "huge", ONE_TEST, size=3 << 20)
    errors = [c["observed"]["error"] for c in run.results["cases"] if (c["observed"] or {}).get("error")]
    assert errors, run.output[-3000:]
    assert all(e.startswith("oversized: the 200 answer's body exceeded 1048576 bytes") for e in errors)
    assert run.results["interrupted"] is False


def test_a_jumping_date_makes_the_cases_error_never_fail(tmp_path: Path) -> None:
    """The target's clock jumps an hour ahead after two requests of the tests: the case in flight
    becomes `error` with the one reason, none `failed`, and the run stops with that reason."""
    run = hostile_run(tmp_path, "jump", "lifecycle", after=2, jump=3600.0)
    verdicts = [c["verdict"] for c in run.results["cases"]]
    reasons = {c["reason"] for c in run.results["cases"] if c["verdict"] == "error"}
    assert "failed" not in verdicts, run.output[-3000:]
    assert verdicts.count("error") == 1
    (reason,) = reasons
    # Whole-second `Date` headers: the jump is known to a second either way.
    assert re.match(r"the target's clock jumped by \+(3599|3600|3601) s during the run", reason), reason
    assert run.results["interrupted_reason"] == reason
    assert run.returncode == 2


def test_an_echoed_key_reaches_no_artefact(tmp_path: Path) -> None:
    """A target that puts the request's key into every error's `code` and `error`: the key is in
    neither the output, the results, JUnit, any report nor the cassettes recorded from it."""
    run = hostile_run(
        tmp_path,
        "echo",
        "test_row_gives_documented_status_and_code and register",
        *("--record-mode", "all", "--cassette-dir", str(tmp_path / "cassettes")),
    )
    assert any(name.endswith(".yaml") for name in run.artefacts), run.output[-3000:]
    assert any((c["observed"] or {}).get("code") == "<redacted> was refused" for c in run.results["cases"])
    for key in sandbox_profile().secrets():
        assert key not in run.everything()


def test_markup_from_the_target_is_printed_escaped(tmp_path: Path) -> None:
    """Workflow commands, terminal escapes and Markdown in a target's codes: no line of the output
    starts a workflow command, no escape character is printed, and the Markdown report shows the
    link and emphasis as literal text."""
    run = hostile_run(tmp_path, "markup", "test_row_gives_documented_status_and_code and register")
    assert any("::error::x" in ((c["observed"] or {}).get("code") or "") for c in run.results["cases"])
    for text in (run.output, run.artefacts["markdown"]):
        assert "\x1b" not in text
        assert "\r" not in text
        assert not [line for line in text.splitlines() if line.lstrip().startswith("::")]
    assert "[link](" not in run.artefacts["markdown"]
    assert "[link]\\(" in run.artefacts["markdown"]
    assert "**bold**" not in run.artefacts["markdown"]


def test_no_insider_id_reaches_the_output_or_junit_even_with_long_tracebacks(tmp_path: Path) -> None:
    """Every success answered 201 with its body (GDPR-denied insiders listed in it) and `--tb=long`
    asked for: the failures print pseudonyms, never an insider id or udid, in the output or JUnit."""
    run = hostile_run(tmp_path, "created", ONE_TEST, "--tb=long")
    assert run.returncode == 1, run.output[-3000:]
    assert "<gdpr_denied 1>" in run.output
    for personal in sandbox_profile().personal_ids():
        assert personal not in run.output
        assert personal not in run.artefacts["junit"]
