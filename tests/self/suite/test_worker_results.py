"""The controlling process of a pytest-xdist run takes each worker's results from its output.

A worker heard going down hands them over then; a run stopped by Ctrl-C or SIGTERM leaves its event
loop before it hears the workers go down, so the results each worker sent are taken at the end. A
worker that died sent none, and its crashed test becomes an `error` case (see
test_outcomes_in_results.py). The workers here are stand-ins for pytest-xdist's worker handles.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from conformance.judging.results import RunResults, Verdict, unverified
from conformance.plugin.run import SuiteRun
from conformance.plugin.workers import OUTPUT_KEY, Workers, hand_over


def _results(test: str) -> RunResults:
    run = RunResults("sandbox", "http://x", "d", "v", "2031-01-01T00:00:00+00:00")
    run.cases.append(unverified(test, Verdict.SKIPPED, "why"))
    return run


def _worker(worker: str, test: str | None) -> Any:
    """A worker handle; with the output a worker whose results hold one case of `test` sends."""
    node = SimpleNamespace(workerinput={"workerid": worker})
    if test is not None:
        config = SimpleNamespace(workeroutput={"exitstatus": 0})
        hand_over(config, _results(test))  # type: ignore[arg-type]
        node.workeroutput = config.workeroutput
    return node


@pytest.fixture
def workers() -> Workers:
    return Workers(SuiteRun.__new__(SuiteRun))  # its run is asked for a crashed test only: none here


def _tests(taken: list[RunResults]) -> list[list[str]]:
    return [[case.test for case in results.cases] for results in taken]


def test_each_worker_heard_going_down_hands_over_its_results_in_worker_order(workers: Workers) -> None:
    gw1, gw0 = _worker("gw1", "b.py::test_b"), _worker("gw0", "a.py::test_a")
    for node in (gw1, gw0):
        workers.pytest_testnodeready(node)
        workers.pytest_testnodedown(node, None)
    assert _tests(workers.results()) == [["a.py::test_a"], ["b.py::test_b"]]


def test_an_interrupted_run_takes_the_results_of_workers_it_did_not_hear_go_down(workers: Workers) -> None:
    heard, unheard = _worker("gw0", "a.py::test_a"), _worker("gw1", "b.py::test_b")
    workers.pytest_testnodeready(heard)
    workers.pytest_testnodeready(unheard)
    workers.pytest_testnodedown(heard, None)
    assert _tests(workers.results()) == [["a.py::test_a"], ["b.py::test_b"]]


def test_a_worker_that_died_or_recorded_nothing_hands_over_nothing(workers: Workers) -> None:
    died, empty = _worker("gw0", None), SimpleNamespace(workerinput={"workerid": "gw1"}, workeroutput={})
    for node in (died, empty):
        workers.pytest_testnodeready(node)
        workers.pytest_testnodedown(node, "crashed" if node is died else None)
    assert workers.results() == []


def test_a_worker_without_cases_puts_nothing_in_its_output() -> None:
    config = SimpleNamespace(workeroutput={})
    hand_over(config, RunResults("sandbox", "", "", "v", "2031-01-01T00:00:00+00:00"))  # type: ignore[arg-type]
    hand_over(config, None)  # type: ignore[arg-type]
    assert OUTPUT_KEY not in config.workeroutput
