"""Finding where a target puts a numeric edge: gallop out from the documented value, then bisect.

Pure search, no request: `test_edge_probes.py` gives it a probe that asks the target which side of
the edge a value falls on, and the self-tests give it thresholds of their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from conformance.judging.results import Interval, Unit


@dataclass(frozen=True)
class Seen:
    """One probe: the bounds of the value the server saw, and on which side of the edge it fell."""

    low: float
    high: float
    beyond: bool  # on the side of the larger values


@dataclass(frozen=True)
class EdgeSearch:
    """One edge: its row, the documented value, and the first value the documents put beyond it."""

    row: str
    unit: Unit
    documented: int
    first_beyond: int  # documented + 1 where the edge value itself is on the near side
    code_marks_beyond: bool  # a maximum: the row's code is beyond; a minimum: it is on the near side
    low: int = 1

    @property
    def high(self) -> int:
        return 2 * self.documented

    @property
    def request_bound(self) -> int:
        """Galloping from the documented edge to an end of the range, then bisecting the last step."""
        return 2 * math.ceil(math.log2(self.high - self.low + 1)) + 2


def find_switch(
    probe: Callable[[int], Seen], start: int, low: int, high: int
) -> tuple[Seen | None, Seen | None]:
    """The last probe on the near side and the first one beyond, both in [low, high].

    None on one side: the switch lies outside the range on that side. Answers are assumed monotone
    (near below the edge, beyond above it); `probe` is asked each value at most once.
    """
    asked: dict[int, Seen] = {}

    def at(value: int) -> Seen:
        if value not in asked:
            asked[value] = probe(value)
        return asked[value]

    start = min(max(start, low + 1), high)
    step = 1
    if at(start).beyond:
        near, beyond = start - 1, start
        while at(near).beyond:
            if near == low:
                return None, at(low)
            beyond, step = near, step * 2
            near = max(low, start - step)
    elif start == high:
        return at(high), None
    else:
        near, beyond = start, start + 1
        while not at(beyond).beyond:
            if beyond == high:
                return at(high), None
            near, step = beyond, step * 2
            beyond = min(high, start + step)
    while beyond - near > 1:
        middle = (near + beyond) // 2
        if at(middle).beyond:
            beyond = middle
        else:
            near = middle
    return at(near), at(beyond)


def first_beyond(near: Seen | None, beyond: Seen | None) -> Interval:
    """Where the first whole value beyond the edge lies, given what the server may have seen.

    The near probe was seen below it and the beyond probe at or above it: on an exact clock the
    interval is one value wide.
    """
    lowest = None if near is None else math.floor(near.low) + 1
    highest = None if beyond is None else math.floor(beyond.high)
    if lowest is not None and highest is not None and lowest > highest:
        lowest, highest = highest, lowest  # answers that are not monotone: keep the interval honest
    return lowest, highest
