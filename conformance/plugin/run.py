"""What one suite session knows: its target kind, the contract and profile (each loaded once), the
target once opened, what the preflight found, and the results collected so far.

It lives in the config's stash, and only in a session that runs the suite (`runs_suite`): a session
without it is someone else's, where every hook of the plugin returns at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.judging.results import RunResults
from conformance.plugin.options import DEFAULT_HYPOTHESIS_PROFILE

if TYPE_CHECKING:
    from conformance.contract import Contract
    from conformance.profile.target_profile import TargetProfile
    from conformance.targets.kind import TargetKind
    from conformance.targets.target import Target

RUN_KEY = pytest.StashKey["SuiteRun"]()
SUITE_PACKAGE = "conformance.suite"


@contextmanager
def stops_the_run(prefix: str = "", *also: type[Exception]) -> Iterator[None]:
    """Bad input (a contract, a profile, an option's value) ends the run with one usage error: the
    message the error carries, which names the thing, the place and the fix; never a traceback."""
    from conformance.core.errors import ConformanceError

    caught: tuple[type[Exception], ...] = (ConformanceError, *also)
    try:
        yield
    except caught as error:
        raise pytest.UsageError(f"{prefix}{error}") from None


class SuiteRun:
    """The state of one suite session (or of one pytest-xdist worker's part of it)."""

    def __init__(self, config: pytest.Config) -> None:
        from conformance.targets.kinds import kind_named

        self.config = config
        self.kind: TargetKind = kind_named(config.getoption("target"))
        self.target: Target | None = None  # set while the target fixture has it open
        self.preflight = ""  # what the preflight found, for the report header
        # Begun by the target, or by a test that errored before there was one (`begin_results`).
        self.results: RunResults | None = None
        self._contract: Contract | None = None
        self._profile: TargetProfile | None = None

    @property
    def worker(self) -> tuple[str, int] | None:
        """(worker id, worker count) inside a pytest-xdist worker; None in a plain or controlling process."""
        workerinput = getattr(self.config, "workerinput", None)
        return (workerinput["workerid"], int(workerinput["workercount"])) if workerinput else None

    @property
    def recording(self) -> bool:
        return (self.config.getoption("record_mode", None) or "none") != "none"

    @property
    def cassettes_in_use(self) -> bool:
        return self.recording or self.kind.traits.replays

    def contract(self) -> Contract:
        """The contract `--contracts` names, validated; a malformed one stops the run with one message."""
        if self._contract is None:
            from conformance.contract import load_contract

            with stops_the_run():
                self._contract = load_contract(self.config.getoption("contracts"))
        return self._contract

    def profile(self) -> TargetProfile:
        """The target profile: `--target-profile`, else the bundled sandbox's."""
        if self._profile is None:
            from conformance.profile.target_profile import load_profile, sandbox_profile_path

            contract = self.contract()
            path = self.config.getoption("target_profile")
            with stops_the_run():
                self._profile = load_profile(path or sandbox_profile_path(contract), contract)
        return self._profile

    def begin_results(self) -> RunResults:
        """This run's results; the target fills in the base URL and the contract's digest."""
        if self.results is None:
            self.results = RunResults(
                target=self.config.getoption("target"),
                base_url=self.config.getoption("base_url") or "",
                contract_digest="",
                suite_version=_suite_version(),
                started_at=datetime.now(UTC).isoformat(timespec="seconds"),
                hypothesis_profile=self.config.getoption("hypothesis_profile", None)
                or DEFAULT_HYPOTHESIS_PROFILE,
            )
        return self.results

    @property
    def results_path(self) -> Path:
        path: Path = self.config.getoption("results")
        return path


def runs_suite(config: pytest.Config) -> bool:
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


def suite_run(config: pytest.Config) -> SuiteRun | None:
    """This session's suite run; None in a session that does not run the suite."""
    return config.stash.get(RUN_KEY, None)


def _suite_version() -> str:
    try:
        return version("insider-la-conformance")
    except PackageNotFoundError:
        return "unknown"
