"""A pass is earned: a run that judged no documented case, or whose errors outnumber its verdicts, is
not green; its summary and results file say why, in one line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.judging.earned import unearned
from conformance.judging.results import ARRANGEMENT, CaseResult, Verdict, unverified
from tests.self.suite.suite_runner import run_suite


def _judged(test: str, verdict: Verdict = Verdict.PASSED, level: str = "documented") -> CaseResult:
    return CaseResult(test, test, "register", ("ROW",), level, ("400 ROW",), None, verdict)


def test_a_run_that_only_recorded_exits_non_zero_and_says_why(tmp_path: Path) -> None:
    """Only the undocumented-behaviour tests (recorded, never judged; their set-up requests verify
    nothing by themselves): exit 1, not 0, with one summary line and the reason in the results file."""
    run = run_suite(tmp_path, "-p", "no:randomly", "-k", "test_undocumented_behaviour_is_recorded")
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.output[-3000:]
    assert set(run.results["counts"].items()) >= {("failed", 0), ("error", 0)}
    assert run.results["unearned"].startswith("verified nothing: no test judged a documented expectation")
    lines = [line for line in run.output.splitlines() if line.startswith("not a pass: ")]
    assert lines == [f"not a pass: {run.results['unearned']}"]


def test_a_run_that_judged_documented_cases_keeps_exit_zero(tmp_path: Path) -> None:
    """A small selection whose documented cases pass: exit 0, and no reason in the results file."""
    run = run_suite(tmp_path, "-p", "no:randomly", "-k", "test_wrong_content_type")
    assert run.returncode == pytest.ExitCode.OK, run.output[-3000:]
    assert run.results["unearned"] == ""
    assert "not a pass" not in run.output


@pytest.mark.parametrize(
    ("cases", "reason"),
    [
        ([], "verified nothing: no test judged a documented expectation (0 cases"),
        (
            [_judged("t", Verdict.RECORDED, "undocumented"), unverified("s", Verdict.SKIPPED, "no key")],
            "verified nothing",
        ),
        (
            [_judged("t", Verdict.FAILED, "inferred")],
            "verified nothing: no test judged a documented expectation (1 cases: 1 judged not",
        ),
        ([replace(_judged("t"), case=f"{ARRANGEMENT}register")], "verified nothing"),
        (
            [_judged("t"), *(unverified(f"e{n}", Verdict.ERROR, "boom") for n in range(2))],
            "errors outnumber verdicts",
        ),
        ([_judged("t"), unverified("e", Verdict.ERROR, "boom")], ""),
        ([_judged("t", Verdict.FAILED)], ""),
    ],
    ids=[
        "no case",
        "recorded and skipped",
        "inferred only",
        "arrangement only",
        "errors outnumber",
        "errors equal",
        "a failure",
    ],
)
def test_unearned_names_why_a_run_verified_nothing(cases: list[CaseResult], reason: str) -> None:
    """No documented case judged, or more errors than judged cases, is a reason; else there is none."""
    found = unearned(cases)
    assert found.startswith(reason) if reason else found == ""


def test_verdict_on_a_malformed_results_file_is_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`conformance verdict` given a file the suite did not write: exit 2, one message naming it."""
    path = tmp_path / "nightly.json"
    path.write_text('{"cases": []}', encoding="utf-8")
    assert main(["verdict", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert len(err.strip().splitlines()) <= 2
