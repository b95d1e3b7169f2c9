"""Helpers for the cassette self-tests: a probe plugin for suite runs, reading cassettes, damaging copies."""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pytest_recording.plugin import get_default_cassette_name

from conformance.cassettes.tags import (
    CASE_HEADER,
    FORMAT_HEADER,
    OFFERS_HEADER,
    ROWS_HEADER,
    START_HEADER,
    TARGET_HEADER,
)
from tests.self.suite.suite_runner import SuiteRun, run_suite

# A Hypothesis test, the lifecycle state machine, a replayed dropped answer, a parametrized test, a
# test that sends outside `verify` (the backoff retries), and schemathesis' generated requests.
HYPOTHESIS_TEST = "test_ends_at_anywhere"
LIFECYCLE_TEST = "test_lifecycle_sequences"
LOST_RESPONSE_TEST = "test_lost_response_then_retry_follows_the_warning"
BACKOFF_TEST = "test_rate_limit_clears_with_backoff"
NAMED_EDGE_TEST = "test_ends_at_named_edge"
SCHEMATHESIS_TEST = "test_generated_request_gets_a_documented_answer"
MODULES = {
    HYPOTHESIS_TEST: "test_boundaries",
    LIFECYCLE_TEST: "test_lifecycle",
    LOST_RESPONSE_TEST: "test_retry_rules",
    BACKOFF_TEST: "test_retry_rules",
    NAMED_EDGE_TEST: "test_boundaries",
    SCHEMATHESIS_TEST: "test_schemathesis",
}
SUBSET = tuple(MODULES)
SELECT = " or ".join(SUBSET)
PROBE_FILE = "cassette-probe.json"
# With PYTHONDONTWRITEBYTECODE set, every suite run would rewrite the asserts of ~390 plugin modules
# again (3 s each run). Verdicts, cassettes and the plugin's messages do not depend on it.
FAST = ("--assert=plain",)

# Loaded into a suite run with `run_suite(..., plugin=PROBE)`. It writes, at the session's end, the
# target clock when each test's call began, and how each cassette was used: which recorded
# interaction every replayed request was answered from, and every request no interaction matched.
# PROBE_REVERSE=1 runs the tests in reverse order; PROBE_PIN_SHIFT=<s> pins the clock <s> seconds off.
PROBE = """
import json
import os
from datetime import timedelta

import pytest

_tests = {}
_plays = {}
_unmatched = []


def pytest_configure(config):
    from vcr.cassette import Cassette

    can_play, play = Cassette.can_play_response_for, Cassette.play_response

    def spy_can_play(self, request):
        answer = can_play(self, request)
        if self.write_protected and not answer:
            _unmatched.append({"cassette": str(self._path), "path": request.path, "body": str(request.body)})
        return answer

    def spy_play(self, request):
        before = dict(self.play_counts)
        response = play(self, request)
        index = next(i for i, n in self.play_counts.items() if n != before.get(i, 0))
        _plays.setdefault(str(self._path), []).append(index)
        return response

    Cassette.can_play_response_for = spy_can_play
    Cassette.play_response = spy_play
    shift = float(os.environ.get("PROBE_PIN_SHIFT", "0"))
    if shift:
        from conformance.core.clock import VirtualClock

        pin = VirtualClock.pin
        VirtualClock.pin = lambda self, moment: pin(self, moment + timedelta(seconds=shift))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    if os.environ.get("PROBE_REVERSE"):
        items.reverse()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    verifier = item.funcargs.get("verifier")
    cassette = item.funcargs.get("vcr")
    entry = {"start": verifier.target.when().earliest.isoformat() if verifier is not None else None}
    _tests[verifier.test if verifier is not None else item.nodeid] = entry
    try:
        return (yield)
    finally:
        if cassette is not None:
            entry.update(
                cassette=str(cassette._path),
                length=len(cassette),
                play_count=cassette.play_count,
                all_played=cassette.all_played,
            )


def pytest_sessionfinish(session):
    probe = {"tests": _tests, "plays": _plays, "unmatched": _unmatched}
    with open("cassette-probe.json", "w", encoding="utf-8") as out:
        json.dump(probe, out)
"""


@dataclass(frozen=True)
class Recorded:
    """A suite run with the cassettes it wrote or read, and what the probe plugin saw."""

    run: SuiteRun
    cassettes: Path
    probe: dict[str, Any]


def record(tmp: Path, *args: str, env: dict[str, str] | None = None) -> Recorded:
    """Record cassettes into `tmp/cassettes` with the probe plugin (`args` select tests or add options)."""
    cassettes = tmp / "cassettes"
    options = ("--record-mode=rewrite", "--cassette-dir", str(cassettes), *FAST)
    return Recorded(run_suite(tmp, *options, *args, plugin=PROBE, env=env), cassettes, probe(tmp))


def replay(tmp: Path, cassettes: Path, *args: str, env: dict[str, str] | None = None) -> Recorded:
    """Replay `cassettes` with the probe plugin (`args` select tests or add options)."""
    options = ("--target", "cassettes", "--cassette-dir", str(cassettes), *FAST)
    return Recorded(run_suite(tmp, *options, *args, plugin=PROBE, env=env), cassettes, probe(tmp))


_SECTION = re.compile(r"(?m)^_{3,} (?:ERROR at setup of )?(?P<name>.+?) _{3,}$")


def probe(tmp: Path) -> dict[str, Any]:
    """What the PROBE plugin wrote in a run whose working directory was `tmp` (empty if it did not run)."""
    path = tmp / PROBE_FILE
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return data


def outcomes(run: SuiteRun) -> list[tuple[str, ...]]:
    """Every recorded case in order: test, case, endpoint, verdict, rows, matched rule, observed answer."""
    return [
        (
            c["test"],
            c["case"],
            c["endpoint"],
            c["verdict"],
            ",".join(c["rows"]),
            str(c["matched"]),
            json.dumps(c["observed"], sort_keys=True),
        )
        for c in run.results.get("cases", [])
    ]


def outcomes_by_test(run: SuiteRun) -> dict[str, list[tuple[str, ...]]]:
    grouped: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for outcome in outcomes(run):
        grouped[outcome[0]].append(outcome)
    return dict(grouped)


def cassette_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.yaml"))


def cassette_of(directory: Path, test: str) -> Path:
    """Where pytest-recording keeps the cassette of a suite node id or of a test of the subset, by name."""
    module, _, name = test.rpartition("::")
    folder = Path(module).stem if module else MODULES[name.split("[", 1)[0]]
    return directory / folder / f"{get_default_cassette_name(None, name)}.yaml"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def save(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def interactions(path: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = load(path)["interactions"]
    return found


def tag(interaction: dict[str, Any], header: str) -> str | None:
    """One `x-conformance-*` tag of a recorded request (VCR keeps each header as a list of values)."""
    values = interaction["request"]["headers"].get(header)
    return str(values[0]) if values else None


def tags(interaction: dict[str, Any]) -> dict[str, str | None]:
    headers = (FORMAT_HEADER, TARGET_HEADER, START_HEADER, OFFERS_HEADER, CASE_HEADER, ROWS_HEADER)
    return {h: tag(interaction, h) for h in headers}


def copy_cassettes(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination)
    return destination


def sections(output: str) -> dict[str, str]:
    """pytest's failure and error sections of a run's output, by test name."""
    marks = list(_SECTION.finditer(output))
    found = {}
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following is not None else _end_of_failures(output)
        found[mark["name"]] = output[mark.end() : end]
    return found


def _end_of_failures(output: str) -> int:
    """Where the last failure section ends: the run's summaries follow it (the suite's, then pytest's)."""
    ends = [i for i in (output.find("conformance summary"), output.find("short test summary info")) if i >= 0]
    return min(ends, default=len(output))


# -- damaged copies: what a replay must say about each ---------------------------------------------

PAST_EDGE = f"{NAMED_EDGE_TEST}[in the past (-1 s)-UTC]"
MAX_EDGE = f"{NAMED_EDGE_TEST}[7 d (max, exactly)-UTC]"
MIN_EDGE = f"{NAMED_EDGE_TEST}[5:00 (min, exactly)-UTC]"
BROKEN_YAML = "interactions:\n- request: {method: POST, uri: [unclosed\n  body: : x\n"


def _edit_body(path: Path, index: int) -> str:
    """Change one recorded request body (its JSON stays valid); return the endpoint path it was sent to."""
    data = load(path)
    request = data["interactions"][index]["request"]
    body = json.loads(request["body"])
    body["activity_type"] = "EditedInTheCopy"
    request["body"] = json.dumps(body)
    save(path, data)
    return urlsplit(str(request["uri"])).path


def _set_format(path: Path, value: str | None) -> None:
    data = load(path)
    for interaction in data["interactions"]:
        headers = interaction["request"]["headers"]
        if value is None:
            headers.pop(FORMAT_HEADER)
        else:
            headers[FORMAT_HEADER] = [value]
    save(path, data)


def _drop_tag(path: Path, header: str) -> None:
    data = load(path)
    for interaction in data["interactions"]:
        interaction["request"]["headers"].pop(header)
    save(path, data)


def damage(directory: Path) -> dict[str, str]:
    """Break one cassette per way a cassette can be wrong; return each test's expected request path."""
    expected = {
        LOST_RESPONSE_TEST: _edit_body(cassette_of(directory, LOST_RESPONSE_TEST), 1),
        HYPOTHESIS_TEST: _edit_body(cassette_of(directory, HYPOTHESIS_TEST), 0),
    }
    cassette_of(directory, LIFECYCLE_TEST).unlink()
    cassette_of(directory, BACKOFF_TEST).write_text(BROKEN_YAML, encoding="utf-8")
    _set_format(cassette_of(directory, PAST_EDGE), None)
    _set_format(cassette_of(directory, MAX_EDGE), "0")
    _drop_tag(cassette_of(directory, MIN_EDGE), OFFERS_HEADER)
    return expected
