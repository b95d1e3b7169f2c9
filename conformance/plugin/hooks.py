"""The pytest plugin: options, fixtures and the results file, in one place.

Registered through the `pytest11` entry point, so `pytest --pyargs conformance.suite` (what
`conformance run` calls) finds it. Settings come from the command line; a test never overrides them.

The entry point loads it in every pytest session of an environment where the suite is installed, so
it stays inert until the session runs the suite (`_runs_suite`): it registers its options and hooks,
and nothing else happens. Hypothesis's plugin keeps the same discipline, for the same reason: someone
else's property tests must not run under our profile.

Its options are listed once, in `conformance.plugin.options` (`conformance run --help` shows them,
each with an example). Hypothesis profiles `conformance-dev`, `conformance-ci` (deterministic; the
default) and `conformance-nightly` are chosen with Hypothesis's own `--hypothesis-profile`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.judging.results import ERROR, RunResults, unverified
from conformance.plugin.options import DEFAULT_HYPOTHESIS_PROFILE, HYPOTHESIS_PROFILES

if TYPE_CHECKING:
    from conformance.contract import Contract
    from conformance.judging.results import CaseResult
    from conformance.profile.target_profile import TargetProfile
    from conformance.targets.arrange import Arranger
    from conformance.targets.kind import TargetKind
    from conformance.targets.syncpool import SyncPool
    from conformance.targets.target import Target
    from conformance.targets.verifier import Verifier

SUITE_PACKAGE = "conformance.suite"
ACTIVE_KEY = pytest.StashKey[bool]()
RESULTS_KEY = pytest.StashKey[RunResults]()
TARGET_KEY = pytest.StashKey["Target"]()
KIND_KEY = pytest.StashKey["TargetKind"]()
PREFLIGHT_KEY = pytest.StashKey[str]()


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
    config.stash[ACTIVE_KEY] = _runs_suite(config)
    if not _active(config):
        return
    from conformance.plugin.interrupts import sigterm_as_ctrl_c

    config.add_cleanup(sigterm_as_ctrl_c())  # SIGTERM stops a run as Ctrl-C does: cleanup, results
    _short_tracebacks(config)
    # Plain pytest outside `conformance run` (which passes the suite's own pytest.ini): no warning
    # per test for pytest's default junit_family.
    config.addinivalue_line("filterwarnings", "ignore:record_property is incompatible:pytest.PytestWarning")
    _refuse_shared_control_in_parallel(config)
    _check_sandbox_readings(config)
    _preflight(config)
    if _kind(config).traits.personal_data and _recording(config):
        from conformance.cassettes.pseudonyms import PSEUDONYM_KEY_VARIABLE

        if not os.environ.get(PSEUDONYM_KEY_VARIABLE):
            raise pytest.UsageError(
                "recording from a live target stores pseudonyms of insider ids and udids: export "
                f"{PSEUDONYM_KEY_VARIABLE} (any secret string; keep it to recognise the pseudonyms later)"
            )
    register_hypothesis_profiles()
    if not config.getoption("hypothesis_profile", None):
        from hypothesis import settings

        settings.load_profile(DEFAULT_HYPOTHESIS_PROFILE)
    if _worker(config) is None:
        config.pluginmanager.register(_CrashedWorkers(config), "conformance-crashed-workers")
        from conformance.plugin.progress import Progress

        config.pluginmanager.register(Progress(config.stash, RESULTS_KEY), "conformance-progress")
    from conformance.generate.determinism import ignore_local_constants

    ignore_local_constants()


def _short_tracebacks(config: pytest.Config) -> None:
    """A broken target yields a few lines per test, not pages: `--tb=short` unless another style is
    asked for. Against a target with personal data, never the long style nor `--showlocals`: they
    print each frame's arguments and locals cut to a length, and a cut insider id is no longer one
    that scrubbing can recognise."""
    personal = _kind(config).traits.personal_data
    if config.option.tbstyle == "auto" or (personal and config.option.tbstyle == "long"):
        config.option.tbstyle = "short"
    if personal:
        config.option.showlocals = False


def _runs_suite(config: pytest.Config) -> bool:
    """Does this session run the conformance suite? It names a `--target`, or collects from the suite's
    package (`--pyargs conformance.suite`, or a path inside it). Decided before collection, since the
    preflight and the Hypothesis profile must be in place before any test is."""
    given = config.invocation_params.args
    if any(arg == "--target" or arg.startswith("--target=") for arg in given):
        return True
    spec = find_spec(SUITE_PACKAGE)
    folders = [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
    for arg in config.args:
        where = arg.split("::")[0]
        if config.option.pyargs and (where == SUITE_PACKAGE or where.startswith(SUITE_PACKAGE + ".")):
            return True
        path = (config.invocation_params.dir / where).resolve()
        if any(path.is_relative_to(folder) for folder in folders):
            return True
    return False


def _active(config: pytest.Config) -> bool:
    return config.stash.get(ACTIVE_KEY, False)


def register_hypothesis_profiles() -> None:
    """The suite's Hypothesis profiles (`conformance.plugin.options.HYPOTHESIS_PROFILES`).

    Strategies are composed from the contract; examples are requests to a target, so no deadline.
    """
    from hypothesis import HealthCheck, settings

    suppressed = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
    dev, ci, nightly = HYPOTHESIS_PROFILES
    settings.register_profile(dev, max_examples=10, deadline=None, suppress_health_check=suppressed)
    settings.register_profile(
        ci,
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=suppressed,
        print_blob=False,
    )
    settings.register_profile(nightly, max_examples=200, deadline=None, suppress_health_check=suppressed)


def _preflight(config: pytest.Config) -> None:
    """Before any test: the profile, the base URL, the target's reach and clock (`conformance check`).

    A failure ends the run with one usage error; what the target does not offer is listed in the
    report header (the tests needing it skip with the reason). Run once, by the controlling process,
    and only when a profile or a remote target was asked for: the bundled sandbox profile is ours.
    """
    kind = _kind(config)
    path = config.getoption("target_profile")
    if path is None and kind.traits.needs_profile:
        name = config.getoption("target")
        raise pytest.UsageError(f"--target {name} needs --target-profile PATH (what the target offers)")
    if _worker(config) is not None or path is None:
        return
    from conformance.contract import load_contract
    from conformance.core.errors import ConformanceError
    from conformance.targets.preflight import preflight

    try:
        config.stash[PREFLIGHT_KEY] = preflight(
            load_contract(config.getoption("contracts")),
            path,
            target_kind=config.getoption("target"),
            base_url=config.getoption("base_url"),
            allow_rate_limit_probe=bool(config.getoption("allow_rate_limit_probe")),
        ).render()
    except ConformanceError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    """What the preflight found: the target's clock and round trip, and what the run will skip."""
    rendered = config.stash.get(PREFLIGHT_KEY, None)
    return rendered.splitlines() if rendered else []


def _check_sandbox_readings(config: pytest.Config) -> None:
    """A bad --sandbox-reading ends the run before any test, with one message naming the choices."""
    chosen = config.getoption("sandbox_reading")
    if not chosen:
        return
    from conformance.contract import load_contract
    from conformance.core.errors import ConformanceError
    from conformance.sandbox.readings import resolve_readings
    from conformance.sandbox.serve import reading_choices

    try:
        resolve_readings(load_contract(config.getoption("contracts")).behaviour, reading_choices(chosen))
    except (ConformanceError, ValueError) as error:
        raise pytest.UsageError(f"--sandbox-reading: {error}") from None


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """pytest-recording's hook: our matcher (JSON body) for every cassette of a suite run."""
    if not _active(config):
        return
    from conformance.cassettes.vcr import json_body

    vcr.register_matcher("json_body", json_body)


def _kind(config: pytest.Config) -> TargetKind:
    """The kind of target the run asked for (a fresh instance; the target fixture keeps its own)."""
    from conformance.targets.kinds import kind_named

    return kind_named(config.getoption("target"))


def _recording(config: pytest.Config) -> bool:
    return (config.getoption("record_mode", None) or "none") != "none"


def _cassettes_in_use(config: pytest.Config) -> bool:
    return _recording(config) or _kind(config).traits.replays


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Seed derandomized suite tests by name; record or replay a cassette for every suite test, and
    block the network when replaying."""
    if not _active(config):
        return
    from hypothesis import settings

    suite = [item for item in items if "verifier" in getattr(item, "fixturenames", ())]
    if settings().derandomize:
        from conformance.generate.determinism import seed_from_name

        for test in {getattr(item, "obj", None) for item in suite}:
            if getattr(test, "is_hypothesis_test", False):
                seed_from_name(test)
    if not _cassettes_in_use(config):
        return
    replays = _kind(config).traits.replays
    for item in suite:
        item.add_marker(pytest.mark.vcr)
        if replays:
            item.add_marker(pytest.mark.block_network)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A request with no recorded interaction fails with one message: the test, the request, the fix.

    And every phase of a suite test that fails or skips reaches the results file (`_record_outcome`).
    """
    report: pytest.TestReport = yield
    if not _active(item.config):
        return report
    if call.excinfo is not None and report.failed and _cassettes_in_use(item.config):
        from conformance.cassettes.messages import unreadable_message, unrecorded_message

        message = unrecorded_message(call.excinfo.value, item.name)
        if message is None and call.when == "setup":
            message = unreadable_message(call.excinfo.value, _cassette_path(item), item.name)
        if message is not None:
            report.longrepr = message
    target = item.config.stash.get(TARGET_KEY, None)
    if target is not None:
        _stop_on_hostile_target(item, call, report, target)
        from conformance.plugin.outcome_text import scrub_report, violation_only

        if item.config.option.tbstyle == "short":
            violation_only(report, call.excinfo)
        scrub_report(report, target.scrub)
    if "conformance_target" in getattr(item, "fixturenames", ()):
        _record_outcome(item.config, _test_id(item), report, report.when)
    return report


def _stop_on_hostile_target(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, target: Target
) -> None:
    """A target that stopped answering, or whose clock jumped, stops the run after this test: one
    message, in the summary and the results (`interrupted`, with the reason), instead of a timeout
    per remaining request or verdicts on a time the suite no longer knows."""
    from conformance.targets.api_client import TargetStopped
    from conformance.targets.target import ClockJumped

    reason = target.client.stopped or target.clock_jump
    if reason is None:
        return
    if call.excinfo is not None and call.excinfo.errisinstance((TargetStopped, ClockJumped)):
        report.longrepr = reason
    item.session.shouldstop = reason
    results = _run_results(item.config)
    results.interrupted, results.interrupted_reason = True, reason


def _record_outcome(config: pytest.Config, test: str, report: pytest.TestReport, phase: str) -> None:
    """A failed or skipped phase of `test` becomes a case, unless the test recorded one itself.

    A failure becomes an `error` (the suite reached no verdict: a crash, a fixture error, the test's
    own assertion or `pytest.fail`) unless the test has a `failed` case (`verify` recorded the
    ContractViolation) or an `error` one (`verify` recorded why it could reach none). A skip becomes
    `skipped` unless `Verifier.skip` recorded it. The reason is pytest's one-line summary of the
    outcome, scrubbed through the target's `scrub` once there is one.
    """
    if report.failed:
        verdict, own, case = ERROR, "failed", f"error ({phase})"
    elif report.skipped:
        verdict = own = case = "skipped"
    else:
        return
    results = _run_results(config)
    if any(c.test == test and c.verdict in (own, verdict) for c in results.cases):
        return
    target = config.stash.get(TARGET_KEY, None)
    reason = _summary(report)
    results.cases.append(unverified(test, verdict, target.scrub(reason) if target else reason, case=case))


def _summary(report: pytest.TestReport) -> str:
    """The line pytest's short summary shows: the exception (`Failed: ...`, `KeyError: 'x'`) or the skip."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, "Skipped: reason")
        text = longrepr[2].removeprefix("Skipped: ")
    else:
        crash = getattr(longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(longrepr)
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class _CrashedWorkers:
    """In the process that runs pytest-xdist's workers: a test whose worker died gets an `error` case."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(optionalhook=True, trylast=True)  # after a plugin that would rather rerun it
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport) -> None:
        test = _test_id_of(crashitem, crashitem.rpartition("::")[2])
        _record_outcome(self.config, test, report, "worker crash")


def _cassette_path(item: pytest.Item) -> Path:
    """Where pytest-recording keeps this test's cassette (as our `vcr_cassette_dir` places it)."""
    from pytest_recording.plugin import get_default_cassette_name

    from conformance.cassettes.messages import default_cassette_dir

    root: Path = item.config.getoption("cassette_dir") or default_cassette_dir()
    name = get_default_cassette_name(getattr(item, "cls", None), item.name)
    return root / item.path.stem / f"{name}.yaml"


def _refuse_shared_control_in_parallel(config: pytest.Config) -> None:
    """Parallel workers (-n) would see each other's injected faults, lowered limits and rate probes."""
    if (
        getattr(config.option, "numprocesses", None) in (None, 0, 1)
        or not _kind(config).traits.shared_between_workers
    ):
        return
    from conformance.contract import load_contract
    from conformance.profile.target_profile import load_profile

    path = config.getoption("target_profile")
    profile = load_profile(path, load_contract(config.getoption("contracts"))) if path else None
    if config.getoption("allow_rate_limit_probe") or (profile is not None and profile.control_token()):
        raise pytest.UsageError(
            "parallel workers (-n) would see each other's injected faults, lowered rate limits and rate "
            "probes: run a target whose control API is enabled, or --allow-rate-limit-probe, without -n"
        )


def _worker(config: pytest.Config) -> tuple[str, int] | None:
    """(worker id, worker count) inside a pytest-xdist worker; None in a plain or controlling process."""
    workerinput = getattr(config, "workerinput", None)
    return (workerinput["workerid"], int(workerinput["workercount"])) if workerinput else None


def _part(path: Path, worker: str) -> Path:
    return path.with_name(f"{path.stem}.{worker}{path.suffix}")


@pytest.hookimpl(trylast=True)  # after pytest's own, which tears the target fixture down on Ctrl-C or -x
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the results file (also on Ctrl-C), after the target fixture has cleaned up.

    Under pytest-xdist each worker writes its part and the controlling process merges them.
    """
    from conformance.judging.coverage import coverage_json
    from conformance.judging.results import merge, read_results

    config = session.config
    if not _active(config):
        return
    path: Path = config.getoption("results")
    worker = _worker(config)
    results = config.stash.get(RESULTS_KEY, None)
    if results is not None:
        results.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    if worker is not None:
        if results is not None and results.cases:
            results.write(_part(path, worker[0]))
        return
    parts = sorted(path.parent.glob(f"{path.stem}.gw*{path.suffix}"))
    if parts:  # and the controlling process's own cases: tests whose worker crashed
        own = [results] if results is not None and results.cases else []
        results = merge([*(read_results(p) for p in parts), *own])
        for part in parts:
            part.unlink()
        config.stash[RESULTS_KEY] = results  # the merged run, for the summary (conformance.plugin.progress)
    if results is None or not results.cases:
        return
    results.interrupted |= session.exitstatus == pytest.ExitCode.INTERRUPTED  # workers may not know it
    from conformance.judging.earned import unearned

    results.unearned = unearned(results.cases)
    results.write(path, coverage_json(results))
    if results.unearned and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a pass is earned: verifying nothing is none
    counts = results.counts()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        summary = ", ".join(f"{n} {v}" for v, n in counts.items())
        from conformance.plugin.progress import end_line

        end_line(reporter)  # after pytest's progress dots
        reporter.write_line(f"conformance results: {summary} -> {path}")


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> Contract:
    """The loaded contract (validated; a malformed one stops the run with one message)."""
    from conformance.contract import load_contract
    from conformance.core.errors import ConformanceError

    try:
        return load_contract(pytestconfig.getoption("contracts"))
    except ConformanceError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.fixture(scope="session")
def target_profile(pytestconfig: pytest.Config, contract: Contract) -> TargetProfile:
    """The target profile: what the target offers the suite."""
    from conformance.core.errors import ConformanceError
    from conformance.profile.target_profile import load_profile, sandbox_profile_path

    path = pytestconfig.getoption("target_profile")
    try:
        return load_profile(path or sandbox_profile_path(contract), contract)
    except ConformanceError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.fixture(scope="session")
def conformance_target(
    pytestconfig: pytest.Config, contract: Contract, target_profile: TargetProfile
) -> Iterator[Target]:
    """The target under test, built once per run; cleaned up at the end, also after Ctrl-C."""
    from conformance.cassettes.pseudonyms import PSEUDONYM_KEY_VARIABLE
    from conformance.contract.rules import contract_items
    from conformance.sandbox.serve import reading_choices
    from conformance.targets.kind import RunOptions

    results = _run_results(pytestconfig)
    results.base_url = pytestconfig.getoption("base_url") or target_profile.base_url
    results.contract_digest = contract.digest
    results.expectations = list(contract_items(contract))

    def record(result: CaseResult) -> None:
        results.cases.append(result)

    options = RunOptions(
        base_url=pytestconfig.getoption("base_url"),
        allow_rate_limit_probe=bool(pytestconfig.getoption("allow_rate_limit_probe")),
        workers=(_worker(pytestconfig) or ("", 1))[1],
        recording=_recording(pytestconfig),
        pseudonym_key=os.environ.get(PSEUDONYM_KEY_VARIABLE) or None,
        # pytest_configure has checked --sandbox-reading (a bad one ends the run before any test).
        sandbox_readings=reading_choices(pytestconfig.getoption("sandbox_reading") or ()),
        sandbox_hook=pytestconfig.pluginmanager.hook.pytest_conformance_sandbox,
    )
    kind = pytestconfig.stash[KIND_KEY] = _kind(pytestconfig)  # `_replay` asks it for each test
    with kind.open(contract, target_profile, record, options) as target:
        pytestconfig.stash[TARGET_KEY] = target
        try:
            yield target
        finally:
            try:
                target.clean_up()
            except KeyboardInterrupt:  # a second Ctrl-C: stop cleaning; the summary lists what is left
                results.interrupted = True
            results.leftovers = target.leftovers()


def _run_results(config: pytest.Config) -> RunResults:
    """This run's results, begun by the target, or by a test that errored before there was one (a
    profile that would not load, say); the target fills in the base URL and contract digest."""
    results = config.stash.get(RESULTS_KEY, None)
    if results is None:
        results = RunResults(
            target=config.getoption("target"),
            base_url=config.getoption("base_url") or "",
            contract_digest="",
            suite_version=_suite_version(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            hypothesis_profile=config.getoption("hypothesis_profile", None) or DEFAULT_HYPOTHESIS_PROFILE,
        )
        config.stash[RESULTS_KEY] = results
    return results


@pytest.fixture(scope="session")
def conformance_results(conformance_target: Target, pytestconfig: pytest.Config) -> RunResults:
    """The results this run writes: where a test records what is not a case (`record_edge`)."""
    del conformance_target  # requested so that the results exist
    return pytestconfig.stash[RESULTS_KEY]


@pytest.fixture
def verifier(
    conformance_target: Target,
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> Iterator[Verifier]:
    """The per-test handle: `verify(Request(...), case=...)`, and skips with reasons.

    With cassettes, it tags what the test records and keeps a live clock's readings; in replay, it
    gives the test the clock its recording read and what its target offered.
    """
    from conformance.targets.verifier import Verifier

    handle = Verifier(target=conformance_target, test=_test_id(request.node), record_property=record_property)
    if not _cassettes_in_use(request.config):
        yield handle
    elif conformance_target.kind.replays:
        _replay(conformance_target, request)
        yield handle
    else:
        yield from _recorded_test(handle, request)


@pytest.fixture(scope="session")
def conformance_sync_pool(conformance_target: Target, request: pytest.FixtureRequest) -> SyncPool | None:
    """This worker's activities started ahead, so that sync waits overlap: only on a live run that does
    not record (a cassette holds a test's own requests in order; a virtual clock costs no wall time),
    and only when asked for (`--sync-pool`). Planned from the collected tests' `synced` markers."""
    from conformance.targets.syncpool import SyncPool

    off = not request.config.getoption("sync_pool") or _cassettes_in_use(request.config)
    if off or conformance_target.clock_is_virtual:
        return None
    pool = SyncPool(conformance_target)
    pool.plan(request.session.items)
    return pool


@pytest.fixture
def arrange(
    verifier: Verifier, conformance_sync_pool: SyncPool | None, request: pytest.FixtureRequest
) -> Iterator[Arranger]:
    """What sets a test up: activities in the states it needs, and injected faults."""
    from conformance.targets.arrange import Arranger

    yield Arranger(verifier, pool=conformance_sync_pool)
    if conformance_sync_pool is not None:
        conformance_sync_pool.done(request.node)


def _test_id(item: pytest.Item) -> str:
    """The test's name in results: its node id from the module file on, whatever pytest's rootdir (which
    moves with the paths on the command line), so that drift pairs the cases of any two runs; and with
    the item's own name, since schemathesis gives all its operations one node id."""
    return _test_id_of(item.nodeid, item.name)


def _test_id_of(nodeid: str, name: str) -> str:
    *scope, _ = nodeid.split("::")
    return "::".join((Path(scope[0]).name, *scope[1:], name))


def _replay(target: Target, request: pytest.FixtureRequest) -> None:
    """Give the replayed test what its cassette recorded; a cassette it cannot use fails the test."""
    from conformance.cassettes.messages import rerecord_command
    from conformance.cassettes.recorded import read_recorded_test
    from conformance.core.errors import CassetteError

    path = _cassette_path(request.node)
    rerecord = rerecord_command(request.node.name)
    try:
        kind = request.config.stash[KIND_KEY]
        kind.begin_test(target, read_recorded_test(path, rerecord), path=path, rerecord=rerecord)
    except CassetteError as error:
        raise pytest.fail.Exception(str(error), pytrace=False) from None


def _recorded_test(verifier: Verifier, request: pytest.FixtureRequest) -> Iterator[Verifier]:
    """Tag what the test records; keep a live clock's readings on its cassette's first request.

    A test that sent no request still leaves a cassette, with its tags only.
    """
    from conformance.cassettes.recorded import keep_readings, write_requestless
    from conformance.cassettes.tags import TestTags, tagging_test
    from conformance.targets.replay import RecordingServerClock

    target = verifier.target
    cassette = request.getfixturevalue("vcr")
    start = target.when().earliest.isoformat()
    tags = TestTags(target.name, start, target.offers(), target.pseudonym_key)
    with tagging_test(tags):
        if isinstance(target.clock, RecordingServerClock):
            with target.clock.keeping() as readings:
                yield verifier
            keep_readings(cassette, readings)
        else:
            yield verifier
    if not len(cassette):
        write_requestless(_cassette_path(request.node), tags)


def _suite_version() -> str:
    try:
        return version("insider-la-conformance")
    except PackageNotFoundError:
        return "unknown"
