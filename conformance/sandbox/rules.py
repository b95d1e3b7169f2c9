"""What the sandbox answers for one contract expectation.

An expectation may accept several codes (the sandbox answers the first), leave the outcome to the
implementation (`undocumented`: the sandbox does what `sandbox_choice` says), or fix a status only
(the sandbox answers behaviour.yaml's `sandbox_fallback_code`). Every other module of the sandbox
goes through `decide` and `Codes`, so these choices are made in one place.
"""

from __future__ import annotations

from conformance.contract import Expectation, Outcome
from conformance.contract.model import Behaviour


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
    """The code the sandbox answers for an outcome: its first code, or, where the contract fixes a
    status only, behaviour.yaml's `sandbox_fallback_code` (also the answer to a request that breaks a
    field in a way no case names)."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.fallback = behaviour.sandbox_fallback_code

    def of(self, outcome: Outcome) -> str | None:
        """None when the outcome is no error."""
        if outcome.kind != "error":
            return None
        return outcome.codes[0] if outcome.codes else self.fallback

    def decided(self, expectation: Expectation) -> str | None:
        return self.of(decide(expectation))
