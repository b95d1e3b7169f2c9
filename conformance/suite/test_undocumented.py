"""Behaviour no source documents: probed and recorded, never asserted.

Each probe of behaviour.yaml (and each undocumented lifecycle cell and field case) is sent once; the
results file records what the target answered, and only a change between runs is news (the drift
report's job). A lifecycle cell or field case needs no code here: its request is the endpoint's valid
one, on an activity in the cell's state or with the field broken. A named probe with no builder here
fails loudly, so a new probe in the contract is noticed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.contract import Contract, load_contract
from conformance.contract.model import Behaviour, State
from conformance.contract.rules import ProbeId
from conformance.core.exchange import Request
from conformance.generate.bodies import push_body, segment_body
from conformance.generate.strategies import FieldBreak
from conformance.suite.valid import activity_for, need_of_state, valid_body
from conformance.targets.arrange import Arranger

Builder = Callable[[Arranger], Request]
LIFECYCLE = "lifecycle"  # a probe id `lifecycle:<endpoint>:<state>`: a cell the lifecycle leaves open
DUPLICATES = "insider-ids-duplicates"


def _mismatched_type(arrange: Arranger) -> Request:
    activity = arrange.register()
    body = segment_body(activity, [arrange.profile.syncing_insiders()[0].insider_id])
    body = {**body, "activity_type": activity.activity_type + "Other"}
    return Request(arrange.contract.roles.adds_to_segment, body)


def _unknown_field(arrange: Arranger) -> Request:
    activity = arrange.register()
    return Request(arrange.contract.roles.starts, push_body(activity, conformance_probe_field=True))


def _no_matching_target(arrange: Arranger) -> Request:
    activity = arrange.register()
    pair = {"insider_id": "conformance-not-in-segment", "udid": "conformance-no-such-device"}
    return Request(arrange.contract.roles.starts, push_body(activity, target_devices=[pair]))


def _missing_key(arrange: Arranger) -> Request:
    activity = arrange.register()
    return Request(arrange.contract.roles.starts, push_body(activity), account="missing_key")


def _duplicate_ids(arrange: Arranger) -> Request:
    insider = arrange.profile.syncing_insiders()[0].insider_id
    activity = arrange.register()
    return Request(arrange.contract.roles.adds_to_segment, segment_body(activity, [insider, insider]))


PROBES: dict[str, Builder] = {
    ProbeId.MISMATCHED_ACTIVITY_TYPE: _mismatched_type,
    ProbeId.UNKNOWN_REQUEST_FIELDS: _unknown_field,
    ProbeId.START_WITH_NO_MATCHING_TARGET: _no_matching_target,
    ProbeId.BODIES_OF_401_AND_503: _missing_key,
}


def _in_state(endpoint: str, state: State) -> Builder:
    """A valid request of `endpoint` on an activity in `state`."""

    def build(arrange: Arranger) -> Request:
        activity = activity_for(arrange, endpoint, need_of_state(arrange.contract, state))
        return Request(endpoint, valid_body(arrange.verifier, endpoint, activity))

    return build


def _broken(broken: FieldBreak, endpoint: str) -> Builder:
    """A valid request of `endpoint` with one field broken as an undocumented field case says."""

    def build(arrange: Arranger) -> Request:
        activity = activity_for(arrange, endpoint)
        return Request(endpoint, broken.apply(valid_body(arrange.verifier, endpoint, activity)))

    return build


def _unknown(probe: str) -> Builder:
    def build(_: Arranger) -> Request:
        raise AssertionError(f"behaviour.yaml has probe {probe!r} but the suite has no request for it")

    return build


def _builders(behaviour: Behaviour) -> dict[str, Builder]:
    """Every probe the contract asks for, with the request that asks it."""
    builders = {p.id: PROBES.get(p.id) or _unknown(p.id) for p in behaviour.probes}
    for t in behaviour.lifecycle.transitions.values():
        if not t.expectation.asserted:
            builders[f"{LIFECYCLE}:{t.endpoint}:{t.state}"] = _in_state(t.endpoint, t.state)
    for rule in behaviour.field_rules:
        for case, expectation in rule.cases.items():
            if not expectation.asserted:
                broken = FieldBreak(rule.id, rule.field, case)
                builders[f"{rule.id}:{case}"] = _broken(broken, rule.endpoints[0])
    if not behaviour.insider_ids.duplicates.asserted:
        builders[DUPLICATES] = _duplicate_ids
    return builders


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "probe" not in metafunc.fixturenames:
        return
    contract = load_contract(metafunc.config.getoption("contracts"))
    probes = [pytest.param(p, marks=_synced(contract, p)) for p in _builders(contract.behaviour)]
    metafunc.parametrize("probe", probes)


def _synced(contract: Contract, probe: str) -> list[pytest.MarkDecorator]:
    """The sync pool's marker for a probe whose request needs a synced activity (`activity_for`): on
    an ended one, or a push that is not about the activity's state."""
    behaviour = contract.behaviour
    states = {
        f"{LIFECYCLE}:{t.endpoint}:{t.state}": t.state for t in behaviour.lifecycle.transitions.values()
    }
    fields = {f"{r.id}:{case}": r.endpoints[0] for r in behaviour.field_rules for case in r.cases}
    ended = states.get(probe) == contract.ended_state
    gated = fields.get(probe) in behaviour.sync_gate.endpoints
    return [pytest.mark.synced] if ended or gated else []


def test_undocumented_behaviour_is_recorded(arrange: Arranger, probe: str) -> None:
    """What the target does where the docs are silent is sent and recorded, not judged."""
    build = _builders(arrange.contract.behaviour)[probe]
    arrange.verifier.verify(build(arrange), case=f"probe {probe}", probe=True)
