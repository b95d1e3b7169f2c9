"""The suite catches faults: it fails on every sandbox mutant, passes on the reference sandbox and on
conforming variations.

Each mutant of `sandbox_mutants` is first shown to change what the sandbox answers (so none is a
silent no-op), then the suite is run against it in a fresh interpreter. All the suite runs a session
selects start together, one per core, and each test waits for its own.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from conformance.core.clock import VirtualClock
from conformance.sandbox import Sandbox, build_sandbox
from tests.self.mutants.mutant_kinds import FAMILIES, Answer, Bench, Gap, Mutant
from tests.self.mutants.mutant_runs import (
    REFERENCE,
    STOP_AT_FIRST,
    failed_cases,
    failed_tests,
    named_edge_of,
    names_a_documented_row,
    run_mutant,
)
from tests.self.mutants.sandbox_mutants import BY_NAME, CATEGORIES, CONFORMING, MUTANTS, NAMED_EDGE_MOVED
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import Api
from tests.self.suite.suite_runner import SuiteRun

RUN_PARAMETERS = ("mutant", "passing")


def _marks(mutant: Mutant) -> list[pytest.MarkDecorator]:
    """A mutant the suite is known to miss is expected to survive (strictly: a fix shows up)."""
    return [pytest.mark.xfail(strict=True, reason=f"suite gap: {mutant.survives}")] if mutant.survives else []


def _selected(items: list[pytest.Item], module: Path) -> list[str]:
    """The mutants and variations whose suite runs the selected tests of `module` wait for."""
    names: list[str] = []
    for item in (i for i in items if i.path == module):
        params = getattr(getattr(item, "callspec", None), "params", {})
        names += [params[p] for p in RUN_PARAMETERS if p in params]
    return list(dict.fromkeys(names))


def _probe(mutant: Mutant, sandbox: Sandbox, clock: VirtualClock) -> Answer:
    with sandbox.client() as client:
        return mutant.probe(Bench(Api(client, clock), sandbox.control))


@pytest.fixture(scope="module")
def suite_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[SuiteRun]]]:
    """A suite run per mutant, variation or reference the selected tests need, all started at once."""
    names = sorted(_selected(request.session.items, request.path), key=_runs_to_the_end, reverse=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        yield {name: pool.submit(_run, tmp_path_factory.mktemp(name), name) for name in names}


def _run(tmp_path: Path, name: str) -> SuiteRun:
    return run_mutant(tmp_path, name, *STOP_AT_FIRST)


def _runs_to_the_end(name: str) -> bool:
    """Runs no failure stops (reference, variations, known survivors) go first: the pool ends sooner."""
    entry = BY_NAME.get(name)
    return entry is None or entry.category == "conforming" or entry.survives is not None


def _summary(run: SuiteRun) -> str:
    return run.output[-3000:]


def test_the_table_covers_every_category() -> None:
    """Boundaries, codes, statuses, body presence and fields, envelope, lifecycle, sync gate,
    eligibility, rate, 5xx, time zones, concurrency; and every family (contract, request, response)."""
    assert {m.category for m in MUTANTS} == CATEGORIES
    assert {m.family for m in MUTANTS} == set(FAMILIES)


def test_a_mutant_is_one_kind_of_fault() -> None:
    """Exactly one of a contract edit, a request rewrite and a response corruption; a gap needs the last."""
    made = BY_NAME["ends-at-min-exclusive"], BY_NAME["ends-at-offset-ignored"], BY_NAME["start-not-atomic"]
    edit, rewrite, corrupt = made[0].edit, made[1].rewrite, made[2].corrupt
    mutant = functools.partial(Mutant, name="x", category="boundary", description="x", probe=made[0].probe)
    with pytest.raises(ValueError, match="exactly one"):
        mutant()
    with pytest.raises(ValueError, match="exactly one"):
        mutant(edit=edit, rewrite=rewrite)
    with pytest.raises(ValueError, match="exactly one"):
        mutant(rewrite=rewrite, corrupt=corrupt)
    with pytest.raises(ValueError, match="gap"):
        mutant(rewrite=rewrite, gap=Gap("start", 0.1))
    assert [m.family for m in made] == list(FAMILIES)


def test_a_corrupted_answer_keeps_the_apps_headers(tmp_path: Path) -> None:
    """A live client reads the target's clock from `Date`: a corrupted answer still carries the app's."""
    clock = VirtualClock()
    with (
        BY_NAME["added-plus-1"]
        .sandbox(bundled_contract(), sandbox_profile(), clock, tmp_path)
        .client() as client
    ):
        api = Api(client, clock)
        response = api.post(
            "register", api.register_body([sandbox_profile().syncing_insiders()[0].insider_id])
        )
    assert response.status_code == 200, response.text
    assert parsedate_to_datetime(response.headers["date"]) == clock.now()
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.usefixtures("suite_runs")  # the suite runs start first, and go on while these probe
@pytest.mark.parametrize("entry", [pytest.param(m, id=m.name) for m in (*MUTANTS, *CONFORMING)])
def test_mutant_changes_an_answer(entry: Mutant, tmp_path: Path) -> None:
    """The mutated sandbox answers the entry's probe otherwise than the reference sandbox does."""
    clocks = VirtualClock(), VirtualClock()
    reference = _probe(
        entry, build_sandbox(bundled_contract(), sandbox_profile(), clock=clocks[0]), clocks[0]
    )
    mutated = _probe(
        entry, entry.sandbox(bundled_contract(), sandbox_profile(), clocks[1], tmp_path), clocks[1]
    )
    assert mutated != reference


@pytest.mark.parametrize("mutant", [pytest.param(m.name, marks=_marks(m)) for m in MUTANTS])
def test_suite_fails_on_the_mutant(mutant: str, suite_runs: dict[str, Future[SuiteRun]]) -> None:
    """The suite fails on the mutant, and its failure names a documented row."""
    run = suite_runs[mutant].result()
    assert run.returncode == 1, _summary(run)
    failed = failed_cases(run)
    assert failed, f"no failed case in the results file\n{_summary(run)}"
    assert any(names_a_documented_row(c) for c in failed), failed


@pytest.mark.parametrize("mutant", list(NAMED_EDGE_MOVED))
def test_edge_mutant_is_killed_by_its_named_edge(
    mutant: str, suite_runs: dict[str, Future[SuiteRun]]
) -> None:
    """A mutant moving an ends_at edge by one second is first caught by the named edge case at that
    edge (the named edges run first and -x stops at the first failure), not by chance elsewhere."""
    run = suite_runs[mutant].result()
    failed = failed_tests(run)
    assert failed, f"no failed suite test in the output\n{_summary(run)}"
    assert named_edge_of(failed[0]) == NAMED_EDGE_MOVED[mutant], failed


@pytest.mark.parametrize("passing", [REFERENCE, *(v.name for v in CONFORMING)])
def test_suite_passes_on_the_sandbox(passing: str, suite_runs: dict[str, Future[SuiteRun]]) -> None:
    """The reference sandbox, and each difference the docs allow, fail nothing."""
    run = suite_runs[passing].result()
    assert run.returncode == 0, _summary(run)
    assert run.results["counts"]["failed"] == 0
