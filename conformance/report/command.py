"""`conformance drift BASELINE CURRENT`, `conformance drift DIRECTORY` and `conformance report RESULTS`:
read the results files, render, write atomically, judge.

Exit status of drift: 0 when no documented behaviour regressed (changes in undocumented behaviour are
only reported), 1 when some did or a test newly errors (the suite could not verify what it verified
before; see `drift`, and `history` for a directory); `report` exits 0 whatever the run's verdicts. A
malformed file or a bad output path is a `ConformanceError` (the CLI prints it as one message and
exits 2), raised before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from conformance.core import files
from conformance.core.errors import Place, UsageError
from conformance.core.subcommand import Command
from conformance.judging.results import read_results
from conformance.report.drift import Drift, compare
from conformance.report.history import History, build_history
from conformance.report.history_html import render_history_html
from conformance.report.history_markdown import render_history_markdown
from conformance.report.history_store import Store, opened, temporary
from conformance.report.html import render_html
from conformance.report.junit import render_junit
from conformance.report.markdown import render_markdown
from conformance.report.run_html import render_run_html
from conformance.report.run_markdown import render_run_markdown
from conformance.report.run_report import RunReport, build_report
from conformance.report.serialize import render_history_json, render_json

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


def _drift_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "baseline",
        type=Path,
        metavar="BASELINE",
        help="the earlier results JSON file, or a DIRECTORY of them",
    )
    parser.add_argument(
        "current",
        type=Path,
        metavar="CURRENT",
        nargs="?",
        help="the later results JSON file (not with a DIRECTORY)",
    )
    parser.add_argument(
        "--format", choices=sorted(RENDERERS.keys() & HISTORY_RENDERERS.keys()), default="markdown"
    )
    parser.add_argument("--output", type=Path, default=None, help="write the report here (default: stdout)")
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        metavar="FILE",
        help="with a DIRECTORY: the history store (SQLite) to read and keep; the directory's results files "
        "are added to it, and the report covers every run it holds (default: the directory alone)",
    )


def _drift(args: argparse.Namespace, _contracts: Path) -> int:
    return drift_main(args.baseline, args.current, args.format, args.output, args.store)


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, metavar="RESULTS", help="a results JSON file")
    parser.add_argument("--format", choices=sorted(RUN_RENDERERS), default="markdown")
    parser.add_argument("--output", type=Path, default=None, help="write the report here (default: stdout)")


def _report(args: argparse.Namespace, _contracts: Path) -> int:
    return report_main(args.results, args.format, args.output)


def drift_main(
    baseline: Path, current: Path | None, rendering: str, output: Path | None, store: Path | None = None
) -> int:
    if baseline.is_dir():
        if current is not None:
            raise UsageError(
                baseline,
                Place(path="BASELINE"),
                "is a directory, and a CURRENT file was given too",
                "give a directory of results files alone, or two results files",
            )
        return _history_main(baseline, rendering, output, store)
    if store is not None:
        raise UsageError(
            store,
            Place(path="--store"),
            "keeps the history of a directory of results files, and two files were given",
            "give a DIRECTORY with --store, or leave --store out",
        )
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


def _history_main(directory: Path, rendering: str, output: Path | None, store: Path | None) -> int:
    found = sorted(directory.glob("*.json"))
    if output is not None:
        _check_output(output, tuple(found) + ((store,) if store else ()))
        if output.resolve().parent == directory.resolve():
            raise UsageError(
                output,
                Place(path="--output"),
                "is inside the directory of results files, where the next drift would read it",
                "write the report elsewhere",
            )
    with _store(store) as history_store:
        for path in found:
            history_store.add(path)
        count = history_store.count()
        # A store keeps what it was given even when the history is still too short to read.
        history = (
            build_history(history_store.runs(), count, history_store.latest().digest) if count >= 2 else None
        )
    if history is None:
        raise UsageError(
            directory,
            Place(),
            f"holds {len(found)} results file(s) (*.json)"
            + (f", and with the store {store} the history has {count} run(s)" if store else "")
            + "; a history needs at least two runs",
            "put the nightly results files there, or compare two with `conformance drift BASELINE CURRENT`",
        )
    _emit(HISTORY_RENDERERS[rendering](history), output)
    return 1 if history.regressed else 0


@contextmanager
def _store(path: Path | None) -> Iterator[Store]:
    """The history store: the one given (kept, updated atomically), or one for this reading alone."""
    if path is not None:
        with opened(path) as store:
            yield store
        return
    with TemporaryDirectory(prefix="conformance-drift-") as directory, temporary(Path(directory)) as store:
        yield store


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


DRIFT = Command(
    "drift",
    "compare two results files, or a directory of nightly ones: what changed, since when, and whether "
    "documented behaviour regressed",
    description="Exit status 1 when a documented case or row that passed in BASELINE fails in CURRENT "
    "(or a test newly errors); 0 otherwise (changes in undocumented behaviour are reported, not "
    "failed); 2 on a malformed file. Given a DIRECTORY of results files instead, ordered by their "
    "started_at: for each change, the first run that showed it, whether it held or flaps, and exit "
    "status 1 when a documented case or row that passed in any earlier run fails in the latest.",
    run=_drift,
    arguments=_drift_arguments,
)
REPORT = Command(
    "report",
    "render one results file for a person: counts, matrix, failures, what was not verified",
    description="Markdown (short enough for a CI job summary), one self-contained HTML page, or JUnit XML "
    "with one testcase per case. Exit status 0 whatever the run's verdicts; 2 on a malformed file.",
    run=_report,
    arguments=_report_arguments,
)
