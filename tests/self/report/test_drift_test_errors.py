"""Tests that error (the suite reached no verdict) in the drift: news though they name no row.

A test that newly errors sets exit status 1, as a documented regression does: the suite could not
verify what it verified before. One that stops erroring is reported and never fails the drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.judging.results import Verdict
from conformance.report.matrix import ROW_ID
from tests.self.report.report_support import CRASH, Case, drift, edited, load

NEWLY_ERRORING = "### Tests newly erroring (no verdict reached; each counts as a regression"


def _passing_test(data: dict[str, Any]) -> str:
    """A test of the reference run whose every case passed, and the only one to verify some row there."""
    verdicts: dict[str, set[str]] = {}
    verifiers: dict[tuple[str, str], set[str]] = {}
    for case in data["cases"]:
        verdicts.setdefault(case["test"], set()).add(case["verdict"])
        for row in filter(ROW_ID.fullmatch, case["rows"]):
            verifiers.setdefault((row, case["endpoint"]), set()).add(case["test"])
    alone = (next(iter(tests)) for tests in verifiers.values() if len(tests) == 1)
    return next(test for test in alone if verdicts[test] == {"passed"})


def _crash(test: str, where: str = "error (call)") -> Case:
    return {
        "test": test,
        "case": where,
        "endpoint": "",
        "rows": [],
        "level": "",
        "expected": [],
        "observed": None,
        "verdict": Verdict.ERROR,
        "reason": CRASH,
    }


def _errors_in(test: str, where: str = "error (call)") -> Any:
    """An edit: `test` left no case but its error (it crashed before its first request)."""

    def edit(data: dict[str, Any]) -> None:
        data["cases"] = [c for c in data["cases"] if c["test"] != test] + [_crash(test, where)]

    return edit


def test_a_newly_erroring_test_fails_the_drift_and_is_named_in_markdown(
    reference_results: Path, tmp_path: Path
) -> None:
    """Exit status 1, the headline counts it, and its section names the test, what it was and why."""
    test = _passing_test(load(reference_results))
    current = edited(reference_results, tmp_path / "current.json", _errors_in(test))
    result = drift(reference_results, current)
    assert result.status == 1, result.err
    assert result.out.startswith("## Conformance drift: 1 test(s) newly erroring\n")
    section = result.out.split(NEWLY_ERRORING)[1].split("\n### ")[0]
    assert "the suite could not verify what it verified before" in section
    assert f"| {test} | error (call) | passed | {CRASH} |" in section
    assert "| tests newly erroring | 1 |" in result.out


def test_the_rows_an_erroring_test_verified_give_its_error_as_the_reason(
    reference_results: Path, tmp_path: Path
) -> None:
    """A row only it verified is no longer verified, and the reason shown is the error's summary."""
    test = _passing_test(load(reference_results))
    current = edited(reference_results, tmp_path / "current.json", _errors_in(test))
    found = json.loads(drift(reference_results, current, "--format", "json").out)
    reasons = {r for cell in found["no_longer_verified"] for r in cell["skip_reasons"]}
    assert CRASH in reasons


def test_a_test_that_stops_erroring_is_reported_and_not_failed(
    reference_results: Path, tmp_path: Path
) -> None:
    """Reported with what it is now and the error it had; the exit status stays 0."""
    test = _passing_test(load(reference_results))
    baseline = edited(reference_results, tmp_path / "baseline.json", _errors_in(test, "error (setup)"))
    result = drift(baseline, reference_results, "--format", "json")
    data = json.loads(result.out)
    assert result.status == 0, result.err
    assert data["regressed"] is False
    assert data["newly_erroring"] == []
    assert data["no_longer_erroring"] == [
        {"test": test, "case": "error (setup)", "before": Verdict.ERROR, "after": "passed", "reason": CRASH}
    ]
    assert "### Tests no longer erroring" in drift(baseline, reference_results).out


def test_a_test_erroring_in_both_runs_is_no_news(reference_results: Path, tmp_path: Path) -> None:
    """Even where it errors has moved (setup then, its body now): it erred before, so nothing regressed."""
    test = _passing_test(load(reference_results))
    baseline = edited(reference_results, tmp_path / "baseline.json", _errors_in(test, "error (setup)"))
    current = edited(reference_results, tmp_path / "current.json", _errors_in(test))
    result = drift(baseline, current)
    assert result.status == 0, result.err
    assert "| tests newly erroring | 0 |" in result.out
    assert "| tests no longer erroring | 0 |" in result.out


def test_a_newly_erroring_test_fails_the_html_and_json_renderings_too(
    reference_results: Path, tmp_path: Path
) -> None:
    """The HTML headline names it in red; JSON says regressed with no documented regression."""
    test = _passing_test(load(reference_results))
    current = edited(reference_results, tmp_path / "current.json", _errors_in(test))
    page = drift(reference_results, current, "--format", "html")
    data = json.loads(drift(reference_results, current, "--format", "json").out)
    assert page.status == 1
    assert '<span class="bad">1 test(s) newly erroring</span>' in page.out
    assert (data["regressed"], data["regressions"]) == (True, [])
    assert [(e["test"], e["before"], e["after"]) for e in data["newly_erroring"]] == [
        (test, "passed", Verdict.ERROR)
    ]
