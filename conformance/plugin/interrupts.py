"""Stopping a run cleanly: Ctrl-C and SIGTERM stop the tests, never the cleanup after them.

In the suite's process, pytest turns Ctrl-C (SIGINT) into KeyboardInterrupt: the running test stops,
the session's target fixture ends every STARTED activity, and the results file is written, marked
interrupted. `sigterm_as_ctrl_c` makes SIGTERM (what CI runners and `kill` send) do the same.

`conformance run` starts the suite as a child process and only waits for it: Ctrl-C reaches the whole
foreground process group, the child included, so the wrapper must not kill it (as `subprocess.run`
does); SIGTERM reaches the wrapper alone, so it is passed on.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType

from conformance.core.signals import held


def sigterm_as_ctrl_c() -> Callable[[], None]:
    """From now on SIGTERM raises KeyboardInterrupt, as Ctrl-C does; returns what undoes it.

    Only the main thread can set a signal handler (a pytest run inside a thread leaves SIGTERM be).
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, _interrupt)

    def undo() -> None:
        signal.signal(signal.SIGTERM, previous)

    return undo


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def held_while(what: str) -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until `what` is done, then are only reported: the tests have ended and
    the process is ending anyway, and a KeyboardInterrupt raised into the results' writing would
    leave no results file and print a traceback."""
    with held() as came:
        yield
    for signum in came:
        sys.stderr.write(f"conformance: {signum.name} came while {what}; it waited\n")


def run_child(command: Sequence[str]) -> int:
    """Run `command` until it exits, letting it stop cleanly on Ctrl-C and SIGTERM; its exit status.

    A child killed by a signal gives 128 + the signal's number, as a shell reports it.
    """
    child: subprocess.Popen[bytes] | None = None
    pending: list[int] = []  # a SIGTERM that came before the child existed

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT:
            return  # Ctrl-C reached the child too: wait while it cleans up
        if child is None:
            pending.append(signum)
        else:
            child.send_signal(signum)

    # Python-level handlers (not SIG_IGN) are reset to the default in the child when it starts.
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        child = subprocess.Popen(command)  # noqa: S603 - our own interpreter and the user's arguments
        for signum in pending:
            child.send_signal(signum)
        returncode = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - returncode if returncode < 0 else returncode
