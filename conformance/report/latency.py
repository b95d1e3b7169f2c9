"""Latency percentiles per endpoint, from the cases' measured round trips."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from conformance.judging.results import RunResults


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50: float
    p95: float
    p99: float
    max: float


@dataclass(frozen=True)
class EndpointLatency:
    endpoint: str
    baseline: Percentiles | None  # None: no timed request to it in that run
    current: Percentiles | None


def percentiles(values: Sequence[float]) -> Percentiles | None:
    """Nearest-rank percentiles (each one a latency that was measured), in milliseconds."""
    if not values:
        return None
    ordered = sorted(values)

    def rank(p: int) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return Percentiles(len(ordered), rank(50), rank(95), rank(99), ordered[-1])


def run_latency(results: RunResults) -> tuple[tuple[str, Percentiles], ...]:
    """Each endpoint's percentiles in one run, endpoints in the order they ran."""
    return tuple((e, p) for e, values in _by_endpoint(results).items() if (p := percentiles(values)))


def compare_latency(baseline: RunResults, current: RunResults) -> tuple[EndpointLatency, ...]:
    before, after = _by_endpoint(baseline), _by_endpoint(current)
    endpoints = list(dict.fromkeys([*after, *before]))
    return tuple(
        EndpointLatency(e, percentiles(before.get(e, [])), percentiles(after.get(e, []))) for e in endpoints
    )


def _by_endpoint(results: RunResults) -> dict[str, list[float]]:
    found: dict[str, list[float]] = defaultdict(list)
    for case in results.cases:
        if case.latency_ms is not None and case.endpoint:
            found[case.endpoint].append(case.latency_ms)
    return found
