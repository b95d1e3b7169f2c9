"""Each kind of change between two results files is found; only documented regressions fail the run.

The baseline is a real results file (one suite run on the reference sandbox); each test drifts an
edited copy of it and checks what `conformance drift` reports and the exit status it gives.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from conformance.judging.results import read_results
from conformance.report.drift import Drift, compare
from conformance.report.latency import Percentiles, percentiles
from tests.self.reference import bundled_contract
from tests.self.report.report_support import Case, answered, drift, edited, first, load

WINDOW = bundled_contract().behaviour.ends_at
NO_DEVICE = bundled_contract().behaviour.eligibility.no_eligible_code


def _drift(baseline: Path, current: Path) -> Drift:
    return compare(read_results(baseline), read_results(current), (baseline, current))


def _documented_error(case: Case) -> bool:
    observed = case["observed"]
    return (
        case["level"] == "documented" and case["verdict"] == "passed" and bool(observed and observed["code"])
    )


def test_identical_runs_show_no_drift(reference_results: Path) -> None:
    result = drift(reference_results, reference_results)
    assert result.status == 0, result.err
    assert "no documented regression" in result.out
    assert set(_drift(reference_results, reference_results).summary().values()) == {0}


def test_a_documented_case_that_fails_now_is_a_regression(reference_results: Path, tmp_path: Path) -> None:
    """Its status and code changed, it is newly failing, its cell regressed, and the exit status is 1."""
    chosen: dict[str, Any] = {}

    def break_one(data: dict[str, Any]) -> None:
        case = first(data, _documented_error)
        chosen.update(case, before=f"{case['observed']['status']} {case['observed']['code']}")
        answered(case, bundled_contract().status_of(NO_DEVICE), NO_DEVICE)
        case["verdict"] = "failed"

    current = edited(reference_results, tmp_path / "current.json", break_one)
    found = _drift(reference_results, current)
    change = next(c for c in found.outcome_changes if c.case == chosen["case"])
    assert (change.before, change.after, change.undocumented) == (
        chosen["before"],
        f"{bundled_contract().status_of(NO_DEVICE)} {NO_DEVICE}",
        False,
    )
    assert [(r.kind, chosen["case"] in r.message) for r in found.regressions] == [("case", True)]
    assert [(c.test, c.before) for c in found.newly_failing] == [(chosen["test"], "passed")]
    regressed = {(c.row, c.endpoint) for c in found.cells if c.change == "regressed"}
    assert regressed == {(row, chosen["endpoint"]) for row in chosen["rows"]}
    result = drift(reference_results, current)
    assert result.status == 1
    assert "1 documented regression(s)" in result.out


def test_a_documented_row_failing_under_a_new_label_is_a_regression(
    reference_results: Path, tmp_path: Path
) -> None:
    """No case pairs up (the input class was renamed), yet the row that was verified fails now."""
    row = WINDOW.maximum.code

    def rename_and_break(data: dict[str, Any]) -> None:
        for case in data["cases"]:
            if row in case["rows"] and case["level"] == "documented":
                case["case"] += " (renamed)"
                case["verdict"] = "failed"

    current = edited(reference_results, tmp_path / "current.json", rename_and_break)
    found = _drift(reference_results, current)
    assert [r.kind for r in found.regressions] == ["row"]
    assert row in found.regressions[0].message
    assert drift(reference_results, current).status == 1


def test_an_undocumented_change_is_reported_and_not_failed(reference_results: Path, tmp_path: Path) -> None:
    chosen: dict[str, Any] = {}

    def change_recorded(data: dict[str, Any]) -> None:
        case = first(data, lambda c: c["verdict"] == "recorded" and c["observed"] is not None)
        chosen.update(case)
        answered(case, bundled_contract().behaviour.success_status, None)

    current = edited(reference_results, tmp_path / "current.json", change_recorded)
    found = _drift(reference_results, current)
    assert [c.input_class for c in found.undocumented_changes()] == [chosen["case"]]
    assert not found.documented_outcome_changes()
    assert not found.regressions
    result = drift(reference_results, current)
    assert result.status == 0
    assert "Undocumented behaviour changed (reported, not failed)" in result.out


def test_body_fields_added_and_removed_are_reported(reference_results: Path, tmp_path: Path) -> None:
    chosen: dict[str, Any] = {}
    success = bundled_contract().behaviour.success_status

    def reshape(data: dict[str, Any]) -> None:
        case = first(
            data, lambda c: c["verdict"] == "passed" and (c["observed"] or {}).get("status") == success
        )
        chosen.update(case, fields=list(case["observed"]["body_fields"]))
        case["observed"]["body_fields"] = sorted([*chosen["fields"][1:], "trace_id"])

    current = edited(reference_results, tmp_path / "current.json", reshape)
    found = _drift(reference_results, current)
    changes = {(c.field, c.change, c.endpoint) for c in found.field_changes}
    assert changes == {
        ("trace_id", "added", chosen["endpoint"]),
        (chosen["fields"][0], "removed", chosen["endpoint"]),
    }
    assert drift(reference_results, current).status == 0


def test_newly_passing_cases_are_reported(reference_results: Path, tmp_path: Path) -> None:
    chosen: dict[str, Any] = {}

    def fail_one(data: dict[str, Any]) -> None:
        case = first(data, _documented_error)
        chosen.update(case)
        case["verdict"] = "failed"

    baseline = edited(reference_results, tmp_path / "baseline.json", fail_one)
    found = _drift(baseline, reference_results)
    assert [(c.case, c.before, c.after) for c in found.newly_passing] == [
        (chosen["case"], "failed", "passed")
    ]
    assert drift(baseline, reference_results).status == 0


def test_rows_no_longer_verified_are_reported_with_the_skip_reason(
    reference_results: Path, tmp_path: Path
) -> None:
    row, reason = "APP_NOT_FOUND", "the target profile offers no key for account state 'unknown_app'"
    verified = {
        c["endpoint"]
        for c in load(reference_results)["cases"]
        if row in c["rows"] and c["verdict"] == "passed"
    }

    def skip_row(data: dict[str, Any]) -> None:
        for case in data["cases"]:
            if row in case["rows"]:
                case.update(
                    case="skipped", verdict="skipped", level="", observed=None, latency_ms=None, reason=reason
                )

    current = edited(reference_results, tmp_path / "current.json", skip_row)
    found = _drift(reference_results, current)
    assert verified
    assert {(c.row, c.endpoint, c.current) for c in found.no_longer_verified} == {
        (row, endpoint, "skipped") for endpoint in verified
    }
    assert all(c.skip_reasons == (reason,) for c in found.no_longer_verified)
    result = drift(reference_results, current)
    assert result.status == 0
    assert reason in result.out


def test_a_moved_edge_is_reported_in_words(reference_results: Path, tmp_path: Path) -> None:
    edge = WINDOW.minimum
    moved = edge.value - 60

    def move(data: dict[str, Any]) -> None:
        data["edges"][edge.code]["measured"] = moved

    current = edited(reference_results, tmp_path / "current.json", move)
    found = _drift(reference_results, current)
    assert [e.row for e in found.moved_edges()] == [edge.code]
    sentence = f"{edge.code} edge moved from {edge.value} s to {moved} s"
    assert found.moved_edges()[0].sentence() == sentence
    assert sentence in drift(reference_results, current).out


def test_latency_percentiles_per_endpoint_for_both_runs(reference_results: Path, tmp_path: Path) -> None:
    endpoint = WINDOW.endpoint
    timed: list[float] = []

    def retime(data: dict[str, Any]) -> None:
        for case in data["cases"]:
            if case["endpoint"] == endpoint and case["latency_ms"] is not None:
                case["latency_ms"] = float(len(timed) + 1)
                timed.append(case["latency_ms"])

    current = edited(reference_results, tmp_path / "current.json", retime)
    latency = next(e for e in _drift(reference_results, current).latency if e.endpoint == endpoint)
    count = len(timed)
    assert latency.current is not None
    assert latency.baseline is not None
    assert (latency.current.count, latency.current.p50, latency.current.p95, latency.current.p99) == (
        count,
        math.ceil(count * 0.50),
        math.ceil(count * 0.95),
        math.ceil(count * 0.99),
    )
    assert latency.baseline.count == count
    assert latency.baseline == percentiles(
        [
            c["latency_ms"]
            for c in load(reference_results)["cases"]
            if c["endpoint"] == endpoint and c["latency_ms"] is not None
        ]
    )


def test_percentiles_are_nearest_rank() -> None:
    assert percentiles([]) is None
    assert percentiles([5.0]) == Percentiles(1, 5.0, 5.0, 5.0, 5.0)
    found = percentiles([float(n) for n in range(100, 0, -1)])
    assert found is not None
    assert (found.p50, found.p95, found.p99, found.max) == (50.0, 95.0, 99.0, 100.0)
