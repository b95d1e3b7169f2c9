"""The rule families read before any field: who asks (the account), and the body's shape.

Like every family, each is a pure function of an `Ask`: the rules the request breaks, and the
expectations it meets. Rule names come from the contract (a body rule's `id`, an account state).
"""

from __future__ import annotations

from conformance.generate.ask import Ask
from conformance.generate.expected import Broken, Finding


def account_rule(state: str) -> str:
    """The rule a key of account state `state` falls under: `account:<state>`."""
    return f"account:{state}"


def account(ask: Ask) -> Finding:
    """A key of an account state the API refuses (one whose expectation is not a success) is refused,
    whatever the request."""
    state = ask.request.account
    expectation = ask.behaviour.accounts[state]
    if not ask.account_answered:
        return Finding(broken=(Broken(account_rule(state), expectation),))
    return Finding(met=(expectation,))


def request_shape(ask: Ask) -> Finding:
    """A body that is not JSON, not a JSON object, or an object with no field (behaviour.yaml `body`);
    and a Content-Type that is not JSON, whatever the body."""
    behaviour = ask.behaviour
    cases = ask.shape.cases if ask.json_content_type else ("wrong_content_type", *ask.shape.cases)
    rules = (behaviour.body_rule(case) for case in cases)
    return Finding(broken=tuple(Broken(rule.id, rule.expectation) for rule in rules))
