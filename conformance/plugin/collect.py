"""The results a suite run collects besides what `verify` records, and the results file it writes.

Every phase of a suite test that fails or skips becomes a case unless the test recorded one itself;
a target that stopped answering stops the run; at the end the file is written (also on Ctrl-C),
with the workers' cases when pytest-xdist ran the tests (`conformance.plugin.workers`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.judging.coverage import coverage_json
from conformance.judging.earned import unearned
from conformance.judging.results import Verdict, merge, unverified
from conformance.plugin.progress import end_line
from conformance.targets.api_client import TargetStopped
from conformance.targets.target import ClockJumped, Target

if TYPE_CHECKING:
    from conformance.judging.results import RunResults
    from conformance.plugin.run import SuiteRun


def result_id(item: pytest.Item) -> str:
    """The test's name in results: its node id from the module file on, whatever pytest's rootdir (which
    moves with the paths on the command line), so that drift pairs the cases of any two runs; and with
    the item's own name, since schemathesis gives all its operations one node id."""
    return result_id_of(item.nodeid, item.name)


def result_id_of(nodeid: str, name: str) -> str:
    *scope, _ = nodeid.split("::")
    return "::".join((Path(scope[0]).name, *scope[1:], name))


def stop_on_hostile_target(
    run: SuiteRun, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, target: Target
) -> None:
    """A target that stopped answering, or whose clock jumped, stops the run after this test: one
    message, in the summary and the results (`interrupted`, with the reason), instead of a timeout
    per remaining request or verdicts on a time the suite no longer knows."""
    reason = target.client.stopped or target.clock_jump
    if reason is None:
        return
    if call.excinfo is not None and call.excinfo.errisinstance((TargetStopped, ClockJumped)):
        report.longrepr = reason
    item.session.shouldstop = reason
    results = run.begin_results()
    results.interrupted, results.interrupted_reason = True, reason


def record_outcome(run: SuiteRun, test: str, report: pytest.TestReport, phase: str) -> None:
    """A failed or skipped phase of `test` becomes a case, unless the test recorded one itself.

    A failure becomes an `error` (the suite reached no verdict: a crash, a fixture error, the test's
    own assertion or `pytest.fail`) unless the test has a `failed` case (`verify` recorded the
    ContractViolation) or an `error` one (`verify` recorded why it could reach none). A skip becomes
    `skipped` unless `Verifier.skip` recorded it. The reason is pytest's one-line summary of the
    outcome, scrubbed through the target's `scrub` once there is one.
    """
    if report.failed:
        verdict, own, case = Verdict.ERROR, Verdict.FAILED, f"error ({phase})"
    elif report.skipped:
        verdict = own = Verdict.SKIPPED
        case = verdict.value
    else:
        return
    results = run.begin_results()
    if any(c.test == test and c.verdict in (own, verdict) for c in results.cases):
        return
    target = run.target
    reason = _summary(report)
    results.cases.append(unverified(test, verdict, target.scrub(reason) if target else reason, case=case))


def _summary(report: pytest.TestReport) -> str:
    """The line pytest's short summary shows: the exception (`Failed: ...`, `KeyError: 'x'`) or the skip."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, "Skipped: reason")
        text = longrepr[2].removeprefix("Skipped: ")
    else:
        crash = getattr(longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(longrepr)
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def finish(run: SuiteRun, session: pytest.Session, workers: list[RunResults]) -> None:
    """Write the results file: this process's cases, and the cases of the pytest-xdist `workers` (the
    controlling process's own are those of tests whose worker crashed)."""
    results = run.results
    if workers:
        own = [results] if results is not None and results.cases else []
        results = run.results = merge([*workers, *own])  # the merged run, for the summary (progress.py)
    if results is None or not results.cases:
        return
    results.interrupted |= session.exitstatus == pytest.ExitCode.INTERRUPTED  # workers may not know it
    results.unearned = unearned(results.cases)
    path = run.results_path
    results.write(path, coverage_json(results))
    if results.unearned and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a pass is earned: verifying nothing is none
    counts = results.counts()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        summary = ", ".join(f"{n} {v}" for v, n in counts.items())
        end_line(reporter)  # after pytest's progress dots
        reporter.write_line(f"conformance results: {summary} -> {path}")
