"""Every outcome of a suite test reaches the results file, also where the suite reached no verdict.

A crash in the test, a fixture error, an error in teardown and a worker that died each leave an
`error` case (the test id, where it errored, pytest's one-line summary, scrubbed); a plain
`pytest.skip` leaves a `skipped` case with its reason. What `verify` and `Verifier.skip` recorded is
not recorded twice. The suite's `test_wrong_content_type` runs once per endpoint, and a plugin
sabotages each endpoint's test in another way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.contract import load_contract
from conformance.core.printable import REDACTED
from conformance.judging.results import RunResults, Verdict, unverified
from conformance.profile.target_profile import load_profile, sandbox_profile_path
from tests.self.suite.suite_runner import SuiteRun, run_suite

SELECTED = ("-p", "no:randomly", "-k", "test_wrong_content_type")
TEST = "test_boundaries.py::test_wrong_content_type[{}]"
SABOTAGE = """
import dataclasses

import pytest
from conformance.sandbox import build_sandbox


def _endpoint(item):
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("endpoint") if callspec else None


@pytest.hookimpl
def pytest_conformance_sandbox(contract, profile, clock):
    sandbox = build_sandbox(contract, profile, clock=clock)
    return dataclasses.replace(sandbox, app=_teapot_on_add_users(sandbox.app))


def _teapot_on_add_users(app):
    async def answer(scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith("/add-users"):
            await send({"type": "http.response.start", "status": 418, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    return answer


@pytest.fixture(autouse=True)
def sabotage(request):
    endpoint = _endpoint(request.node)
    if endpoint == "update":
        raise LookupError("the arranging fixture broke")
    if endpoint == "start":
        pytest.skip("a plain skip that nothing recorded")
    if endpoint == "remove-users":
        request.getfixturevalue("verifier").skip("the verifier skipped it")
    yield
    if endpoint == "end":
        raise RuntimeError("tearing down broke")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    if _endpoint(item) == "register":
        key = item.funcargs["conformance_target"].secrets()[0]
        raise RuntimeError(f"the test crashed holding {key}\\nand a second line")
"""
CRASH_A_WORKER = """
import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    if item.name.endswith("[register]") and hasattr(item.config, "workerinput"):
        os._exit(1)
"""


@pytest.fixture(scope="module")
def sabotaged(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return run_suite(tmp_path_factory.mktemp("sabotaged"), *SELECTED, plugin=SABOTAGE)


def _cases(run: SuiteRun, endpoint: str) -> list[tuple[str, str, str]]:
    """(case, verdict, reason) of the endpoint's test, in the order recorded."""
    return [
        (c["case"], c["verdict"], c["reason"])
        for c in run.results["cases"]
        if c["test"] == TEST.format(endpoint)
    ]


def test_a_crash_in_the_test_is_an_error_case_with_its_scrubbed_summary(sabotaged: SuiteRun) -> None:
    """The test id, `error (call)`, the exception's first line, and no key in the file."""
    contract = load_contract()
    keys = load_profile(sandbox_profile_path(contract), contract).secrets()
    assert sabotaged.returncode == 1, sabotaged.output[-3000:]
    assert _cases(sabotaged, "register") == [
        ("error (call)", Verdict.ERROR, f"RuntimeError: the test crashed holding {REDACTED}")
    ]
    assert not [k for k in keys if k in json.dumps(sabotaged.results)]


def test_a_fixture_error_and_a_teardown_error_are_error_cases(sabotaged: SuiteRun) -> None:
    """Setup: the only case of the test; teardown: after the case the test verified."""
    assert _cases(sabotaged, "update") == [
        ("error (setup)", Verdict.ERROR, "LookupError: the arranging fixture broke")
    ]
    end = _cases(sabotaged, "end")
    assert [verdict for _, verdict, _ in end] == ["passed", Verdict.ERROR]
    assert end[-1] == ("error (teardown)", Verdict.ERROR, "RuntimeError: tearing down broke")


def test_a_plain_skip_is_a_skipped_case_with_its_reason(sabotaged: SuiteRun) -> None:
    """A `pytest.skip` that `Verifier.skip` did not record still reaches the file, with its reason."""
    assert _cases(sabotaged, "start") == [("skipped", "skipped", "a plain skip that nothing recorded")]


def test_what_verify_and_the_verifier_recorded_is_not_recorded_again(sabotaged: SuiteRun) -> None:
    """A ContractViolation stays one failed case; a `Verifier.skip` one skipped case."""
    assert [verdict for _, verdict, _ in _cases(sabotaged, "add-users")] == ["failed"]
    assert _cases(sabotaged, "remove-users") == [("skipped", "skipped", "the verifier skipped it")]


def test_errors_are_counted_apart_from_failures(sabotaged: SuiteRun) -> None:
    """In the file's counts and in the line the run ends with."""
    counts: dict[str, Any] = sabotaged.results["counts"]
    assert (counts[Verdict.ERROR], counts["failed"], counts["skipped"], counts["passed"]) == (3, 1, 2, 1)
    assert "conformance results: 1 passed, 1 failed, 0 recorded, 2 skipped, 3 error -> " in sabotaged.output


def test_parallel_workers_hand_every_outcome_to_the_results_file(
    sabotaged: SuiteRun, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Under `-n 2` each worker's cases reach the one file: the same cases and verdicts as one process."""
    run = run_suite(tmp_path_factory.mktemp("parallel"), *SELECTED, "-n", "2", plugin=SABOTAGE)
    assert run.returncode == sabotaged.returncode, run.output[-3000:]
    assert run.verdicts() == sabotaged.verdicts()
    assert run.results["counts"] == sabotaged.results["counts"]


def test_a_crashed_worker_leaves_an_error_case_beside_the_other_workers_cases(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Under pytest-xdist the controlling process records the crash; the replacement's cases merge in,
    handed over by the worker, not read from files: a file named as an old worker's part is ignored."""
    tmp_path = tmp_path_factory.mktemp("crashed")
    stale = RunResults("sandbox", "", "", "0", "2031-01-01T00:00:00+00:00")
    stale.cases.append(unverified("stale.py::test_of_an_earlier_run", Verdict.SKIPPED, "an earlier run's"))
    stale.write(tmp_path / "results.gw0.json")
    run = run_suite(tmp_path, *SELECTED, "-n", "1", plugin=CRASH_A_WORKER)
    assert run.returncode == 1, run.output[-3000:]
    crashed = _cases(run, "register")
    assert [(case, verdict) for case, verdict, _ in crashed] == [("error (worker crash)", Verdict.ERROR)]
    assert "crashed while running" in crashed[0][2]
    assert all(_cases(run, e) for e in ("add-users", "remove-users", "start", "update", "end"))
    assert run.results["contract_digest"] == load_contract().digest
    assert "stale.py::test_of_an_earlier_run" not in {c["test"] for c in run.results["cases"]}
