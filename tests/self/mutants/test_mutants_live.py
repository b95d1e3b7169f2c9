"""The live path catches faults too: the newer mutants, each served over loopback HTTP, fail the suite
run with `--target live`, and the reference sandbox, served alike, passes the same tests.

Each sandbox is built in this process and served from a thread (`mutant_runs.served`) on the real
clock, with what a distant server brings: 150 ms of latency each way, a clock 45 s off, and a
comparison of ends_at in whole seconds (reading `clock-resolution=whole-seconds`), so the suite has
to measure the target's clock from `Date` headers and aim its edge cases mid-second. A request costs
about 0.3 s, so each run selects only the tests that must kill its mutant (`-k`), and stops at the
first failure (`-x`); the runs are mostly waiting, so several go at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from conformance.sandbox import SandboxConfig
from tests.self.mutants.mutant_runs import (
    REFERENCE,
    STOP_AT_FIRST,
    failed_cases,
    failed_tests,
    killed,
    named_edge_of,
    run_served,
)
from tests.self.mutants.sandbox_mutants import BY_NAME, NAMED_EDGE_MOVED
from tests.self.suite.suite_runner import SuiteRun

TOKEN = "mutants-live-control-token"
SERVED = SandboxConfig(
    control_token=TOKEN,
    latency_ms=150,
    clock_offset_seconds=45,
    readings={"clock-resolution": "whole-seconds"},
)
# Each new mutant, and the suite tests (a `-k` expression) that must kill it over HTTP.
KILLED_BY: dict[str, str] = {
    "ends-at-min-exclusive": "named_edge",
    "ends-at-max-exclusive": "named_edge",
    "ends-at-min-minus-1s": "named_edge",
    "ends-at-max-plus-1s": "named_edge",
    "ends-at-offset-ignored": "named_edge",
    "start-not-atomic": "parallel_start",
    "refreshed-counted-as-added": "insider_ids_named_count",
    "skipped-key-dropped": "ineligible_insider",
    "register-without-activity-id": "ineligible_insider",
}
SELECTIONS = tuple(dict.fromkeys(KILLED_BY.values()))
# Served runs at a time. They mostly wait out latency, but each suite start-up takes a core for a few
# seconds, and a starved client jitters too much to aim its edge cases mid-second. Measured on 2
# cores: the module takes 80 s with 2 at once, 70 s with 4, 62 s with 6 (a run alone, 9-18 s).
AT_ONCE = 4


def _summary(run: SuiteRun) -> str:
    return run.output[-3000:]


Runs = dict[tuple[str, str], Future[SuiteRun]]


def _selected(items: list[pytest.Item], module: Path) -> list[tuple[str, str]]:
    """The served runs the selected tests of `module` wait for: the reference's first (they run their
    whole selection, where a mutant's run stops early)."""
    params = [getattr(getattr(i, "callspec", None), "params", {}) for i in items if i.path == module]
    references = [(REFERENCE, p["selection"]) for p in params if "selection" in p]
    mutants = [(p["mutant"], KILLED_BY[p["mutant"]]) for p in params if "mutant" in p]
    return list(dict.fromkeys([*references, *mutants]))


@pytest.fixture(scope="module")
def live_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """(mutant or REFERENCE, selection) -> its served run, for the selected tests; all submitted at
    once, AT_ONCE running."""
    runs = _selected(request.session.items, request.path)

    def run(name: str, selection: str) -> SuiteRun:
        workdir = tmp_path_factory.mktemp(f"live-{name}")
        return run_served(workdir, name, SERVED, *STOP_AT_FIRST, "-k", selection)

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        yield {(name, selection): pool.submit(run, name, selection) for name, selection in runs}


def test_every_served_mutant_is_in_the_table() -> None:
    assert KILLED_BY.keys() <= BY_NAME.keys()
    assert all(BY_NAME[name].survives is None for name in KILLED_BY)


@pytest.mark.parametrize("selection", SELECTIONS)
def test_served_reference_passes(selection: str, live_runs: Runs) -> None:
    """The reference sandbox, served alike, passes every test the mutants' runs select."""
    run = live_runs[REFERENCE, selection].result()
    assert run.returncode == 0, _summary(run)
    counts = run.results["counts"]
    assert counts["failed"] == 0
    assert counts["passed"] > 0, "the selection ran nothing"


@pytest.mark.parametrize("mutant", list(KILLED_BY))
def test_served_mutant_is_killed(mutant: str, live_runs: Runs) -> None:
    """The suite, run live against the served mutant, fails on a documented row in the selected tests;
    an edge mutant first at the named edge it moved."""
    run = live_runs[mutant, KILLED_BY[mutant]].result()
    assert killed(run), _summary(run)
    first = failed_tests(run)[:1]
    assert first, f"no failed suite test in the output\n{_summary(run)}"
    if mutant in NAMED_EDGE_MOVED:
        assert named_edge_of(first[0]) == NAMED_EDGE_MOVED[mutant], [c["case"] for c in failed_cases(run)]
