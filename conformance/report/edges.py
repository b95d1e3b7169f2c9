"""Measured edges of two runs, side by side: which moved, and how to say where one lies."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.judging.results import Interval, MeasuredEdge, RunResults


@dataclass(frozen=True)
class EdgeDrift:
    row: str
    unit: str
    documented: int
    baseline: int | Interval | None  # None: not measured in that run
    current: int | Interval | None
    requests: tuple[int | None, int | None]  # probes each run spent on it

    @property
    def moved(self) -> bool:
        """Both runs measured it and no value fits both measurements."""
        if self.baseline is None or self.current is None:
            return False
        (b_low, b_high), (c_low, c_high) = _bounds(self.baseline), _bounds(self.current)
        return b_high < c_low or c_high < b_low

    @property
    def off_documented(self) -> bool:
        """The current run measured it somewhere the contract does not put it."""
        if self.current is None:
            return False
        low, high = _bounds(self.current)
        return not low <= self.documented <= high

    def sentence(self) -> str:
        """`ENDS_AT_TOO_SOON edge moved from 300 s to 240 s`."""
        if self.moved:
            return (
                f"{self.row} edge moved from {format_edge(self.baseline, self.unit)} "
                f"to {format_edge(self.current, self.unit)}"
            )
        where = format_edge(self.current, self.unit)
        return f"{self.row} edge at {where} (documented {format_edge(self.documented, self.unit)})"


def compare_edges(baseline: RunResults, current: RunResults) -> tuple[EdgeDrift, ...]:
    rows = sorted(set(baseline.edges) | set(current.edges))
    return tuple(_drift(row, baseline.edges.get(row), current.edges.get(row)) for row in rows)


def _drift(row: str, before: MeasuredEdge | None, after: MeasuredEdge | None) -> EdgeDrift:
    reference = after or before
    assert reference is not None  # the row came from one of the two runs
    return EdgeDrift(
        row=row,
        unit=reference.unit,
        documented=reference.documented,
        baseline=None if before is None else before.measured,
        current=None if after is None else after.measured,
        requests=(None if before is None else before.requests, None if after is None else after.requests),
    )


def _bounds(value: int | Interval) -> tuple[float, float]:
    if isinstance(value, int):
        return value, value
    low, high = value
    return (float("-inf") if low is None else low), (float("inf") if high is None else high)


def format_edge(value: int | Interval | None, unit: str) -> str:
    """`300 s`, `[299, 301] s`, `>= 20001 ids` (beyond the searched range), `not measured`."""
    if value is None:
        return "not measured"
    if isinstance(value, int):
        return f"{value} {unit}"
    low, high = value
    if low is None:
        return "not found" if high is None else f"<= {high} {unit}"
    if high is None:
        return f">= {low} {unit}"
    return f"[{low}, {high}] {unit}"
