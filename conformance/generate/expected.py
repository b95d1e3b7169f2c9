"""What the oracle answers with: the acceptable responses to one request, and the rules behind them.

The rule families (`request_rules`, `field_rules`, `state_rules`, `success_rules`) build these
values; `oracle` orders the families and joins their findings; the checks judge a response against
the alternatives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

from conformance.contract.model import LEVELS, Behaviour, Expectation, Level, Outcome

ABSENT = "<absent>"


@dataclass(frozen=True)
class AtLeast:
    """A body fact the documentation bounds from below only (e.g. `refreshed`, whose scope is a reading)."""

    minimum: int

    def holds(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= self.minimum

    def __str__(self) -> str:
        return f"an integer >= {self.minimum}"


COUNT = AtLeast(0)  # a counter the documentation names but whose value it leaves open


@dataclass(frozen=True)
class Present:
    """A body field the documented response schema requires, whatever its value."""

    def holds(self, value: Any) -> bool:
        return value is not ABSENT

    def __str__(self) -> str:
        return "present"


PRESENT = Present()
Fact = AtLeast | Present  # a fact about a field that is not one exact value


@dataclass(frozen=True)
class Alternative:
    """One acceptable response: a success with body facts, or an error status with codes.

    `codes` are row ids or extra codes; an error alternative without codes asserts the status only.
    `body` maps a dotted response field to the value it must have (`ABSENT`: must not be there; an
    `AtLeast`: a bound only). A key `a+b` is the sum of the fields `a` and `b`.
    `reading` names the option of an open point this alternative takes, so the results say which one
    the target took. `expectations` are the ids of the contract's expectations (behaviour.yaml) a
    response meeting this alternative shows kept: what a results case says it judged.
    """

    kind: Literal["ok", "error"]
    status: int
    rule: str
    level: Level
    codes: tuple[str, ...] = ()
    body: Mapping[str, Any] = field(default_factory=dict)
    reading: str = ""
    expectations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expected:
    """The acceptable responses to one request, and why."""

    alternatives: tuple[Alternative, ...]
    rules: tuple[str, ...]
    recorded_only: bool = False
    note: str = ""
    # Ids of the undocumented expectations the request falls under: recorded, never judged.
    undocumented: tuple[str, ...] = ()

    @property
    def level(self) -> Level:
        """The weakest level among the rules involved: a verdict is only as sure as its reading."""
        return max((a.level for a in self.alternatives), key=LEVELS.index, default="undocumented")


class Broken(NamedTuple):
    """A rule a request breaks: the rule's name in results and failures, and what the contract says."""

    rule: str
    expectation: Expectation


@dataclass(frozen=True)
class Finding:
    """What one rule family finds in a request: the rules it breaks, and the expectations it meets
    (judged only when the request breaks nothing, with the answer the state gives)."""

    broken: tuple[Broken, ...] = ()
    met: tuple[Expectation, ...] = ()


def meeting(expected: Expected, met: Iterable[Expectation]) -> Expected:
    """`expected`, each of whose alternatives also shows `met` kept: rules a request falls under
    without their deciding its answer (the key's account, the activity's state, a broadcast)."""
    ids = tuple(e.id for e in met)
    alternatives = tuple(replace(a, expectations=(*a.expectations, *ids)) for a in expected.alternatives)
    return replace(expected, alternatives=alternatives)


def alternatives_of(behaviour: Behaviour, rule: str, expectation: Expectation) -> list[Alternative]:
    """The responses an expectation accepts: its error or success, else each side of its conflict."""
    outcome = expectation.outcome
    if outcome.kind == "error" and outcome.status is not None:
        return [
            Alternative(
                "error",
                outcome.status,
                rule,
                expectation.level,
                outcome.codes,
                expectations=(expectation.id,),
            )
        ]
    if outcome.kind == "ok":
        return [
            Alternative(
                "ok", behaviour.success_status, rule, expectation.level, expectations=(expectation.id,)
            )
        ]
    sides = [side.outcome for side in expectation.conflict if side.outcome is not None]
    return [
        Alternative(
            s.kind if s.kind == "ok" else "error",
            s.status or behaviour.success_status,
            rule,
            expectation.level,
            s.codes,
            expectations=(expectation.id,),
        )
        for s in sides
        if s.kind in ("ok", "error")
    ]


def unstated(what: str) -> Expectation:
    """An expectation for a case behaviour.yaml does not state: recorded, never asserted."""
    return Expectation(
        outcome=Outcome(kind="unknown"), level="undocumented", sources=(), note=f"not stated: {what}"
    )
