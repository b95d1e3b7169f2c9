"""`conformance drift DIRECTORY`: nightly runs in the order they ran, since when each change holds,
and flapping shown as flapping.

The directory holds five real runs of part of the suite against the sandbox, its readings switched
between nights (see `nights()`): /end on a REGISTERED activity answers otherwise from night 2 on (a
change that held), and an unparseable body gets the other documented code on nights 3 and 5 only
(flapping). Neither is a regression: both are answers the documentation allows. A documented failure
is made by editing copies: the API answering an empty body with 500 on chosen nights.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from conformance.judging.results import Verdict, unverified
from conformance.report.history import Seen, Series
from tests.self.report.report_support import (
    CRASH,
    NIGHT_FILES,
    answered,
    drift,
    edited,
    load,
    night_started_at,
    nights,
)

# The documented case the edits break: an empty body to /register (400 REQUEST_INVALID documented).
BROKEN_TEST = "test_boundaries.py::test_malformed_body[register-empty body]"
BROKEN_STATUS = 500
Cell = dict[str, Any]


def _history(directory: Path) -> tuple[int, dict[str, Any]]:
    result = drift(directory, "--format", "json")
    assert result.err == ""
    return result.status, json.loads(result.out)


def _cell(history: dict[str, Any], name: str, endpoint: str) -> Cell:
    return next(c for c in history["cells"] if (c["name"], c["endpoint"]) == (name, endpoint))


def _case(directory: Path, label: str) -> dict[str, Any]:
    """The first night's case whose input class holds `label`."""
    return next(c for c in load(directory / NIGHT_FILES[0])["cases"] if label in c["case"])


def _broken_on(nightly: Path, target: Path, nights: set[int]) -> Path:
    """A copy of the nightly directory; on `nights`, the API answered an empty body to /register with 500."""
    target.mkdir()
    for number, name in enumerate(NIGHT_FILES, start=1):
        if number not in nights:
            shutil.copy(nightly / name, target / name)
            continue

        def fail(data: dict[str, Any]) -> None:
            case = next(c for c in data["cases"] if c["test"] == BROKEN_TEST)
            answered(case, BROKEN_STATUS, None, [])
            case["verdict"], case["reason"] = (
                "failed",
                "/register does not behave as documented (documented):",
            )

        edited(nightly / name, target / name, fail)
    return target


def test_the_nights_are_read_in_the_order_they_started(nightly: Path) -> None:
    status, history = _history(nightly)
    assert status == 0
    assert [r["file"] for r in history["runs"]] == list(NIGHT_FILES)
    assert [r["started_at"] for r in history["runs"]] == [
        night_started_at(n) for n in range(1, len(nights()) + 1)
    ]
    assert sorted(NIGHT_FILES) != list(NIGHT_FILES)  # so file names alone would have ordered them otherwise


def test_a_change_that_held_names_the_first_night_that_showed_it(nightly: Path) -> None:
    """/end on a REGISTERED activity: another answer from night 2 on; recorded, so no regression."""
    probe = _case(nightly, "lifecycle:end:REGISTERED")
    status, history = _history(nightly)
    cell = _cell(history, probe["rows"][0], probe["endpoint"])
    assert status == 0
    assert cell["status"] == "changed"
    assert (cell["first_seen_run"], cell["since_run"]) == (2, 2)
    assert [(c["run"], c["until_run"]) for c in cell["changes"]] == [(2, None)]
    before = f"{probe['observed']['status']} {probe['observed']['code']}"
    assert before in cell["changes"][0]["before"]
    assert before not in cell["changes"][0]["after"]
    markdown = drift(nightly).out
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {probe['rows'][0]} | /end |"))
    assert "| A B B B B | B since run 2 |" in row


def test_a_reading_switched_on_and_off_is_flapping_not_new_each_night(nightly: Path) -> None:
    """An unparseable body: the other documented code on nights 3 and 5 only. Every night passed."""
    whitespace = _case(nightly, "whitespace body")
    status, history = _history(nightly)
    assert status == 0
    for row in whitespace["rows"]:
        cell = _cell(history, row, whitespace["endpoint"])
        assert cell["status"] == "flapping", row
        assert cell["verdicts"] == ["passed"] * len(nights())
        assert [c["run"] for c in cell["changes"]] == [3, 4, 5]
        assert (cell["first_seen_run"], cell["since_run"]) == (3, 5)
    markdown = drift(nightly).out
    assert markdown.startswith(f"## Conformance drift over {len(nights())} runs: no documented regression\n")
    row = next(
        line
        for line in markdown.splitlines()
        if line.startswith(f"| {whitespace['rows'][0]} | /{whitespace['endpoint']} |")
    )
    assert "| A A B A B | B since run 5, first seen in run 3; flapping (3 changes) |" in row


@pytest.mark.parametrize(
    ("nights", "expected"),
    [
        ({3, 5}, (1, 5, True)),  # broke, recovered, broke again: a failure still, labelled flapping
        ({4, 5}, (1, 4, False)),  # broke on night 4 and stayed broken
        ({3}, (0, None, None)),  # broke once; the latest night keeps the rule
        ({1, 2, 3, 4, 5}, (0, None, None)),  # broken on every night: a known failure, not a regression
    ],
)
def test_a_documented_failure_fails_the_latest_night_only_when_it_passed_before(
    nightly: Path, tmp_path: Path, nights: set[int], expected: tuple[int, int | None, bool | None]
) -> None:
    """`expected`: the exit status, the night since which it fails, whether it is flapping."""
    status, since, flapping = expected
    directory = _broken_on(nightly, tmp_path / "nightly", nights)
    found, history = _history(directory)
    assert found == status
    if since is None:
        assert history["regressions"] == []
        return
    (regression,) = history["regressions"]
    assert regression["kind"] == "case"
    assert (regression["good_run"], regression["since"], regression["flapping"]) == (
        since - 1,
        since,
        flapping,
    )
    assert BROKEN_TEST in regression["message"]
    held = f"since run {since}" + ("; flapping" if flapping else "")
    assert regression["message"].endswith(f"passed in run {since - 1} and fails now ({held})")
    headline = drift(directory).out.splitlines()[0]
    assert "1 documented regression(s)" in headline
    assert ("1 of them flapping" in headline) is flapping


def test_a_test_erroring_on_the_latest_night_fails_it(nightly: Path, tmp_path: Path) -> None:
    directory = tmp_path / "nightly"
    shutil.copytree(nightly, directory)

    def crash(data: dict[str, Any]) -> None:
        data["cases"] = [c for c in data["cases"] if c["test"] != BROKEN_TEST]
        data["cases"].append(asdict(unverified(BROKEN_TEST, Verdict.ERROR, CRASH, case="error (call)")))

    edited(directory / NIGHT_FILES[-1], directory / NIGHT_FILES[-1], crash)
    status, history = _history(directory)
    assert status == 1
    (erroring,) = history["newly_erroring"]
    assert (erroring["good_run"], erroring["since"], erroring["reason"]) == (4, 5, CRASH)


def test_a_state_that_came_back_is_flapping_and_a_gap_is_no_change() -> None:
    a, b, c = (Seen(Verdict.PASSED, (answer,)) for answer in ("400 A", "400 B", "400 C"))
    assert Series((a, None, a)).status == "unchanged"  # a night that did not exercise it is a gap
    held = Series((a, b, c, c))
    assert (held.status, held.since(), held.timeline()) == ("changed", 2, ["A", "B", "C", "C"])
    flapping = Series((a, b, a, None, b))
    assert (flapping.status, flapping.since(), flapping.first_seen()) == ("flapping", 4, 1)
    assert flapping.timeline() == ["A", "B", "A", "·", "B"]
    assert [(t.run, t.until) for t in flapping.changes()] == [(1, 2), (2, 4), (4, None)]
    assert b.since(a) == "+400 B, -400 A"


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("one file only", "holds 1 results file(s) (*.json); a history needs at least two"),
        ("a directory and a file", "is a directory, and a CURRENT file was given too"),
        ("a file alone", "is one results file, and no CURRENT file was given to compare it with"),
        ("the output inside the directory", "is inside the directory of results files"),
        ("a malformed file", f"{NIGHT_FILES[1]} at cases: a required field is missing"),
        ("a start time that is no time", "at started_at: 'last night' is not an ISO 8601 time"),
    ],
)
def test_bad_input_is_one_message(
    nightly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    directory = Path("nightly")
    shutil.copytree(nightly, directory)
    arguments: tuple[str | Path, ...] = (directory,)
    if problem == "one file only":
        for name in NIGHT_FILES[1:]:
            (directory / name).unlink()
    elif problem == "a directory and a file":
        arguments = (directory, directory / NIGHT_FILES[0])
    elif problem == "a file alone":
        arguments = (directory / NIGHT_FILES[0],)
    elif problem == "the output inside the directory":
        arguments = (directory, "--output", directory / "drift.md")
    elif problem == "a malformed file":
        edited(directory / NIGHT_FILES[1], directory / NIGHT_FILES[1], lambda data: data.pop("cases"))
    else:
        edited(
            directory / NIGHT_FILES[2],
            directory / NIGHT_FILES[2],
            lambda data: data.update(started_at="last night"),
        )
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = drift(*arguments)
    assert result.status == 2, problem
    assert message in result.err, result.err
    assert len(result.err.splitlines()) == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_two_files_are_still_compared_as_before(nightly: Path) -> None:
    result = drift(nightly / NIGHT_FILES[0], nightly / NIGHT_FILES[-1])
    assert result.status == 0
    assert result.out.startswith("## Conformance drift: no documented regression\n")
