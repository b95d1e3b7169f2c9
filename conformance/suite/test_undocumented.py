"""Behaviour no source documents: probed and recorded, never asserted.

Each probe of behaviour.yaml (and each undocumented lifecycle cell and field case) is sent once; the
results file records what the target answered, and only a change between runs is news (the drift
report's job). A probe with no builder here fails loudly, so a new probe in the contract is noticed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.contract import load_contract
from conformance.exchange import Request
from conformance.targets.target import Verifier

Builder = Callable[[Verifier], Request]


def _mismatched_type(v: Verifier) -> Request:
    activity = v.register()
    body = v.segment_body(activity, [v.profile.syncing_insiders()[0].insider_id])
    return Request("add-users", {**body, "activity_type": activity.activity_type + "Other"})


def _unknown_field(v: Verifier) -> Request:
    activity = v.register()
    return Request("start", v.push_body(activity, conformance_probe_field=True))


def _no_matching_target(v: Verifier) -> Request:
    activity = v.register()
    pair = {"insider_id": "conformance-not-in-segment", "udid": "conformance-no-such-device"}
    return Request("start", v.push_body(activity, target_devices=[pair]))


def _missing_key(v: Verifier) -> Request:
    activity = v.register()
    return Request("start", v.push_body(activity), account="missing_key")


def _end_on_registered(v: Verifier) -> Request:
    return Request("end", v.push_body(v.register()))


def _update_without(name: str) -> Builder:
    def build(v: Verifier) -> Request:
        activity = v.register()
        v.start(activity)
        v.wait_for_sync()
        body = v.push_body(activity)
        body["content"] = {k: val for k, val in body["content"].items() if k != name}
        return Request("update", body)

    return build


def _duplicate_ids(v: Verifier) -> Request:
    insider = v.profile.syncing_insiders()[0].insider_id
    activity = v.register()
    return Request("add-users", v.segment_body(activity, [insider, insider]))


PROBES: dict[str, Builder] = {
    "mismatched-activity-type": _mismatched_type,
    "unknown-request-fields": _unknown_field,
    "start-with-no-matching-target": _no_matching_target,
    "bodies-of-401-and-503": _missing_key,
    "lifecycle:end:REGISTERED": _end_on_registered,
    "content-title-on-update-end:missing": _update_without("title"),
    "content-message-on-update-end:missing": _update_without("message"),
    "insider-ids-duplicates": _duplicate_ids,
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "probe" not in metafunc.fixturenames:
        return
    behaviour = load_contract(metafunc.config.getoption("contracts")).behaviour
    ids = [p.id for p in behaviour.probes]
    ids += [
        f"lifecycle:{t.endpoint}:{t.state}"
        for t in behaviour.lifecycle.transitions.values()
        if not t.expectation.asserted
    ]
    ids += [f"{r.id}:{case}" for r in behaviour.field_rules for case, e in r.cases.items() if not e.asserted]
    ids += ["insider-ids-duplicates"] if not behaviour.insider_ids.duplicates.asserted else []
    metafunc.parametrize("probe", ids)


def test_undocumented_behaviour_is_recorded(conformance: Verifier, probe: str) -> None:
    """What the target does where the docs are silent is sent and recorded, not judged."""
    builder = PROBES.get(probe)
    assert builder is not None, f"behaviour.yaml has probe {probe!r} but the suite has no request for it"
    conformance.verify(builder(conformance), case=f"probe {probe}", probe=True)
