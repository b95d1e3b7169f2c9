"""Ctrl-C and SIGTERM held back while a step must not be cut in half (`conformance/core/signals.py`)."""

from __future__ import annotations

import os
import signal

import pytest

from conformance.core.signals import deferred, held
from conformance.plugin.interrupts import sigterm_as_ctrl_c


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_a_deferred_step_is_raised_once_the_step_is_done(signum: signal.Signals) -> None:
    undo = sigterm_as_ctrl_c()
    # Ctrl-C raises KeyboardInterrupt here too (a process may have inherited it ignored).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    done = []

    def step() -> None:
        with deferred():
            os.kill(os.getpid(), signum)
            done.append("the step")

    try:
        with pytest.raises(KeyboardInterrupt):
            step()
    finally:
        undo()
        signal.signal(signal.SIGINT, previous)
    assert done == ["the step"]


def test_a_held_step_notes_what_came_and_restores_the_handlers() -> None:
    before = signal.getsignal(signal.SIGINT)
    with held() as came:
        os.kill(os.getpid(), signal.SIGINT)
    assert came == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is before


def test_a_deferred_step_without_an_interrupt_returns_as_usual() -> None:
    with deferred():
        value = 1
    assert value == 1
