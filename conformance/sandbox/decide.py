"""What the sandbox answers for one contract expectation.

An expectation may accept several codes (the sandbox answers the first, or the last when the reading
several-codes-accepted is switched), leave the outcome to the
implementation (`undocumented`: the sandbox does what `sandbox_choice` says), or fix a status only
(the sandbox answers behaviour.yaml's `sandbox_fallback_code`). Every other module of the sandbox
goes through `decide` and `Codes`, so these choices are made in one place.
"""

from __future__ import annotations

from conformance.contract import Expectation, Outcome
from conformance.contract.model import Behaviour
from conformance.sandbox.readings import SEVERAL_CODES_ACCEPTED, Readings, resolve_readings


def decide(expectation: Expectation) -> Outcome:
    """The outcome the sandbox gives: the sandbox_choice where the level is undocumented, else the stated."""
    choice = expectation.sandbox_choice
    if expectation.level == "undocumented" and ("codes" in choice or "outcome" in choice):
        if "codes" in choice:
            return Outcome(kind="error", codes=tuple(choice["codes"]))
        return Outcome(kind=choice["outcome"])
    if expectation.outcome.kind == "unknown":
        raise ValueError(
            f"an expectation ({expectation.note or expectation.sources}) states no outcome to act on"
        )
    return expectation.outcome


class Codes:
    """The code the sandbox answers for an outcome: its first code (its last, under the reading
    several-codes-accepted=last), or, where the contract fixes a status only, behaviour.yaml's
    `sandbox_fallback_code` (also the answer to a request that breaks a field in a way no case names).
    `readings` default to the contract's."""

    def __init__(self, behaviour: Behaviour, readings: Readings | None = None) -> None:
        self.fallback = behaviour.sandbox_fallback_code
        readings = resolve_readings(behaviour) if readings is None else readings
        self._pick = -1 if readings.takes(SEVERAL_CODES_ACCEPTED, "last") else 0

    def of(self, outcome: Outcome) -> str | None:
        """None when the outcome is no error."""
        if outcome.kind != "error":
            return None
        return outcome.codes[self._pick] if outcome.codes else self.fallback

    def decided(self, expectation: Expectation) -> str | None:
        return self.of(decide(expectation))
