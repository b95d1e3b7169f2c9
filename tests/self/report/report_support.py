"""Helpers for the report self-tests: edit results files, build small ones, run `conformance drift`.

Limits and codes come from the contract, never from literals here. (A plain module rather than
conftest.py, so that tests import it by a name no other test directory uses.)
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
from conformance.contract import Contract, load_contract
from conformance.results import CaseResult, MeasuredEdge, Observed, RunResults

CONTRACT: Contract = load_contract()
WINDOW = CONTRACT.behaviour.ends_at
IDS = CONTRACT.behaviour.insider_ids
Case = dict[str, Any]


@dataclass(frozen=True)
class Drifted:
    """What `conformance drift` did: exit status, standard output, standard error."""

    status: int
    out: str
    err: str


def drift(*args: str | Path) -> Drifted:
    """Run `conformance drift ARGS` in this process (argparse's exit included)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = main(["drift", *map(str, args)])
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 2
    return Drifted(status, out.getvalue(), err.getvalue())


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
    found = next((c for c in data["cases"] if test(c)), None)
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


# -- a small pair of runs, built case by case: the Markdown snapshot's input ------------------


def _case(
    test: str,
    label: str,
    endpoint: str,
    rows: tuple[str, ...],
    level: str,
    verdict: str,
    answer: tuple[int, str | None, tuple[str, ...]] | None,
    latency: float | None,
    reason: str = "",
) -> CaseResult:
    observed = None if answer is None else Observed(answer[0], answer[1], answer[2], True)
    return CaseResult(test, label, endpoint, rows, level, (), observed, verdict, None, latency, reason)


def synthetic_runs() -> tuple[RunResults, RunResults]:
    """Two runs of five cases that between them show every kind of change the drift reports."""
    soon, far, ids = WINDOW.minimum, WINDOW.maximum, IDS
    too_soon = f"ends_at {soon.value - 1} s"
    error = ("code", "error")
    unknown_app = "the target profile offers no key for account state 'unknown_app'"
    before = [
        _case(
            "t.py::test_soon",
            too_soon,
            "register",
            (soon.code,),
            "documented",
            "passed",
            (400, soon.code, error),
            2.0,
        ),
        _case(
            "t.py::test_start",
            "start",
            "start",
            ("lifecycle:start:REGISTERED",),
            "documented",
            "passed",
            (200, None, ("sessions_triggered", "status")),
            4.0,
        ),
        _case(
            "t.py::test_probe",
            "probe title missing",
            "update",
            ("VALIDATION_FAILED",),
            "undocumented",
            "recorded",
            (400, "VALIDATION_FAILED", error),
            6.0,
        ),
        _case(
            "t.py::test_app",
            "account unknown_app",
            "register",
            ("APP_NOT_FOUND",),
            "documented",
            "passed",
            (404, "APP_NOT_FOUND", error),
            8.0,
        ),
        _case(
            "t.py::test_gate",
            "end too soon",
            "end",
            ("PUSH_TOKEN_NOT_SYNCED",),
            "inferred",
            "failed",
            (200, None, ("status",)),
            10.0,
            "/end does not behave as documented (inferred):",
        ),
    ]
    after = [
        _case(
            "t.py::test_soon",
            too_soon,
            "register",
            (soon.code,),
            "documented",
            "failed",
            (422, "NO_ELIGIBLE_DEVICE", error),
            3.0,
            "/register does not behave as documented (documented):",
        ),
        _case(
            "t.py::test_start",
            "start",
            "start",
            ("lifecycle:start:REGISTERED",),
            "documented",
            "passed",
            (200, None, ("sessions_triggered", "status", "trace_id")),
            5.0,
        ),
        _case(
            "t.py::test_probe",
            "probe title missing",
            "update",
            ("VALIDATION_FAILED",),
            "undocumented",
            "recorded",
            (200, None, ("status",)),
            7.0,
        ),
        _case(
            "t.py::test_app",
            "skipped",
            "register",
            ("APP_NOT_FOUND",),
            "",
            "skipped",
            None,
            None,
            unknown_app,
        ),
        _case(
            "t.py::test_gate",
            "end too soon",
            "end",
            ("PUSH_TOKEN_NOT_SYNCED",),
            "inferred",
            "passed",
            (412, "PUSH_TOKEN_NOT_SYNCED", error),
            11.0,
        ),
    ]
    runs = []
    for cases, moved, started in (
        (before, 0, "2026-05-20T10:00:00+00:00"),
        (after, 60, "2026-05-21T10:00:00+00:00"),
    ):
        run = RunResults(
            "sandbox", "http://sandbox.invalid", "digest", "0.1.0", started, started, "ci", cases
        )
        run.record_edge(soon.code, MeasuredEdge(soon.value, soon.value - moved, "s", 2 + moved // 5))
        run.record_edge(far.code, MeasuredEdge(far.value, (far.value - 1, far.value + 1), "s", 2))
        run.record_edge(ids.row, MeasuredEdge(ids.max_items, ids.max_items, "ids", 2))
        runs.append(run)
    return runs[0], runs[1]
