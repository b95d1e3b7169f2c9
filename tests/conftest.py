"""The project's own tests draw as a suite run does: deterministic, under the suite's default profile.

The plugin no longer does this for them: it stays inert in any session that does not run the suite
(tests/self/test_plugin_inert.py), and this session runs the self-tests, not the suite.

CI runs them on two xdist workers (`.ci/run` sets PYTEST_ADDOPTS); the hooks below keep that safe.
"""

import shutil
import signal
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any

import pytest
from hypothesis import settings
from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

from conformance.generate.determinism import ignore_local_constants
from conformance.plugin.hypothesis_profiles import register_hypothesis_profiles
from conformance.plugin.options import DEFAULT_HYPOTHESIS_PROFILE

register_hypothesis_profiles()
settings.load_profile(DEFAULT_HYPOTHESIS_PROFILE)
ignore_local_constants()

# What this session's command line and xdist put in the environment, not meant for the interpreters
# the tests start: a suite run there is a session of its own, with its own options and no workers.
SESSION_ONLY = (
    "PYTEST_ADDOPTS",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
)
# Areas whose session-scoped fixtures (a recording and its replays; a reference run and five nights)
# serve several modules: each goes whole to one worker, so that it runs them once.
SHARED_SESSION_FIXTURES = frozenset({"tests/self/cassettes", "tests/self/report"})


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C raises KeyboardInterrupt here and in every process the tests start, as in a terminal: the
    interrupt tests send it. A shell without job control starts a background job (a CI step started
    with `&`) with SIGINT ignored, and every child would inherit that.

    Every interpreter the tests start (suite runs, served sandboxes, CLI calls) shares one bytecode
    cache outside the work tree, made for this session (xdist workers inherit the controller's).

    With PYTHONDONTWRITEBYTECODE set, each of those hundreds of interpreters compiled the package and
    rewrote the asserts of every pytest plugin's modules again: about 3 s of CPU per suite run.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(config, "workerinput"):
        return
    cache = pytest.MonkeyPatch()
    config.add_cleanup(cache.undo)
    directory = tempfile.mkdtemp(prefix="conformance-selftests-pycache-")
    config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
    cache.setenv("PYTHONPYCACHEPREFIX", directory)
    cache.setenv("PYTHONDONTWRITEBYTECODE", "")  # empty is unset, for the interpreters started here


@pytest.fixture(scope="session", autouse=True)
def _fresh_sessions() -> Iterator[None]:
    """Remove SESSION_ONLY from the environment while tests run (xdist workers have parsed it by then)."""
    with pytest.MonkeyPatch.context() as environment:
        for name in SESSION_ONLY:
            environment.delenv(name, raising=False)
        yield


class AreaScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's per-file scheduling, except that a SHARED_SESSION_FIXTURES area is one unit.

    Per file, not per test: a module-scoped fixture of tests/self/mutants and tests/self/suite starts the
    suite runs that the module's selected tests need, reading them from the session's items.
    """

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        """Number the repeats of a node id: Schemathesis gives its items (one per API operation) the
        test function's id under pytest 9, and xdist, which tracks tests by id, ran one of six."""
        seen: Counter[str] = Counter()
        unique = []
        for nodeid in collection:
            seen[nodeid] += 1
            unique.append(nodeid if seen[nodeid] == 1 else f"{nodeid}#{seen[nodeid]}")
        super().add_node_collection(node, unique)

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        area = str(PurePosixPath(path).parent)
        return area if area in SHARED_SESSION_FIXTURES else path


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> AreaScheduling:
    return AreaScheduling(config, log)
