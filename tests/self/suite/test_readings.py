"""The suite judges only what the documentation fixes: it passes against every reading of every open point.

Each reading in behaviour.yaml (`readings:`) is a point a real server may take either way. The
embedded sandbox takes the first option; `--sandbox-reading` / `sandbox serve --reading` switch it.
A conforming server that took another reading must get no failure, so the suite runs:

* in-process, against each other option alone (fast: every CI run);
* over HTTP (the live path) against a served sandbox that takes every other option at once and speaks
  every HTTP style at once (gzip, chunked bodies, a connection closed after every answer, a charset on
  the JSON content type), with no latency; and again with 150 ms of one-way latency and its clock 45 s
  off ours, where the time-bound tests (ends_at edges, edge probes, sync, lifecycle) run;
* over HTTP against each other option alone, at 0 and 150 ms, and each HTTP style alone (`-m slow`:
  a slower job; see README).

Where the results show which reading the target took, the test checks that they do: the suite
records what it saw, and a switch that changed nothing would prove nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import load_contract
from conformance.sandbox.http_style import ALL_STYLES, HTTP_STYLES
from tests.self.suite.suite_runner import (
    TIME_BOUND,
    TOKEN_VARIABLE,
    SuiteRun,
    run_suite,
    served_profile,
    served_sandbox,
)

TOKEN = "self-test-readings-token"
READINGS = load_contract().behaviour.readings
OTHER_OPTIONS = [(r.id, option) for r in READINGS.values() for option in list(r.options)[1:]]
SECOND_OPTIONS = [(r.id, list(r.options)[1]) for r in READINGS.values()]  # `--other-readings`
LATENCY_MS, CLOCK_OFFSET_SECONDS = "150", "45"

Results = dict[str, Any]


def _cases(results: Results) -> list[dict[str, Any]]:
    return list(results.get("cases", []))


def _observed(results: Results, case_part: str, status: int, code: str | None = None) -> bool:
    """Some case whose label holds `case_part` saw this status (and code)."""
    return any(
        case_part in c["case"]
        and c["observed"]
        and c["observed"]["status"] == status
        and (code is None or c["observed"]["code"] == code)
        for c in _cases(results)
    )


def _matched(results: Results, reading: str) -> bool:
    return any(reading in (c.get("matched") or "") for c in _cases(results))


# What the results show when the target took the option: the suite saw the reading.
SEEN: dict[tuple[str, str], Callable[[Results], bool]] = {
    ("unparseable-body-code", "bad-request"): lambda r: _observed(r, "whitespace body", 400, "BAD_REQUEST"),
    ("wrong-type-code", "bad-request"): lambda r: _observed(r, "wrong_type", 400, "BAD_REQUEST"),
    ("matched-unit", "devices"): lambda r: _matched(r, "matched-unit=devices"),
    ("gdpr-denied-in-matched", "counted"): lambda r: _matched(r, "gdpr-denied-in-matched=counted"),
    ("end-on-registered", "not-found"): lambda r: _observed(r, "probe lifecycle:end:REGISTERED", 404),
    ("end-on-registered", "ok"): lambda r: _observed(r, "probe lifecycle:end:REGISTERED", 200),
    ("start-without-matching-target", "no-eligible-device"): lambda r: _observed(
        r, "probe start-with-no-matching-target", 422
    ),
    ("mismatched-activity-type", "rejected"): lambda r: _observed(r, "probe mismatched-activity-type", 400),
    ("unknown-request-fields", "rejected"): lambda r: _observed(r, "probe unknown-request-fields", 400),
    ("title-message-on-update-end", "required"): lambda r: _observed(r, "probe content-title", 400),
    ("rate-limit-counts", "successes-only"): lambda r: _observed(r, "rejected requests did not count", 429),
    ("bodies-of-401-and-503", "json"): lambda r: any(
        c["observed"] and c["observed"]["status"] == 401 and c["observed"]["has_body"] for c in _cases(r)
    ),
}


# Readings under which a row is honestly not exercised on some endpoint: every request the contract
# gives for it may also get another documented answer, and the target gives that one. Where the target
# checks the activity before the key, the account rows of the activity endpoints (a documented 404
# each time); where it names a wrongly typed field BAD_REQUEST, VALIDATION_FAILED on the segment edits
# (its only source there).
NOT_EXERCISED_UNDER = frozenset({("which-error-wins", "reversed"), ("wrong-type-code", "bad-request")})


def _passes(run: SuiteRun, readings: list[tuple[str, str]]) -> None:
    """No failure, no error; nothing skipped but what needs --allow-rate-limit-probe, and the rows a
    reading of NOT_EXERCISED_UNDER leaves unexercised."""
    assert run.returncode == 0, run.output[-3000:]
    assert run.results["counts"]["failed"] == 0
    allowed = ["--allow-rate-limit-probe"]
    if NOT_EXERCISED_UNDER & set(readings):
        allowed.append("may also get another documented answer")
    skipped = {c["reason"] for c in _cases(run.results) if c["verdict"] == "skipped"}
    assert all(any(a in reason for a in allowed) for reason in skipped), skipped


def _saw(run: SuiteRun, readings: list[tuple[str, str]]) -> None:
    unseen = [f"{i}={o}" for i, o in readings if (i, o) in SEEN and not SEEN[(i, o)](run.results)]
    assert not unseen, f"the results do not show these readings: {unseen}"


# -- the runs: each a suite in a fresh interpreter; all that the selected tests need start at once ---

Run = tuple[str, ...]  # ("in-process", id=option) | ("live", "other-readings", latency, offset, -k)
RunFutures = dict[Run, "Future[SuiteRun]"]
IN_PROCESS, LIVE = "in-process", "live"
ALL_AT_ONCE: Run = (LIVE, "0", "0", "")


def _in_process(reading: str, option: str) -> Run:
    return (IN_PROCESS, f"{reading}={option}")


def _under_latency(offset: str) -> Run:
    return (LIVE, LATENCY_MS, offset, TIME_BOUND)


def _execute(run: Run, tmp_path: Path) -> SuiteRun:
    if run[0] == IN_PROCESS:
        return run_suite(tmp_path, "--sandbox-reading", run[1], "-p", "no:randomly")
    _, latency, offset, selection = run
    options: tuple[str, ...] = ("--other-readings", "--latency-ms", latency, "--clock-offset", offset)
    if run == ALL_AT_ONCE:
        options += ("--http", ALL_STYLES)
    with served_sandbox(TOKEN, *options) as (url, _):
        profile = served_profile(url, tmp_path)
        return run_suite(
            tmp_path,
            *("--target", "live", "--base-url", url, "--target-profile", str(profile)),
            *(("-k", selection) if selection else ()),
            env={TOKEN_VARIABLE: TOKEN},
        )


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunFutures]:
    """Every run the selected tests of this module need, started together: the live ones mostly wait
    (latency, token syncs) and get a thread each; the in-process ones share one per core."""
    wanted: set[Run] = set()
    for item in (i for i in request.session.items if i.path == request.path):
        function = getattr(item, "function", None)  # a test function's item (pytest.Function)
        wanted.update(getattr(function, "runs", lambda _: [])(getattr(item, "callspec", None)))
    live = sorted(r for r in wanted if r[0] == LIVE)
    ordered = [*live, *sorted(wanted - set(live))]
    with ThreadPoolExecutor(max_workers=len(live) + (os.cpu_count() or 1)) as pool:
        yield {run: pool.submit(_execute, run, tmp_path_factory.mktemp("run")) for run in ordered}


def _needs(runs_of: Callable[[Any], list[Run]]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare which runs a test reads, so that the `runs` fixture starts them all at once."""

    def mark(test: Callable[..., None]) -> Callable[..., None]:
        test.runs = runs_of  # type: ignore[attr-defined]
        return test

    return mark


@pytest.mark.parametrize(("reading", "option"), OTHER_OPTIONS, ids=[f"{i}={o}" for i, o in OTHER_OPTIONS])
@_needs(lambda spec: [_in_process(*(spec.params[p] for p in ("reading", "option")))])
def test_suite_passes_in_process_on_each_other_reading(reading: str, option: str, runs: RunFutures) -> None:
    """Against the embedded sandbox switched to one other reading, every case passes or is recorded."""
    run = runs[_in_process(reading, option)].result()
    _passes(run, [(reading, option)])
    _saw(run, [(reading, option)])


def test_every_reading_has_a_sandbox_switch_and_the_suite_sees_what_it_can() -> None:
    """The matrix above covers every reading of the contract, each with at least one other option."""
    assert {i for i, _ in OTHER_OPTIONS} == set(READINGS)
    assert set(SEEN) <= set(OTHER_OPTIONS)


@_needs(lambda _: [ALL_AT_ONCE])
def test_suite_passes_over_http_on_every_other_reading_at_once(runs: RunFutures) -> None:
    """The live path against a server that takes every other reading and every HTTP style at once
    (gzip, chunked, close, charset): no false failure."""
    run = runs[ALL_AT_ONCE].result()
    _passes(run, SECOND_OPTIONS)
    assert run.results["counts"]["passed"] > 500
    _saw(run, SECOND_OPTIONS)


@pytest.mark.parametrize("offset", [CLOCK_OFFSET_SECONDS, f"-{CLOCK_OFFSET_SECONDS}"])
@_needs(lambda spec: [_under_latency(spec.params["offset"])])
def test_time_bound_verdicts_hold_under_latency_and_clock_offset(offset: str, runs: RunFutures) -> None:
    """150 ms each way and a clock 45 s off ours, every other reading taken: the time-bound tests pass,
    and the named ends_at edges are aimed (their stated tolerance is under a second)."""
    run = runs[_under_latency(offset)].result()
    _passes(run, SECOND_OPTIONS)
    edges = [c for c in _cases(run.results) if "(min, exactly)" in c["case"] or "(max, exactly)" in c["case"]]
    assert edges, "the named edges ran"
    assert all(c["verdict"] == "passed" for c in edges), edges
    assert all("aimed mid-second" in c["case"] for c in edges), [c["case"] for c in edges]


@pytest.mark.slow
@pytest.mark.parametrize("latency", ["0", LATENCY_MS])
@pytest.mark.parametrize(("reading", "option"), OTHER_OPTIONS, ids=[f"{i}={o}" for i, o in OTHER_OPTIONS])
def test_suite_passes_over_http_on_each_other_reading(
    reading: str, option: str, latency: str, tmp_path: Path
) -> None:
    """The live path against a server that takes one other reading, with and without latency."""
    options = ("--reading", f"{reading}={option}", "--latency-ms", latency)
    with served_sandbox(TOKEN, *options) as (url, _):
        profile = served_profile(url, tmp_path)
        run = run_suite(
            tmp_path,
            *("--target", "live", "--base-url", url, "--target-profile", str(profile)),
            *(("-k", TIME_BOUND) if latency != "0" else ()),
            env={TOKEN_VARIABLE: TOKEN},
        )
    _passes(run, [(reading, option)])
    _saw(run, [(reading, option)] if latency == "0" else [])


@pytest.mark.slow
@pytest.mark.parametrize("style", HTTP_STYLES)
def test_suite_passes_over_http_on_each_http_style(style: str, tmp_path: Path) -> None:
    """The live path against a server that speaks one HTTP style (readings at their defaults)."""
    with served_sandbox(TOKEN, "--http", style) as (url, _):
        profile = served_profile(url, tmp_path)
        run = run_suite(
            tmp_path,
            *("--target", "live", "--base-url", url, "--target-profile", str(profile)),
            env={TOKEN_VARIABLE: TOKEN},
        )
    _passes(run, [])


@pytest.mark.parametrize(
    ("given", "named"),
    [("bogus=x", "unknown reading 'bogus'"), ("matched-unit=dozens", "its options are: insiders, devices")],
)
def test_a_bad_sandbox_reading_ends_the_run_with_one_message(given: str, named: str, tmp_path: Path) -> None:
    """A reading or option the contract lacks stops the run before any test: usage error, one message."""
    run = run_suite(tmp_path, "--sandbox-reading", given)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.output[-2000:]
    assert named in run.output
    assert "Traceback" not in run.output
    assert run.output.count("--sandbox-reading") == 1


def test_the_docs_list_every_reading_with_its_options() -> None:
    """docs/open-points-and-http.md has a row per reading, with its options in the sandbox's order."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "open-points-and-http.md").read_text(
        encoding="utf-8"
    )
    for reading in READINGS.values():
        options = ", ".join(f"`{o}`" for o in reading.options)
        assert f"| `{reading.id}` | {reading.question} | {options} |" in doc, reading.id
