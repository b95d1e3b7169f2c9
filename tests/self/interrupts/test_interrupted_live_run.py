"""Ctrl-C and SIGTERM stop a live run within seconds, end every STARTED activity, and write the partial
results marked interrupted, with no traceback: for `conformance run` and for plain pytest.

Each test serves a sandbox on loopback, runs the suite against it as a live target, waits until the
run has activities STARTED on the sandbox, interrupts it, and reads the sandbox's activities after.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.command import suite_command
from tests.self.interrupts.interrupt_support import (
    STOP_SECONDS,
    Served,
    served_sandbox,
    started_run,
    wait_until,
)

INTERRUPTED_BY_PYTEST = 2  # pytest's ExitCode.INTERRUPTED, passed on by `conformance run`


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with served_sandbox(tmp_path) as running:
        yield running


def conformance_run(served: Served, results: Path) -> list[str]:
    return [sys.executable, "-m", "conformance.cli", "run", *served.live_args(results)]


def plain_pytest(served: Served, results: Path) -> list[str]:
    return suite_command(*served.live_args(results))


def parallel_run(served: Served, results: Path) -> list[str]:
    """Two pytest-xdist workers: SIGTERM reaches the controlling process only, which stops them."""
    return [*conformance_run(served, results), "-n", "2"]


def interrupt_when_started(
    served: Served, command: list[str], directory: Path, send: str
) -> tuple[int, str, dict[str, Any], int]:
    """Run `command`; once it has activities STARTED, send SIGINT to its process group (`group`) or
    SIGTERM to its process (`process`); (exit status, output, results, STARTED when signalled)."""
    with started_run(command, directory, control="-n" not in command) as process:
        started = wait_until(
            lambda: process.poll() is not None or len(served.started()),
            "the run to start an activity",
        )
        assert process.poll() is None, (directory / "output.txt").read_text(encoding="utf-8")[-3000:]
        if send == "group":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=STOP_SECONDS)
    output = (directory / "output.txt").read_text(encoding="utf-8")
    results = directory / "results.json"
    assert results.exists(), output[-3000:]
    return returncode, output, json.loads(results.read_text(encoding="utf-8")), started


@pytest.mark.parametrize(
    ("command", "send"),
    [
        (conformance_run, "group"),
        (conformance_run, "process"),
        (plain_pytest, "group"),
        (parallel_run, "process"),
        (parallel_run, "group"),
    ],
    ids=[
        "conformance-run-ctrl-c",
        "conformance-run-sigterm",
        "pytest-ctrl-c",
        "parallel-sigterm",
        "parallel-ctrl-c",
    ],
)
def test_an_interrupted_live_run_ends_every_started_activity_and_writes_its_results(
    served: Served, tmp_path: Path, command: Any, send: str
) -> None:
    """Ctrl-C (SIGINT to the process group) or SIGTERM (to the process alone): the run stops, no
    traceback, the results file is marked interrupted, and no activity is left STARTED."""
    returncode, output, results, started = interrupt_when_started(
        served, command(served, tmp_path / "results.json"), tmp_path, send
    )
    assert started > 0
    assert returncode == INTERRUPTED_BY_PYTEST, output[-3000:]
    assert "Traceback" not in output
    assert "KeyboardInterrupt" in output  # pytest's one-line account of where the run stopped
    assert results["interrupted"] is True
    assert results["cases"], "the partial results hold the cases of the tests that ran"
    assert served.started() == set()
    assert [left for left in results["leftovers"] if "(STARTED," in left] == []


def test_a_second_ctrl_c_stops_the_cleanup_and_says_what_was_left(served: Served, tmp_path: Path) -> None:
    """Ctrl-C, then Ctrl-C again while the cleanup waits on an /end: the run stops, no traceback, and
    the activities still STARTED on the sandbox are the ones the output and the results list."""
    with started_run(conformance_run(served, tmp_path / "results.json"), tmp_path) as process:
        wait_until(lambda: process.poll() is not None or len(served.started()) >= 2, "two STARTED activities")
        assert process.poll() is None
        served.gate.hold.set()  # from now on every /end waits: the cleanup's first one is caught
        os.killpg(process.pid, signal.SIGINT)
        wait_until(lambda: served.gate.held, "the cleanup's first /end")
        os.killpg(process.pid, signal.SIGINT)
        returncode = process.wait(timeout=STOP_SECONDS)
    output = (tmp_path / "output.txt").read_text(encoding="utf-8")
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert returncode == INTERRUPTED_BY_PYTEST, output[-3000:]
    assert "Traceback" not in output
    assert results["interrupted"] is True
    left = {entry.split(" ", 1)[0] for entry in results["leftovers"] if "(STARTED," in entry}
    assert left
    assert left == served.started()
    assert "left STARTED on the target" in output
    assert all(activity in output for activity in left)
