"""Helpers for the report self-tests: edit results files, build small ones, run `conformance drift`
and `conformance report`.

Limits and codes come from the contract, never from literals here; the contract is read on first use
(tests/self/reference.py), not when this module is imported.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.cli import main
from conformance.judging.results import CaseResult, MeasuredEdge, Observed, RunResults, Verdict, unverified
from tests.self.reference import bundled_contract

# What a suite test that cannot reach a verdict leaves in the results (see the plugin).
CRASH = "Failed: a valid /register did not return an activity_id"
Case = dict[str, Any]


@dataclass(frozen=True)
class Drifted:
    """What a `conformance` command did: exit status, standard output, standard error."""

    status: int
    out: str
    err: str


def conformance(*args: str | Path) -> Drifted:
    """Run `conformance ARGS` in this process (argparse's exit included)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = main([*map(str, args)])
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 2
    return Drifted(status, out.getvalue(), err.getvalue())


def drift(*args: str | Path) -> Drifted:
    """Run `conformance drift ARGS` in this process."""
    return conformance("drift", *args)


def report(*args: str | Path) -> Drifted:
    """Run `conformance report ARGS` in this process."""
    return conformance("report", *args)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def edited(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the results file `source` at `target`, changed by `edit`."""
    data = copy.deepcopy(load(source))
    edit(data)
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def first(data: dict[str, Any], test: Callable[[Case], bool]) -> Case:
    found: Case | None = next((c for c in data["cases"] if test(c)), None)
    assert found is not None, "the reference run has no such case"
    return found


def answered(case: Case, status: int, code: str | None, fields: list[str] | None = None) -> None:
    case["observed"] = {
        "status": status,
        "code": code,
        "body_fields": sorted(fields if fields is not None else (["code", "error"] if code else ["status"])),
        "has_body": True,
        "error": None,
    }


def break_every_documented_case(data: dict[str, Any]) -> None:
    """Every documented case that passed now fails: the API answers each with NO_ELIGIBLE_DEVICE."""
    contract = bundled_contract()
    code = contract.behaviour.eligibility.no_eligible_code
    for case in data["cases"]:
        if case["level"] == "documented" and case["verdict"] == "passed" and case["observed"]:
            answered(case, contract.status_of(code), code)
            case["verdict"] = "failed"


# -- a small pair of runs, built case by case: the Markdown snapshot's input ------------------


def _case(
    test: str,
    endpoint: str,
    row: str,
    level: str,
    verdict: Verdict,
    *,
    answer: tuple[int, str | None, tuple[str, ...]] | None,
    latency: float | None,
    label: str = "",
    reason: str = "",
) -> CaseResult:
    observed = None if answer is None else Observed(answer[0], answer[1], answer[2], True)
    return CaseResult(
        test=f"t.py::{test}",
        case=label or test.removeprefix("test_"),
        endpoint=endpoint,
        rows=(row,),
        level=level,
        expected=(),
        observed=observed,
        verdict=verdict,
        latency_ms=latency,
        reason=reason,
    )


def synthetic_runs() -> tuple[RunResults, RunResults]:
    """Two runs of seven tests that between them show every kind of change the drift reports."""
    behaviour = bundled_contract().behaviour
    soon, far, ids = behaviour.ends_at.minimum, behaviour.ends_at.maximum, behaviour.insider_ids
    error = ("code", "error")
    pushed = ("sessions_triggered", "status")
    broken = " does not behave as documented"
    before = [
        _case(
            "test_soon",
            "register",
            soon.code,
            "documented",
            Verdict.PASSED,
            answer=(400, soon.code, error),
            latency=2,
        ),
        _case(
            "test_start",
            "start",
            "lifecycle:start:REGISTERED",
            "documented",
            Verdict.PASSED,
            answer=(200, None, pushed),
            latency=4,
        ),
        _case(
            "test_probe",
            "update",
            "VALIDATION_FAILED",
            "undocumented",
            Verdict.RECORDED,
            answer=(400, "VALIDATION_FAILED", error),
            latency=6,
        ),
        _case(
            "test_app",
            "register",
            "APP_NOT_FOUND",
            "documented",
            Verdict.PASSED,
            answer=(404, "APP_NOT_FOUND", error),
            latency=8,
        ),
        _case(
            "test_gate",
            "end",
            "PUSH_TOKEN_NOT_SYNCED",
            "inferred",
            Verdict.FAILED,
            answer=(200, None, ("status",)),
            latency=10,
            reason=f"/end{broken} (inferred):",
        ),
        _case(
            "test_crash",
            "register",
            far.code,
            "documented",
            Verdict.PASSED,
            answer=(400, far.code, error),
            latency=2,
        ),
        unverified("t.py::test_fixture", Verdict.ERROR, "KeyError: 'activity_id'", case="error (setup)"),
    ]
    after = [
        _case(
            "test_soon",
            "register",
            soon.code,
            "documented",
            Verdict.FAILED,
            answer=(422, "NO_ELIGIBLE_DEVICE", error),
            latency=3,
            reason=f"/register{broken} (documented):",
        ),
        _case(
            "test_start",
            "start",
            "lifecycle:start:REGISTERED",
            "documented",
            Verdict.PASSED,
            answer=(200, None, (*pushed, "trace_id")),
            latency=5,
        ),
        _case(
            "test_probe",
            "update",
            "VALIDATION_FAILED",
            "undocumented",
            Verdict.RECORDED,
            answer=(200, None, ("status",)),
            latency=7,
        ),
        _case(
            "test_app",
            "register",
            "APP_NOT_FOUND",
            "",
            Verdict.SKIPPED,
            answer=None,
            latency=None,
            label="skipped",
            reason="the target profile offers no key for account state 'unknown_app'",
        ),
        _case(
            "test_gate",
            "end",
            "PUSH_TOKEN_NOT_SYNCED",
            "inferred",
            Verdict.PASSED,
            answer=(412, "PUSH_TOKEN_NOT_SYNCED", error),
            latency=11,
        ),
        unverified("t.py::test_crash", Verdict.ERROR, CRASH, case="error (call)"),
        _case(
            "test_fixture",
            "update",
            "lifecycle:update:STARTED",
            "documented",
            Verdict.PASSED,
            answer=(200, None, pushed),
            latency=6,
        ),
    ]
    runs = []
    for cases, moved, day in ((before, 0, "20"), (after, 60, "21")):
        started = f"2026-05-{day}T10:00:00+00:00"
        run = RunResults(
            "sandbox", "http://sandbox.invalid", "digest", "0.1.0", started, started, "ci", cases
        )
        run.record_edge(soon.code, MeasuredEdge(soon.value, soon.value - moved, "s", 2 + moved // 5))
        run.record_edge(far.code, MeasuredEdge(far.value, (far.value - 1, far.value + 1), "s", 2))
        run.record_edge(ids.row, MeasuredEdge(ids.max_items, ids.max_items, "ids", 2))
        runs.append(run)
    return runs[0], runs[1]


# -- nightly runs: the sandbox's readings switched between nights ------------------------------

# The part of the suite the nightly runs take: the malformed bodies (whose code one reading chooses),
# the probes of undocumented behaviour (one of which a reading answers), and the wrong content type.
NIGHTLY_TESTS = "undocumented or malformed_body or wrong_content_type"
# Night n's file: the names sort in another order than the nights.
NIGHT_FILES = ("nightly-e.json", "nightly-c.json", "nightly-a.json", "nightly-d.json", "nightly-b.json")


def nights() -> tuple[tuple[str, ...], ...]:
    """Each night's `--sandbox-reading` values (ID=OPTION), one tuple per night, in NIGHT_FILES' order."""
    readings = bundled_contract().behaviour.readings
    # /end on a REGISTERED activity: another answer from night 2 on, held.
    end_on_registered = f"end-on-registered={list(readings['end-on-registered'].options)[1]}"
    # An unparseable body: the other documented code on nights 3 and 5 only, flapping.
    unparseable = f"unparseable-body-code={list(readings['unparseable-body-code'].options)[1]}"
    return (
        (),
        (end_on_registered,),
        (end_on_registered, unparseable),
        (end_on_registered,),
        (end_on_registered, unparseable),
    )


def night_started_at(number: int) -> str:
    return f"2026-11-{number:02d}T03:00:00+00:00"
