"""`conformance drift BASELINE CURRENT`: read both results files, render, write atomically, judge.

Exit status: 0 when no documented behaviour regressed (changes in undocumented behaviour are only
reported), 1 when some did or a test newly errors (the suite could not verify what it verified
before; see `drift`); a malformed file or a bad output path is a `ConformanceError` (the CLI prints
it as one message and exits 2), raised before anything is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from conformance import files
from conformance.errors import Place, UsageError
from conformance.report.drift import Drift, compare
from conformance.report.html import render_html
from conformance.report.markdown import render_markdown
from conformance.report.serialize import render_json
from conformance.results import read_results

RENDERERS: dict[str, Callable[[Drift], str]] = {
    "markdown": render_markdown,
    "html": render_html,
    "json": render_json,
}


def drift_main(baseline: Path, current: Path, rendering: str, output: Path | None) -> int:
    if output is not None:
        _check_output(output, (baseline, current))
    drift = compare(read_results(baseline), read_results(current), (baseline, current))
    text = RENDERERS[rendering](drift)
    if output is None:
        sys.stdout.write(text)
    else:
        _write_atomically(output, text)
    return 1 if drift.regressed else 0


def _check_output(output: Path, inputs: tuple[Path, Path]) -> None:
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
            "is one of the results files compared",
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
