"""What the sandbox answers for one contract expectation.

An expectation may accept several codes (the sandbox answers the first), or leave the outcome to
the implementation (`undocumented`: the sandbox does what `sandbox_choice` says). Every other module
of the sandbox goes through `decide`, so this choice is made in one place.
"""

from __future__ import annotations

from conformance.contract import Expectation, Outcome

# The error table's row for "A rule failed, no specific code": what the sandbox answers where the
# contract asserts a status only (a non-JSON Content-Type) or a field is broken in a way no case names.
GENERIC_CODE = "VALIDATION_FAILED"


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


def code_of(outcome: Outcome) -> str | None:
    """The code to answer for an outcome: its first code when it is an error, else None."""
    if outcome.kind != "error":
        return None
    return outcome.codes[0] if outcome.codes else GENERIC_CODE


def decided_code(expectation: Expectation) -> str | None:
    return code_of(decide(expectation))
