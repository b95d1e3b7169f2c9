"""What a person watching a run, or reading its CI log the next morning, sees of it.

After each test module, one line: the error-table rows, (row, endpoint) pairs and behaviour rules
verified, failed and not verified so far, in the units `conformance check` announces. At the end,
the summary: those counts, the top reasons why cases were not verified, the failed rows, and
whether the run was interrupted or left activities STARTED. Plain lines only (no carriage return, no
colour), so that a log without a terminal reads as a terminal does; pytest's own output stays as it is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import pytest

from conformance.core.printable import printable_lines
from conformance.judging.coverage import unit_counts
from conformance.judging.results import UNVERIFIED, CaseResult, RunResults, Verdict

TOP_REASONS = 5
FAILED_ROWS_SHOWN = 20
LEFT_SHOWN = 10
PREFIX = "conformance"


def tally_line(results: RunResults) -> str:
    """The run so far in the contract's units (rows, pairs, rules; see conformance/judging/coverage.py)."""
    found = unit_counts(results)
    return found.line() if found is not None else "rows: none counted (no target was opened)"


def case_counts(results: RunResults) -> str:
    counts = results.counts()
    return f"{len(results.cases)} cases: " + ", ".join(f"{n} {verdict}" for verdict, n in counts.items())


def top_reasons(cases: Iterable[CaseResult], limit: int = TOP_REASONS) -> list[tuple[str, int]]:
    """The most frequent reasons of the cases that reached no verdict (skipped or error), most first."""
    counted = Counter(
        f"{case.verdict}: {case.reason or 'no reason given'}" for case in cases if case.verdict in UNVERIFIED
    )
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:limit]


def failed_rows(cases: Iterable[CaseResult]) -> list[str]:
    """One line per failed row: its endpoints, how many cases failed, and the first of them."""
    failures: dict[str, list[CaseResult]] = defaultdict(list)
    for case in cases:
        if case.verdict == Verdict.FAILED:
            for row in case.rows or ("(no row)",):
                failures[row].append(case)
    lines = []
    for row, cases_of_row in sorted(failures.items()):
        endpoints = ", ".join(sorted({c.endpoint for c in cases_of_row if c.endpoint})) or "-"
        first = cases_of_row[0]
        lines.append(f"{row} [{endpoints}]: {len(cases_of_row)} failed, e.g. {first.test} ({first.case})")
    return lines


def summary_lines(results: RunResults) -> list[str]:
    """The end-of-run summary of `results` (what `Progress` prints after the run)."""
    lines = [tally_line(results), case_counts(results)]
    if results.interrupted:
        why = f"{results.interrupted_reason}; " if results.interrupted_reason else ""
        lines.append(f"interrupted: {why}these are the cases of the tests that ran before the stop")
    reasons = top_reasons(results.cases)
    if reasons:
        lines.append("not verified, top reasons:")
        lines += [f"  {count} x {reason}" for reason, count in reasons]
    failed = failed_rows(results.cases)
    if failed:
        lines.append(f"failed rows ({len(failed)}):")
        lines += [f"  {line}" for line in failed[:FAILED_ROWS_SHOWN]]
        if len(failed) > FAILED_ROWS_SHOWN:
            lines.append(f"  ... and {len(failed) - FAILED_ROWS_SHOWN} more in the results file")
    started = [left for left in results.leftovers if "(STARTED," in left]
    if started:
        lines.append(f"left STARTED on the target ({len(started)}; they end at their expiry):")
        lines += [f"  {left}" for left in started[:LEFT_SHOWN]]
        if len(started) > LEFT_SHOWN:
            lines.append(f"  ... and {len(started) - LEFT_SHOWN} more in the results file (leftovers)")
    if results.unearned:
        lines.append(f"not a pass: {results.unearned}")
    return lines


class Progress:
    """A pytest plugin: the progress line after each test module, and the summary at the end.

    It reads the run's results so far from `results` (None until a test reached the target).
    Under pytest-xdist the cases live in the workers, so only the summary is shown, from the merged
    results the plugin leaves in the run.
    """

    def __init__(self, results: Callable[[], RunResults | None]) -> None:
        self._results = results
        self._module: str | None = None
        self._reporter: pytest.TerminalReporter | None = None
        self._per_module = True
        self._done = 0
        self._collected = 0

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        self._per_module = session.config.getoption("dist", "no") == "no"

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collected = len(session.items)

    def pytest_runtest_logfinish(self) -> None:
        self._done += 1

    @pytest.hookimpl(tryfirst=True)  # before pytest writes the next module's name
    def pytest_runtest_logstart(self, nodeid: str) -> None:
        module = nodeid.split("::", 1)[0]
        if self._module is not None and module != self._module:
            self._progress(self._module)
        self._module = module

    def _progress(self, module: str) -> None:
        results = self._results()
        if self._reporter is None or not self._per_module or results is None:
            return
        end_line(self._reporter)
        name = module.rpartition("/")[2]
        done = f"{self._done}/{self._collected} tests"
        self._reporter.write_line(f"{PREFIX}: {done}, after {name}: {tally_line(results)}")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        results = self._results()
        if results is None or not results.cases:
            return
        terminalreporter.write_sep("-", f"{PREFIX} summary")
        for line in summary_lines(results):  # reasons and leftovers quote the target: escaped
            terminalreporter.write_line(printable_lines(line))


def end_line(reporter: pytest.TerminalReporter) -> None:
    """Start a new line if pytest left one open: its line of a module's results, or under -q its dots
    (which have no module name to end them, so `ensure_newline` alone leaves them open)."""
    reporter.ensure_newline()
    if reporter._tw.width_of_current_line:
        reporter.write("\n")
