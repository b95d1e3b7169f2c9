"""The suite's verdicts: right on the reference sandbox, right on a different conforming one, repeatable.

The suite judges any implementation of the API, so a sandbox that differs in everything the docs
leave open (messages, which error wins, seed data, sync delay, rate limit, missing account states)
must pass too; and the CI Hypothesis profile is derandomized, so two runs give identical verdicts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.self.suite.suite_runner import SuiteRun, run_suite

OTHER_PROFILE = Path(__file__).parent / "data" / "other-sandbox.toml"
OTHER_SANDBOX = """
import pytest
from conformance.sandbox import SandboxConfig, build_sandbox

ORDER = ("lifecycle", "target_devices", "fields", "insider_ids", "ends_at_window", "body", "account")


@pytest.hookimpl
def pytest_conformance_sandbox(contract, profile, clock):
    messages = {row.code: f"other wording for {row.code.lower()}" for row in contract.table.rows if row.code}
    config = SandboxConfig(messages=messages, precedence=ORDER)
    return build_sandbox(contract, profile, clock=clock, config=config)
"""


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return run_suite(tmp_path_factory.mktemp("reference"))


def _summary(run: SuiteRun) -> str:
    return run.output[-3000:]


def test_suite_passes_on_the_reference_sandbox(reference_run: SuiteRun) -> None:
    """Against the embedded sandbox every case passes or is recorded; nothing fails, errors or is skipped."""
    counts = reference_run.results["counts"]
    assert reference_run.returncode == 0, _summary(reference_run)
    assert counts["failed"] == counts["error"] == 0
    assert counts["skipped"] == 0, [
        c["reason"] for c in reference_run.results["cases"] if c["verdict"] == "skipped"
    ]
    assert counts["passed"] > 500
    assert counts["recorded"] > 0  # the undocumented probes were sent and recorded


def test_suite_verdicts_repeat_exactly(reference_run: SuiteRun, tmp_path: Path) -> None:
    """A second run of the CI profile gives the same verdict for every case."""
    again = run_suite(tmp_path)
    assert again.returncode == 0, _summary(again)
    assert again.verdicts() == reference_run.verdicts()


def test_suite_passes_on_a_different_conforming_sandbox(reference_run: SuiteRun, tmp_path: Path) -> None:
    """Other messages, error precedence, seed data, sync delay and rate limit: still no failure."""
    run = run_suite(tmp_path, "--target-profile", str(OTHER_PROFILE), plugin=OTHER_SANDBOX)
    counts = run.results["counts"]
    assert run.returncode == 0, _summary(run)
    assert counts["failed"] == 0
    assert counts["passed"] > 0.8 * reference_run.results["counts"]["passed"]
    skipped = {c["reason"] for c in run.results["cases"] if c["verdict"] == "skipped"}
    assert skipped, "the profile offers no not_renewed or unknown_app key: those rows must be skipped"
    expected_reasons = ("offers no key", "not exercised", "lists no insider of class")
    assert all(any(r in reason for r in expected_reasons) for reason in skipped), skipped
