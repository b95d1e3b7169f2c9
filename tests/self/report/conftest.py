"""Put the suite harness (tests/self/suite) on sys.path, and run the suite once for the report tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

SUITE_HELPERS = str(Path(__file__).parents[1] / "suite")
if SUITE_HELPERS not in sys.path:
    sys.path.append(SUITE_HELPERS)

from suite_runner import run_suite  # noqa: E402 - importable only once the path above is set


@pytest.fixture(scope="session")
def reference_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results file of one suite run on the reference sandbox; tests drift edited copies of it."""
    run = run_suite(tmp_path_factory.mktemp("reference"))
    if not run.results:
        pytest.fail(f"the suite wrote no results file:\n{run.output[-3000:]}")
    path = tmp_path_factory.getbasetemp() / "reference.json"
    path.write_text(json.dumps(run.results), encoding="utf-8")
    return path
