"""Ctrl-C and SIGTERM held back while a step must not be cut in half.

The Python-level handlers are swapped for ones that only note the signal. A Python handler always
runs in the main thread, whichever thread the kernel delivered the signal to, so this holds under
pytest-xdist's threads too, where masking the main thread's signals would not.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def held() -> Iterator[list[signal.Signals]]:
    """Ctrl-C and SIGTERM wait until the block ends; yields the list of those that came, in order.

    Off the main thread no handler can be set: the block runs unprotected there.
    """
    came: list[signal.Signals] = []
    if threading.current_thread() is not threading.main_thread():
        yield came
        return

    def note(signum: int, _frame: FrameType | None) -> None:
        came.append(signal.Signals(signum))

    previous = {signum: signal.signal(signum, note) for signum in HELD}
    try:
        yield came
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: a handler set outside Python, which cannot be restored
                signal.signal(signum, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM take effect when the block ends, as they would have during it."""
    with held() as came:
        yield
    if came:
        signal.raise_signal(came[0])
