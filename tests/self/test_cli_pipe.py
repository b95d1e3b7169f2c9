"""A reader that stops reading (`conformance ... | head`) ends the command quietly: no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli import READER_GONE
from conformance.judging.results import RunResults

MAIN = "import sys; from conformance.cli import main; sys.exit(main())"


def _results(path: Path) -> Path:
    RunResults("sandbox", "", "digest", "0", "2026-01-01T00:00:00+00:00").write(path)
    return path


@pytest.mark.parametrize("command", ["contracts lint", "report RESULTS", "drift RESULTS RESULTS"])
def test_closed_stdout_ends_quietly(command: str, tmp_path: Path) -> None:
    """With its stdout's reader gone, a command exits 141 and writes nothing to stderr."""
    results = str(_results(tmp_path / "results.json"))
    args = [results if word == "RESULTS" else word for word in command.split()]
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first write: every write meets EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-c", MAIN, *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == READER_GONE
