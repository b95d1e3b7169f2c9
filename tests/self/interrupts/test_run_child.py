"""`conformance run`'s wrapper: it exits with the suite's status and passes SIGTERM on to it."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from conformance.plugin.interrupts import held_while, run_child, sigterm_as_ctrl_c
from tests.self.interrupts.interrupt_support import wait_until

CHILD = """
import signal, sys, time
from pathlib import Path
signal.signal(signal.SIGTERM, lambda *_: sys.exit(7))
Path(sys.argv[1]).touch()
time.sleep(60)
"""


def test_the_exit_status_is_the_childs() -> None:
    """As the child exits; a child killed by a signal gives 128 + its number, as a shell says it."""
    assert run_child([sys.executable, "-c", "import sys; sys.exit(3)"]) == 3
    killed = run_child([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert killed == 128 + signal.SIGKILL


def test_sigterm_to_the_wrapper_reaches_the_child(tmp_path: Path) -> None:
    """The child gets the SIGTERM (it exits 7 on it) and the wrapper returns its status."""
    ready = tmp_path / "ready"

    def terminate_when_ready() -> None:
        wait_until(ready.exists, "the child to start")
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    sender = threading.Thread(target=terminate_when_ready)
    sender.start()
    try:
        assert run_child([sys.executable, "-c", CHILD, str(ready)]) == 7
    finally:
        sender.join()
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_raises_keyboard_interrupt_in_the_suite_until_undone() -> None:
    """Inside the suite's process SIGTERM is a Ctrl-C; the undo puts back the handler before it."""
    before = signal.getsignal(signal.SIGTERM)
    undo = sigterm_as_ctrl_c()
    try:
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            signal.raise_signal(signal.SIGTERM)
    finally:
        undo()
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_results_are_written_waits_and_is_reported(
    signum: signal.Signals, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C or SIGTERM after the tests ended does not cut the results' writing short: the block
    finishes, nothing is raised after it, and stderr says what came."""
    undo = sigterm_as_ctrl_c()
    written = []
    try:
        with held_while("the results were written"):
            os.kill(os.getpid(), signum)
            written.append("results")
    finally:
        undo()
    assert written == ["results"]
    assert f"{signum.name} came while the results were written" in capsys.readouterr().err
