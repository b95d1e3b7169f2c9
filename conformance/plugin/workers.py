"""A run under pytest-xdist: each worker hands its results to the controlling process, which writes
the one results file.

A worker puts its results (the text of a results file) in `config.workeroutput` as its session
finishes; pytest-xdist sends that along when the worker reports itself finished, and the controlling
process takes it in `pytest_testnodedown`. No file is written per worker, so none is left behind by a
crash and none from an earlier run is merged in.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.judging.results import parse_results
from conformance.plugin.collect import record_outcome, result_id_of

if TYPE_CHECKING:
    from conformance.judging.results import RunResults
    from conformance.plugin.run import SuiteRun

OUTPUT_KEY = "conformance_results"


def hand_over(config: pytest.Config, results: RunResults | None) -> None:
    """In a worker: its results go to the controlling process with the worker's other output."""
    if results is not None and results.cases:
        workeroutput: dict[str, Any] = getattr(config, "workeroutput")  # noqa: B009 - set by pytest-xdist
        workeroutput[OUTPUT_KEY] = results.to_json()


class Workers:
    """A pytest plugin in the process that runs pytest-xdist's workers: it takes each worker's results
    as the worker goes down, and gives a test whose worker died an `error` case."""

    def __init__(self, run: SuiteRun) -> None:
        self._run = run
        self._up: list[Any] = []  # the workers (xdist's WorkerController) that started
        self._taken: dict[str, RunResults] = {}  # worker id -> its results

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodeready(self, node: Any) -> None:
        self._up.append(node)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        del error  # a worker that died sent no output: its crashed test is `pytest_handlecrashitem`'s
        self._take(node)

    @pytest.hookimpl(optionalhook=True, trylast=True)  # after a plugin that would rather rerun it
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport) -> None:
        test = result_id_of(crashitem, crashitem.rpartition("::")[2])
        record_outcome(self._run, test, report, "worker crash")

    def results(self) -> list[RunResults]:
        """Every worker's results, in the order of their ids.

        A run stopped by Ctrl-C or SIGTERM leaves its event loop before it hears the workers go down;
        their output arrives all the same (pytest-xdist keeps it on the worker's handle), so each
        worker not yet heard from is taken once the workers have ended.
        """
        for node in self._up:
            self._take(node)
        return [self._taken[worker] for worker in sorted(self._taken)]

    def _take(self, node: Any) -> None:
        worker: str = node.workerinput["workerid"]
        text = getattr(node, "workeroutput", {}).get(OUTPUT_KEY)
        if text is not None and worker not in self._taken:
            self._taken[worker] = parse_results(text, Path(f"<results of pytest-xdist worker {worker}>"))
