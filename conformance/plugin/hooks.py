"""The pytest plugin: its hooks and fixtures, all in this module.

Registered through the `pytest11` entry point, so `pytest --pyargs conformance.suite` (what
`conformance run` calls) finds it. Settings come from the command line; a test never overrides them.

The entry point loads it in every pytest session of an environment where the suite is installed, so
it stays inert until the session runs the suite (`run.runs_suite`): it registers its options and
hooks, and nothing else happens. Hypothesis's plugin keeps the same discipline, for the same reason:
someone else's property tests must not run under our profile.

The work is done by a module per role: `run` (what the session knows), `startup` (checks before any
test), `collect` (outcomes and the results file), `workers` (pytest-xdist's workers' results),
`recording` (cassettes), `hypothesis_profiles`. Its options are listed once, in `conformance.plugin.options`
(`conformance run --help` shows them, each with an example). Hypothesis profiles `conformance-dev`,
`conformance-ci` (deterministic; the default) and `conformance-nightly` are chosen with Hypothesis's
own `--hypothesis-profile`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from conformance.plugin.options import DEFAULT_HYPOTHESIS_PROFILE
from conformance.plugin.run import RUN_KEY, SuiteRun, runs_suite, suite_run

if TYPE_CHECKING:
    from conformance.contract import Contract
    from conformance.judging.results import CaseResult, RunResults
    from conformance.plugin.workers import Workers
    from conformance.profile.target_profile import TargetProfile
    from conformance.targets.arrange import Arranger
    from conformance.targets.syncpool import SyncPool
    from conformance.targets.target import Target
    from conformance.targets.verifier import Verifier

WORKERS_PLUGIN = "conformance-workers"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from conformance.plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    from conformance.plugin.options import GROUP, OPTIONS

    group = parser.getgroup(*GROUP)
    for option in OPTIONS:  # written once, in suite_options: `conformance run --help` lists them too
        group.addoption(*option.flags, help=option.help, **option.settings)


@pytest.hookimpl(tryfirst=True)  # our profiles exist before Hypothesis's plugin loads one it is given
def pytest_configure(config: pytest.Config) -> None:
    if not runs_suite(config):
        return
    run = config.stash[RUN_KEY] = SuiteRun(config)
    from hypothesis import settings

    from conformance.plugin import startup
    from conformance.plugin.hypothesis_profiles import register_hypothesis_profiles
    from conformance.plugin.interrupts import sigterm_as_ctrl_c

    config.add_cleanup(sigterm_as_ctrl_c())  # SIGTERM stops a run as Ctrl-C does: cleanup, results
    startup.short_tracebacks(run)
    # Plain pytest outside `conformance run` (which passes the suite's own pytest.ini): no warning
    # per test for pytest's default junit_family.
    config.addinivalue_line("filterwarnings", "ignore:record_property is incompatible:pytest.PytestWarning")
    startup.refuse_shared_control_in_parallel(run)
    startup.check_sandbox_readings(run)
    startup.preflight(run)
    startup.require_pseudonym_key(run)
    register_hypothesis_profiles()
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile(DEFAULT_HYPOTHESIS_PROFILE)
    if run.worker is None:
        from conformance.plugin.progress import Progress
        from conformance.plugin.workers import Workers

        config.pluginmanager.register(Workers(run), WORKERS_PLUGIN)
        config.pluginmanager.register(Progress(lambda: run.results), "conformance-progress")
    from conformance.generate.determinism import ignore_local_constants

    ignore_local_constants()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """What the preflight found: the target's clock and round trip, and what the run will skip."""
    run = suite_run(config)
    return run.preflight.splitlines() if run is not None else []


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """pytest-recording's hook: our matcher (JSON body) for every cassette of a suite run."""
    if suite_run(config) is None:
        return
    from conformance.cassettes.vcr import json_body

    vcr.register_matcher("json_body", json_body)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Seed derandomized suite tests by name; record or replay a cassette for every suite test, and
    block the network when replaying."""
    run = suite_run(config)
    if run is None:
        return
    from hypothesis import settings

    from conformance.plugin.recording import mark_cassette_tests

    suite = [item for item in items if "verifier" in getattr(item, "fixturenames", ())]
    if settings().derandomize:
        from conformance.generate.determinism import seed_from_name

        for test in {getattr(item, "obj", None) for item in suite}:
            if getattr(test, "is_hypothesis_test", False):
                seed_from_name(test)
    mark_cassette_tests(run, suite)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A request with no recorded interaction fails with one message: the test, the request, the fix.

    And every phase of a suite test that fails or skips reaches the results file (`record_outcome`).
    """
    report: pytest.TestReport = yield
    run = suite_run(item.config)
    if run is None:
        return report
    from conformance.plugin.collect import record_outcome, result_id, stop_on_hostile_target

    if run.cassettes_in_use:
        from conformance.plugin.recording import explain_unrecorded

        explain_unrecorded(item, call, report)
    target = run.target
    if target is not None:
        stop_on_hostile_target(run, item, call, report, target)
        from conformance.plugin.outcome_text import scrub_report, violation_only

        if item.config.option.tbstyle == "short":
            violation_only(report, call.excinfo)
        scrub_report(report, target.scrub)
    if "conformance_target" in getattr(item, "fixturenames", ()):
        record_outcome(run, result_id(item), report, report.when)
    return report


@pytest.hookimpl(trylast=True)  # after pytest's own, which tears the target fixture down on Ctrl-C or -x
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the results file (also on Ctrl-C), after the target fixture has cleaned up.

    Under pytest-xdist each worker hands its results to the controlling process, which writes them
    (after pytest-xdist's own hook has waited for the workers to end).
    """
    run = suite_run(session.config)
    if run is None:
        return
    from conformance.plugin.collect import finish
    from conformance.plugin.interrupts import held_while

    if run.results is not None:
        run.results.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    if run.worker is not None:
        from conformance.plugin.workers import hand_over

        hand_over(session.config, run.results)
        return
    workers: Workers | None = session.config.pluginmanager.get_plugin(WORKERS_PLUGIN)
    with held_while("the results were written"):
        finish(run, session, workers.results() if workers is not None else [])


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> Contract:
    """The loaded contract (validated; a malformed one stops the run with one message)."""
    return _run(pytestconfig).contract()


@pytest.fixture(scope="session")
def target_profile(pytestconfig: pytest.Config, contract: Contract) -> TargetProfile:
    """The target profile: what the target offers the suite."""
    del contract  # requested so that a broken contract is the fixture error, before the profile
    return _run(pytestconfig).profile()


@pytest.fixture(scope="session")
def conformance_target(
    pytestconfig: pytest.Config, contract: Contract, target_profile: TargetProfile
) -> Iterator[Target]:
    """The target under test, built once per run; cleaned up at the end, also after Ctrl-C."""
    from conformance.cassettes.pseudonyms import PSEUDONYM_KEY_VARIABLE
    from conformance.contract.rules import contract_items
    from conformance.sandbox.serve import reading_choices
    from conformance.targets.kind import RunOptions

    run = _run(pytestconfig)
    results = run.begin_results()
    results.base_url = pytestconfig.getoption("base_url") or target_profile.base_url
    results.contract_digest = contract.digest
    results.expectations = list(contract_items(contract))

    def record(result: CaseResult) -> None:
        results.cases.append(result)

    options = RunOptions(
        base_url=pytestconfig.getoption("base_url"),
        allow_rate_limit_probe=bool(pytestconfig.getoption("allow_rate_limit_probe")),
        workers=(run.worker or ("", 1))[1],
        recording=run.recording,
        pseudonym_key=os.environ.get(PSEUDONYM_KEY_VARIABLE) or None,
        # pytest_configure has checked --sandbox-reading (a bad one ends the run before any test).
        sandbox_readings=reading_choices(pytestconfig.getoption("sandbox_reading") or ()),
        sandbox_hook=pytestconfig.pluginmanager.hook.pytest_conformance_sandbox,
    )
    with run.kind.open(contract, target_profile, record, options) as target:
        run.target = target
        try:
            yield target
        finally:
            try:
                target.clean_up()
            except KeyboardInterrupt:  # a second Ctrl-C: stop cleaning; the summary lists what is left
                results.interrupted = True
            results.leftovers = target.leftovers()


@pytest.fixture(scope="session")
def conformance_results(conformance_target: Target, pytestconfig: pytest.Config) -> RunResults:
    """The results this run writes: where a test records what is not a case (`record_edge`)."""
    del conformance_target  # requested so that the results exist
    return _run(pytestconfig).begin_results()


@pytest.fixture
def verifier(
    conformance_target: Target,
    conformance_sync_pool: SyncPool | None,
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> Iterator[Verifier]:
    """The per-test handle: `verify(Request(...), case=...)`, and skips with reasons.

    With cassettes, it tags what the test records and keeps a live clock's readings; in replay, it
    gives the test the clock its recording read and what its target offered. With a sync pool, each
    test tells it when it has finished, and the test after the first one starts it.
    """
    from conformance.plugin.collect import result_id
    from conformance.plugin.recording import recorded_test, replay
    from conformance.targets.verifier import Verifier

    run = _run(request.config)
    handle = Verifier(
        target=conformance_target, test=result_id(request.node), record_property=record_property
    )
    if conformance_sync_pool is not None:
        conformance_sync_pool.warm()
    if not run.cassettes_in_use:
        yield handle
    elif conformance_target.kind.replays:
        replay(run, conformance_target, request)
        yield handle
    else:
        yield from recorded_test(handle, request)
    if conformance_sync_pool is not None:
        conformance_sync_pool.done(request.node)


@pytest.fixture(scope="session")
def conformance_sync_pool(conformance_target: Target, request: pytest.FixtureRequest) -> SyncPool | None:
    """This worker's activities started ahead, so that sync waits overlap: only on a live run that does
    not record (a cassette holds a test's own requests in order; a virtual clock costs no wall time),
    unless `--no-sync-pool`. Planned from the collected tests' `synced` markers."""
    from conformance.targets.syncpool import SyncPool

    run = _run(request.config)
    off = not request.config.getoption("sync_pool") or run.cassettes_in_use
    if off or conformance_target.clock_is_virtual:
        return None
    pool = SyncPool(conformance_target, workers=run.worker[1] if run.worker else 1)
    pool.plan(request.session.items)
    return pool


@pytest.fixture
def arrange(verifier: Verifier, conformance_sync_pool: SyncPool | None) -> Arranger:
    """What sets a test up: activities in the states it needs, and injected faults."""
    from conformance.targets.arrange import Arranger

    return Arranger(verifier, pool=conformance_sync_pool)


def _run(config: pytest.Config) -> SuiteRun:
    """The suite run the fixtures serve: the suite's fixtures are only asked for in one."""
    run = suite_run(config)
    if run is None:
        raise pytest.UsageError("the conformance fixtures serve a suite run only: pass --target NAME")
    return run
