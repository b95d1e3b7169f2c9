"""The sync pool on the live path: a run that starts synced activities ahead judges as one that does not.

Against `conformance sandbox serve` on loopback with its profile's short sync bound (0.2 s), the tests
that ask for synced activities run twice: with the pool (the default) and with `--no-sync-pool`.
The sandbox's journal shows that the pooled run did start activities ahead.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from conformance.contract import load_contract
from tests.self.suite.suite_runner import TOKEN_VARIABLE, SuiteRun, run_suite, served_profile, served_sandbox

TOKEN = "self-test-sync-pool-token"
# The suite's files whose tests ask `arrange` for synced (or ended) activities: the pool's users. Not
# the test of /update within the sync bound: it starts its own, and how many retries it names depends
# on the machine's pace, pool or not.
USERS = (
    "(eligibility_and_sync or retry_rules or error_rows or undocumented or target_devices or boundaries)"
    " and not resolves_within_sync_bound"
)


def _run(tmp: Path, *options: str) -> tuple[SuiteRun, Counter[str]]:
    """The pool's users against a fresh served sandbox: the run, and the requests the sandbox saw."""
    with served_sandbox(TOKEN) as (url, _):
        profile = served_profile(url, tmp)
        live = ("--target", "live", "--base-url", url, "--target-profile", str(profile), "-k", USERS)
        run = run_suite(tmp, *live, *options, env={TOKEN_VARIABLE: TOKEN})
        journal = httpx.get(f"{url}/_sandbox/journal", headers={"X-Sandbox-Control": TOKEN}, timeout=30)
    return run, Counter(entry["endpoint"] for entry in journal.json()["entries"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[SuiteRun, Counter[str]]]:
    return {
        "pool": _run(tmp_path_factory.mktemp("pool")),  # the default
        "serial": _run(tmp_path_factory.mktemp("serial"), "--no-sync-pool"),
    }


def _starts_judged(run: SuiteRun) -> int:
    starts = load_contract().roles.starts
    return sum(1 for case in run.results["cases"] if case["endpoint"] == starts)


def test_verdicts_with_the_pool_equal_those_without(runs: dict[str, tuple[SuiteRun, Counter[str]]]) -> None:
    """Every case gets the same verdict whether synced activities were started ahead or per test."""
    (pooled, _), (serial, _) = runs["pool"], runs["serial"]
    assert pooled.returncode == serial.returncode == 0, pooled.output[-3000:] + serial.output[-3000:]
    assert pooled.verdicts() == serial.verdicts()
    assert len(pooled.verdicts()) > 100


def test_the_pool_starts_activities_ahead_only_when_in_use(
    runs: dict[str, tuple[SuiteRun, Counter[str]]],
) -> None:
    """With the pool the sandbox saw more starts than without (the ones prepared and never taken), while
    the runs judged as many: the pool was in use, and its spare activities are not in the results."""
    starts = load_contract().roles.starts
    (pooled, pooled_seen), (serial, serial_seen) = runs["pool"], runs["serial"]
    assert _starts_judged(pooled) == _starts_judged(serial)
    assert pooled_seen[starts] > serial_seen[starts]
