"""What pytest prints and writes of a suite test's outcome, made safe: no key, no personal id, no
control character or workflow command from the target, and short.

The suite's own messages (the `E` lines of a contract violation) are scrubbed where they are made;
but pytest also prints tracebacks with the arguments of each frame, Hypothesis's falsifying
example, captured output and logs, and writes them into JUnit. Each report is rewritten here, once,
before any of them sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from _pytest._code.code import TerminalRepr  # the type pytest accepts as a report's longrepr

from conformance.core.printable import printable, printable_lines
from conformance.judging.failures import ContractViolation


@dataclass(frozen=True)
class _Crash:
    """What pytest's short summary and JUnit's `message` show of a failure: its one-line cause."""

    path: str
    lineno: int
    message: str


class ScrubbedRepr(TerminalRepr):
    """A failure's text, scrubbed, in place of pytest's own representation of it."""

    def __init__(self, text: str, crash: _Crash | None) -> None:
        self.text = text
        self.reprcrash = crash

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


def violation_only(report: pytest.TestReport, excinfo: pytest.ExceptionInfo[BaseException] | None) -> None:
    """A contract violation as its own message (what was sent, expected and received, and
    Hypothesis's falsifying example), without the frames of the suite's code that raised it: a
    broken target fails hundreds of tests, and each needs a few lines, not a page."""
    if excinfo is None or not report.failed or not excinfo.errisinstance(ContractViolation):
        return
    crash = getattr(report.longrepr, "reprcrash", None)
    notes = getattr(excinfo.value, "__notes__", ())
    text = "\n".join([f"E   {line}" for line in str(excinfo.value).splitlines()] + list(notes))
    report.longrepr = ScrubbedRepr(
        text, None if crash is None else _Crash(str(crash.path), crash.lineno, crash.message)
    )


def scrub_report(report: pytest.TestReport, scrub: Callable[[str], str]) -> None:
    """Rewrite `report`'s failure or skip text and captured sections through `scrub`, then escape
    what a terminal or a CI runner would act upon."""

    def clean(text: str) -> str:
        return printable_lines(scrub(text))

    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, "Skipped: reason")
        path, line, reason = longrepr
        report.longrepr = (path, line, printable(scrub(reason)))
    elif longrepr is not None:
        crash = getattr(longrepr, "reprcrash", None)
        summary = None
        if crash is not None:
            summary = _Crash(str(crash.path), crash.lineno, clean(crash.message))
        report.longrepr = ScrubbedRepr(clean(str(longrepr)), summary)
    report.sections = [(title, clean(content)) for title, content in report.sections]
