"""The state family: the lifecycle and the sync gate, as rules a request can break.

Beside another broken rule, the state of the activity a request names may refuse it too, and which
check an API runs first is undocumented: so the state's refusal is one more acceptable answer (404
after /end, 409 after /start); in a state the docs leave open (/end on REGISTERED), the answer is
only recorded. A request that breaks nothing else is answered by the state in full
(`success_rules`), which is where its probes, counters and gate outcomes are read.
"""

from __future__ import annotations

from conformance.contract.model import State
from conformance.generate.ask import Ask
from conformance.generate.expected import Broken, Finding
from conformance.generate.field_rules import field_case


def lifecycle_rule(endpoint: str, state: State) -> str:
    """The rule an endpoint falls under in a state: `lifecycle:<endpoint>:<state>`."""
    return f"lifecycle:{endpoint}:{state}"


def sync_gate_rule(endpoint: str) -> str:
    """The sync gate of an endpoint: `sync-gate:<endpoint>`; its outcomes add `:none-synced` and so on."""
    return f"sync-gate:{endpoint}"


def state(ask: Ask) -> Finding:
    """The state's refusal of a request that names an activity (none for one that creates it, or
    whose activity_id is broken: the field rules judge that)."""
    body = ask.body
    creates = ask.endpoint == ask.contract.roles.creates_activity
    if body is None or creates or field_case(body, "activity_id", "string") is not None:
        return Finding()
    activity = ask.activity
    now = ask.state_of(activity)
    expectation = ask.behaviour.lifecycle.transition(ask.endpoint, now).expectation
    # An error the state documents may win; so may whatever a state the docs leave open answers;
    # so may the sync gate, where no device may have synced yet.
    if not expectation.asserted or expectation.outcome.kind == "error":
        return Finding(broken=(Broken(lifecycle_rule(ask.endpoint, now), expectation),))
    if expectation.outcome.kind == "sync_gate" and activity is not None and not ask.synced(activity):
        gate = ask.behaviour.sync_gate
        return Finding(broken=(Broken(f"{sync_gate_rule(ask.endpoint)}:none-synced", gate.none_synced),))
    return Finding()
