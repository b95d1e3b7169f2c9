"""`conformance drift BASELINE CURRENT`, `conformance drift DIRECTORY` and `conformance report RESULTS`:
read the results files, render, write atomically, judge.

Exit status of drift: 0 when no documented behaviour regressed (changes in undocumented behaviour are
only reported), 1 when some did or a test newly errors (the suite could not verify what it verified
before; see `drift`, and `history` for a directory); `report` exits 0 whatever the run's verdicts. A
malformed file or a bad output path is a `ConformanceError` (the CLI prints it as one message and
exits 2), raised before anything is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from conformance import files
from conformance.errors import Place, ResultsError, UsageError
from conformance.report.drift import Drift, compare
from conformance.report.history import History, build_history
from conformance.report.history_html import render_history_html
from conformance.report.history_markdown import render_history_markdown
from conformance.report.html import render_html
from conformance.report.junit import render_junit
from conformance.report.markdown import render_markdown
from conformance.report.run_html import render_run_html
from conformance.report.run_markdown import render_run_markdown
from conformance.report.run_report import RunReport, build_report
from conformance.report.serialize import render_history_json, render_json
from conformance.results import RunResults, read_results

RENDERERS: dict[str, Callable[[Drift], str]] = {
    "markdown": render_markdown,
    "html": render_html,
    "json": render_json,
}
HISTORY_RENDERERS: dict[str, Callable[[History], str]] = {
    "markdown": render_history_markdown,
    "html": render_history_html,
    "json": render_history_json,
}
RUN_RENDERERS: dict[str, Callable[[RunReport], str]] = {
    "markdown": render_run_markdown,
    "html": render_run_html,
    "junit": render_junit,
}


def drift_main(baseline: Path, current: Path | None, rendering: str, output: Path | None) -> int:
    if baseline.is_dir():
        if current is not None:
            raise UsageError(
                baseline,
                Place(path="BASELINE"),
                "is a directory, and a CURRENT file was given too",
                "give a directory of results files alone, or two results files",
            )
        return _history_main(baseline, rendering, output)
    if current is None:
        raise UsageError(
            baseline,
            Place(path="CURRENT"),
            "is one results file, and no CURRENT file was given to compare it with",
            "give two results files (BASELINE CURRENT), or a directory of nightly results files",
        )
    if output is not None:
        _check_output(output, (baseline, current))
    drift = compare(read_results(baseline), read_results(current), (baseline, current))
    _emit(RENDERERS[rendering](drift), output)
    return 1 if drift.regressed else 0


def _history_main(directory: Path, rendering: str, output: Path | None) -> int:
    found = sorted(directory.glob("*.json"))
    if output is not None:
        _check_output(output, tuple(found))
        if output.resolve().parent == directory.resolve():
            raise UsageError(
                output,
                Place(path="--output"),
                "is inside the directory of results files, where the next drift would read it",
                "write the report elsewhere",
            )
    if len(found) < 2:
        raise UsageError(
            directory,
            Place(),
            f"holds {len(found)} results file(s) (*.json); a history needs at least two",
            "put the nightly results files there, or compare two with `conformance drift BASELINE CURRENT`",
        )
    runs = sorted(
        ((read_results(path), path) for path in found), key=lambda run: (_started(*run), run[1].name)
    )
    history = build_history([(results, path.name) for results, path in runs])
    _emit(HISTORY_RENDERERS[rendering](history), output)
    return 1 if history.regressed else 0


def _started(results: RunResults, path: Path) -> datetime:
    """When the run started: the order of the history (a time without a zone is read as UTC)."""
    try:
        started = datetime.fromisoformat(results.started_at)
    except ValueError:
        raise ResultsError(
            path,
            Place(path="started_at"),
            f"{results.started_at!r} is not an ISO 8601 time",
            "use a file the suite wrote, unedited",
        ) from None
    return started if started.tzinfo else started.replace(tzinfo=UTC)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        _write_atomically(output, text)


def report_main(results: Path, rendering: str, output: Path | None) -> int:
    """`conformance report RESULTS`: one run for a person. Exit 0 whatever the run's verdicts (the run
    itself exited 1 on a failure); 2 on a malformed file or a bad output path."""
    if output is not None:
        _check_output(output, (results,))
    _emit(RUN_RENDERERS[rendering](build_report(read_results(results), results)), output)
    return 0


def _check_output(output: Path, inputs: tuple[Path, ...]) -> None:
    if output.is_dir():
        raise UsageError(output, Place(path="--output"), "is a directory", "give a file path for the report")
    if not output.parent.is_dir():
        raise UsageError(
            output, Place(path="--output"), f"the directory {output.parent} does not exist", "create it first"
        )
    if any(output.resolve() == path.resolve() for path in inputs):
        raise UsageError(
            output,
            Place(path="--output"),
            "is one of the results files read",
            "write the report elsewhere",
        )


def _write_atomically(path: Path, text: str) -> None:
    """A temporary file beside `path`, renamed over it: a failure leaves no half-written report."""
    try:
        files.write_atomically(path, text)
    except OSError as exc:
        raise UsageError(
            path,
            Place(path="--output"),
            f"cannot be written: {exc.strerror}",
            "check the path and permissions",
        ) from None
