"""The edge probes measure where the target puts each edge, and the drift report says when one moved.

On the reference sandbox (a virtual clock) every edge is measured exactly where the contract puts it,
in two requests. On a sandbox built from a contract whose edges were moved, the probes find the new
edges exactly, fail on the documented ones, and `conformance drift` reports the moves in words.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conformance.suite.edge_search import EdgeSearch, Seen, find_switch, first_beyond
from tests.self.reference import bundled_contract
from tests.self.report.report_support import drift, load
from tests.self.suite.suite_runner import run_suite

WINDOW = bundled_contract().behaviour.ends_at
IDS = bundled_contract().behaviour.insider_ids
SOONER, LATER, FEWER = 60, 3599, 37  # how far the mutated sandbox moves each edge
MOVED_EDGES = f"""
import dataclasses
import pytest
from conformance.sandbox import build_sandbox


@pytest.hookimpl
def pytest_conformance_sandbox(contract, profile, clock):
    behaviour = contract.behaviour
    window = behaviour.ends_at
    window = dataclasses.replace(
        window,
        minimum=dataclasses.replace(window.minimum, value=window.minimum.value - {SOONER}),
        maximum=dataclasses.replace(window.maximum, value=window.maximum.value + {LATER}),
    )
    ids = dataclasses.replace(behaviour.insider_ids, max_items=behaviour.insider_ids.max_items - {FEWER})
    moved = dataclasses.replace(behaviour, ends_at=window, insider_ids=ids)
    return build_sandbox(dataclasses.replace(contract, behaviour=moved), profile, clock=clock)
"""
EDGES = {
    WINDOW.minimum.code: (WINDOW.minimum.value, WINDOW.minimum.value - SOONER, "s"),
    WINDOW.maximum.code: (WINDOW.maximum.value, WINDOW.maximum.value + LATER, "s"),
    IDS.row: (IDS.max_items, IDS.max_items - FEWER, "ids"),
}


def _bound(documented: int, low: int = 1) -> int:
    return EdgeSearch("row", "s", documented, documented, True, low=low).request_bound


def test_the_sandbox_edges_are_measured_exactly(reference_results: Path) -> None:
    data = load(reference_results)
    assert data["edges"] == {
        row: {"documented": documented, "measured": documented, "unit": unit, "requests": 2}
        for row, (documented, _, unit) in EDGES.items()
    }
    probes = [c for c in data["cases"] if "test_edge_probes" in c["test"]]
    assert len(probes) == 2 * len(EDGES)
    assert {c["verdict"] for c in probes} == {"passed"}
    assert {c["level"] for c in probes} == {"documented"}


def test_moved_edges_are_measured_and_reported(reference_results: Path, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "-k", "test_edge_probes", plugin=MOVED_EDGES)
    assert run.returncode == 1, run.output[-3000:]
    for row, (documented, moved, unit) in EDGES.items():
        edge = run.results["edges"][row]
        assert (edge["documented"], edge["measured"], edge["unit"]) == (documented, moved, unit)
        assert 2 < edge["requests"] <= _bound(documented)
    failed = [c for c in run.results["cases"] if c["verdict"] == "failed"]
    assert failed
    assert {c["level"] for c in failed} == {"documented"}

    report = drift(reference_results, tmp_path / "results.json")
    assert report.status == 1
    for row, (documented, moved, unit) in EDGES.items():
        assert f"{row} edge moved from {documented} {unit} to {moved} {unit}" in report.out


class _Threshold:
    """A target whose edge is at `switch` (the first value beyond it), seen through a clock of ± `slack`."""

    def __init__(self, switch: int, slack: float = 0.0) -> None:
        self.switch = switch
        self.slack = slack
        self.asked: list[int] = []

    def __call__(self, value: int) -> Seen:
        self.asked.append(value)
        return Seen(value - self.slack, value + self.slack, value >= self.switch)


@pytest.mark.parametrize("shift", [0, 1, -1, -60, 59, 3599, -298, 5000])
def test_the_search_finds_any_edge_in_range_exactly(shift: int) -> None:
    documented = WINDOW.minimum.value
    target = _Threshold(documented + shift)
    near, beyond = find_switch(target, documented, 1, 2 * documented + 5000)
    assert first_beyond(near, beyond) == (documented + shift, documented + shift)
    assert len(target.asked) == len(set(target.asked)) <= _bound(documented + 2500)
    assert len(target.asked) == 2 or shift != 0


def test_a_real_clock_leaves_an_interval() -> None:
    documented = WINDOW.minimum.value
    near, beyond = find_switch(_Threshold(documented, slack=0.6), documented, 1, 2 * documented)
    low, high = first_beyond(near, beyond)
    assert low is not None
    assert high is not None
    assert low <= documented <= high
    assert high - low <= math.ceil(2 * 0.6) + 1


@pytest.mark.parametrize(("switch", "expected"), [(10**9, (IDS.max_items * 2 + 1, None)), (-5, (None, 1))])
def test_an_edge_beyond_the_range_is_open_on_that_side(
    switch: int, expected: tuple[int | None, int | None]
) -> None:
    target = _Threshold(switch)
    near, beyond = find_switch(target, IDS.max_items + 1, 1, 2 * IDS.max_items)
    assert first_beyond(near, beyond) == expected
    assert len(target.asked) <= _bound(IDS.max_items)
