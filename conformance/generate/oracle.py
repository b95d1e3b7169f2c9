"""The oracle: what the contract says any conforming API answers to a request in a given state.

It reads the request itself (not a label the strategy attached), finds every rule the request
breaks, and returns the set of acceptable responses. Which error wins when several rules are broken
is undocumented, so every broken rule's outcome is acceptable; a request breaking an undocumented
rule is recorded, never judged. This is the suite's prediction of each rule; the sandbox's
implementation of the same rules lives apart, so that a wrong rule in one is caught by the other.

The rules come in families, each a pure function of the question (`Ask`: the request, the world,
the server's time) that says which rules the request breaks and which it meets: `FAMILIES`, below,
orders them. A request that breaks none is answered by its activity's state (`success_rules`).
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.core.clock import ServerTime
from conformance.core.exchange import Request
from conformance.generate.ask import Ask
from conformance.generate.expected import Expected, Finding, alternatives_of, meeting
from conformance.generate.field_rules import fields
from conformance.generate.request_rules import account, request_shape
from conformance.generate.state_rules import state
from conformance.generate.success_rules import success
from conformance.generate.world import World

Family = Callable[[Ask], Finding]

# The order of the sandbox's check groups (behaviour.yaml precedence.sandbox_choice: account, body,
# fields, insider_ids, ends_at_window, target_devices, lifecycle; the field family holds the four in
# the middle). Any order would accept the same answers, since every broken rule's outcome is
# acceptable; this one fixes the order of the alternatives, and so which rule a results case names
# (`matched`: the first alternative an answer meets) and its `rows`: changing it changes results
# files. The state comes last, as the sandbox's lifecycle group does: it needs a parsed body and a
# well-formed activity_id, and its refusal counts only beside another broken rule (a request that
# breaks nothing else is answered by the state in full, in `success_rules`).
FAMILIES: tuple[Family, ...] = (account, request_shape, fields, state)


def expected_outcome(world: World, request: Request, when: ServerTime) -> Expected:
    """The acceptable responses to `request`, sent to a target in the state `world` describes."""
    injected = world.pending_rows.get(request.endpoint)
    if injected is not None:
        return _injected(world, injected)  # the target was told to answer this row, whatever is asked
    ask = Ask.of(world, request, when)
    findings = {family: family(ask) for family in FAMILIES}
    if any(finding.broken for family, finding in findings.items() if family is not state):
        return _from_broken(ask, tuple(findings.values()))
    # Nothing broken but, perhaps, the state's rule: the state answers, with all it decides.
    assert ask.body is not None  # no body rule broken means the body parsed to an object
    return meeting(success(ask, ask.body), (e for f in findings.values() for e in f.met))


def _from_broken(ask: Ask, findings: tuple[Finding, ...]) -> Expected:
    broken = [b for f in findings for b in f.broken]
    return Expected(
        alternatives=tuple(a for b in broken for a in alternatives_of(ask.behaviour, b.rule, b.expectation)),
        rules=tuple(b.rule for b in broken),
        recorded_only=any(not b.expectation.asserted for b in broken),
        undocumented=tuple(
            b.expectation.id for b in broken if not b.expectation.asserted and b.expectation.id
        ),
    )


def injected_rule(row: str) -> str:
    """The rule of a row the target was told to produce: `injected:<row>`."""
    return f"injected:{row}"


def _injected(world: World, row: str) -> Expected:
    behaviour = world.contract.behaviour
    expectation = next((f.expectation for f in behaviour.fault_only if f.row == row), None)
    if expectation is None and row == behaviour.rate_limit.row:
        expectation = behaviour.rate_limit.expectation
    if expectation is None:
        raise ValueError(f"no fault expectation for row {row}")
    rule = injected_rule(row)
    return Expected(tuple(alternatives_of(behaviour, rule, expectation)), (rule,))
