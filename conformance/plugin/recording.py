"""Cassettes in a suite run: which tests record or replay one, where it is kept, what a replayed test
is given back, what a recorded test leaves, and the one message a request with no recording gets.

pytest-recording does the recording and the matching; this module tells it which tests, and adds
what the suite's own replay needs (tags, a live clock's readings, the offers of the recording).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytest_recording.plugin import get_default_cassette_name

from conformance.cassettes.messages import (
    default_cassette_dir,
    rerecord_command,
    unreadable_message,
    unrecorded_message,
)
from conformance.cassettes.recorded import keep_readings, read_recorded_test, write_requestless
from conformance.cassettes.tags import TestTags, tagging_test
from conformance.core.errors import CassetteError
from conformance.targets.replay import RecordingServerClock

if TYPE_CHECKING:
    from conformance.plugin.run import SuiteRun
    from conformance.targets.target import Target
    from conformance.targets.verifier import Verifier


def mark_cassette_tests(run: SuiteRun, suite: list[pytest.Item]) -> None:
    """Record or replay a cassette for every suite test, and block the network when replaying."""
    if not run.cassettes_in_use:
        return
    replays = run.kind.traits.replays
    for item in suite:
        item.add_marker(pytest.mark.vcr)
        if replays:
            item.add_marker(pytest.mark.block_network)


def explain_unrecorded(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """A request with no recorded interaction, or a cassette that cannot be read, fails the test with
    one message: the test, the request, the fix."""
    if call.excinfo is None or not report.failed:
        return
    message = unrecorded_message(call.excinfo.value, item.name)
    if message is None and call.when == "setup":
        message = unreadable_message(call.excinfo.value, cassette_path(item), item.name)
    if message is not None:
        report.longrepr = message


def cassette_path(item: pytest.Item) -> Path:
    """Where pytest-recording keeps this test's cassette (as our `vcr_cassette_dir` places it)."""
    root: Path = item.config.getoption("cassette_dir") or default_cassette_dir()
    name = get_default_cassette_name(getattr(item, "cls", None), item.name)
    return root / item.path.stem / f"{name}.yaml"


def replay(run: SuiteRun, target: Target, request: pytest.FixtureRequest) -> None:
    """Give the replayed test what its cassette recorded; a cassette it cannot use fails the test."""
    path = cassette_path(request.node)
    rerecord = rerecord_command(request.node.name)
    try:
        run.kind.begin_test(target, read_recorded_test(path, rerecord), path=path, rerecord=rerecord)
    except CassetteError as error:
        raise pytest.fail.Exception(str(error), pytrace=False) from None


def recorded_test(verifier: Verifier, request: pytest.FixtureRequest) -> Iterator[Verifier]:
    """Tag what the test records; keep a live clock's readings on its cassette's first request.

    A test that sent no request still leaves a cassette, with its tags only.
    """
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
        write_requestless(cassette_path(request.node), tags)
